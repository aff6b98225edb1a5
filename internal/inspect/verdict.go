package inspect

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sightline/sightline/analyzer"
)

// States of a verdict (the contract's inspection event).
const (
	StatePass   = "pass"
	StateFail   = "fail"
	StateReview = "review"
)

// Verdict is an inspection point's latest judgement.
type Verdict struct {
	State       string // pass, fail or review; "" before the first verdict
	Tag         string // the tag the state rests on ("" when a detector found nothing)
	Probability float64
	TrackID     int           // per_track: the part's track (track IDs start at 1); 0 otherwise
	At          time.Duration // the classified frame's T
	// Age is how old the verdict is on the latest frame Inspect saw (set
	// by View): a cloud verdict stands between calls, and says how long.
	Age time.Duration
}

// errNoPredictions is a classifier that answered nothing to judge.
var errNoPredictions = errors.New("the classifier returned no predictions")

// judge turns predictions into a state. A classifier's verdict rests on its
// top tag: review when its probability is under the threshold, else pass
// when it is one of the pass tags, else fail. A detector counts objects:
// one it is confident of (probability at least the threshold) that is not
// a pass tag fails the part; otherwise one confident pass tag passes it;
// otherwise the best candidate, when at least half the threshold, asks for
// a review; and nothing found fails it (tag "", the best candidate's
// probability).
func judge(preds []analyzer.Prediction, detector bool, pass []string, threshold float64) (Verdict, error) {
	if !detector {
		top, ok := best(preds, func(analyzer.Prediction) bool { return true })
		if !ok {
			return Verdict{}, errNoPredictions
		}
		v := Verdict{State: StateFail, Tag: top.Tag, Probability: top.Probability}
		switch {
		case top.Probability < threshold:
			v.State = StateReview
		case isPass(pass, top.Tag):
			v.State = StatePass
		}
		return v, nil
	}
	confident := func(p analyzer.Prediction) bool { return p.Probability >= threshold }
	if d, ok := best(preds, func(p analyzer.Prediction) bool { return confident(p) && !isPass(pass, p.Tag) }); ok {
		return Verdict{State: StateFail, Tag: d.Tag, Probability: d.Probability}, nil
	}
	if d, ok := best(preds, func(p analyzer.Prediction) bool { return confident(p) && isPass(pass, p.Tag) }); ok {
		return Verdict{State: StatePass, Tag: d.Tag, Probability: d.Probability}, nil
	}
	d, ok := best(preds, func(analyzer.Prediction) bool { return true })
	if ok && d.Probability >= threshold/2 {
		return Verdict{State: StateReview, Tag: d.Tag, Probability: d.Probability}, nil
	}
	return Verdict{State: StateFail, Probability: d.Probability}, nil
}

// best is the most probable prediction that keep accepts.
func best(preds []analyzer.Prediction, keep func(analyzer.Prediction) bool) (analyzer.Prediction, bool) {
	var top analyzer.Prediction
	found := false
	for _, p := range preds {
		if keep(p) && (!found || p.Probability > top.Probability) {
			top, found = p, true
		}
	}
	return top, found
}

// isPass reports whether tag is a pass tag; tags match whatever their case,
// as a scene's class names do.
func isPass(pass []string, tag string) bool {
	return slices.ContainsFunc(pass, func(p string) bool { return strings.EqualFold(p, tag) })
}
