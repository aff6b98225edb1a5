package inspect

import (
	"context"
	"fmt"
	"image"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/text"
)

// point is an inspection point's state.
type point struct {
	cfg       scene.Inspection
	model     *model
	threshold float64
	perTrack  bool
	offloaded bool // classified on goroutines (cloud, or Options.Offload)

	// The region placed on frames of w×h pixels: its corners and the
	// rectangle around them that is classified.
	w, h    int
	polygon []image.Point
	rect    image.Rectangle

	verdict      Verdict
	tally        tally
	lastErr      string // the latest failure said, until a verdict
	lastFailCrop string

	// Offloaded: a call in flight, when the last one went, and (per_track)
	// the tracks waiting for one, in the order they settled.
	busy     bool
	lastSent time.Time
	waiting  []int
	missed   int // per_track tracks that left before their call could go

	tracks map[int]*trackState // per_track
}

func newPoint(cfg scene.Inspection, m *model, offload bool) *point {
	p := &point{cfg: cfg, model: m, threshold: cfg.ReviewThreshold(), perTrack: cfg.InspectMode() == scene.ModePerTrack, offloaded: m.cloud || offload}
	if p.perTrack {
		p.tracks = map[int]*trackState{}
	}
	return p
}

// place puts the region in pixels of a w×h frame.
func (p *point) place(w, h int) {
	if w == p.w && h == p.h {
		return
	}
	p.w, p.h = w, h
	p.polygon = p.polygon[:0]
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range p.cfg.Region() {
		x, y := q.X*float64(w), q.Y*float64(h)
		p.polygon = append(p.polygon, image.Pt(int(math.Round(x)), int(math.Round(y))))
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	p.rect = image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).
		Intersect(image.Rect(0, 0, w, h))
}

// crop returns a view of the region's rectangle in m (no copy; the caller
// closes it), or an error when the region is not on the frame or too
// small to classify. A polygon's surroundings are classified with it:
// classifiers are trained on rectangles.
func (p *point) crop(m gocv.Mat) (gocv.Mat, error) {
	r := p.rect.Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if r.Dx() < MinCrop || r.Dy() < MinCrop {
		return gocv.Mat{}, fmt.Errorf("the region is %d×%d pixels of the %d×%d frame: at least %d×%d are needed to classify it",
			max(r.Dx(), 0), max(r.Dy(), 0), m.Cols(), m.Rows(), MinCrop, MinCrop)
	}
	return m.Region(r), nil
}

// failed says why p could not be judged, once until it is judged again or
// the reason changes; the last verdict stands.
func (p *point) failed(at event.At, err error, out []event.Event) []event.Event {
	msg := text.OneLine("inspection "+p.cfg.Name+": "+err.Error(), 0)
	if msg == p.lastErr {
		return out
	}
	p.lastErr = msg
	return append(out, &event.AnalysisError{Header: event.Header{Type: event.TypeAnalysisError},
		Frame: at.Frame, Source: p.model.source(), Error: msg})
}

// trackState is a per_track point's knowledge of one track.
type trackState struct {
	n        int           // analyses in a row inside, near ref
	since    time.Duration // the first of them
	ref      image.Point   // where the anchor was then
	lastSeen time.Duration
	inside   bool // on the latest analysis it was seen on
	queued   bool // waiting for its call off the loop
	done     bool // inspected (or its call sent): never again
}

// inspectTracks follows f's tracks in p's region and judges each one that
// settles, once: inline, or queued for a call off the loop.
func (in *Inspector) inspectTracks(ctx context.Context, p *point, f *Frame, now time.Time, out []event.Event) []event.Event {
	w, h := f.Width, f.Height
	if w <= 0 || h <= 0 {
		w, h = f.Mat.Cols(), f.Mat.Rows()
	}
	for _, tr := range f.Tracks {
		st := p.track(tr.ID)
		if !in.settled(p, st, tr.Box, w, h, f.T) || st.done || st.queued {
			continue
		}
		if p.offloaded {
			st.queued = true
			p.waiting = append(p.waiting, tr.ID)
			continue
		}
		before := len(out)
		out = in.classifyLocal(ctx, p, f, tr.ID, now, out)
		st.done = len(out) > before && isVerdict(out[len(out)-1])
	}
	p.forget(f.T)
	return out
}

func isVerdict(e event.Event) bool {
	_, ok := e.(*event.Inspection)
	return ok
}

func (p *point) track(id int) *trackState {
	st, ok := p.tracks[id]
	if !ok {
		st = &trackState{}
		p.tracks[id] = st
	}
	return st
}

// settled observes a track's box (in a w×h frame) at t and reports whether
// it has settled in the region (Settle).
func (in *Inspector) settled(p *point, st *trackState, box image.Rectangle, w, h int, t time.Duration) bool {
	st.lastSeen = t
	c := box.Min.Add(box.Max).Div(2)
	st.inside = p.cfg.Contains(scene.Point{X: float64(c.X) / float64(w), Y: float64(c.Y) / float64(h)})
	if !st.inside {
		st.n = 0
		return false
	}
	s := in.opts.Settle
	drift := s.Drift * float64(min(box.Dx(), box.Dy()))
	if st.n == 0 || math.Hypot(float64(c.X-st.ref.X), float64(c.Y-st.ref.Y)) > drift {
		st.n, st.since, st.ref = 0, t, c
	}
	st.n++
	return st.n >= s.Analyses && t-st.since >= s.Time
}

// forget drops the tracks not seen for pruneAfter, and the waiting tracks
// that left the region, or were not seen for goneAfter, before their call
// went (missed).
func (p *point) forget(t time.Duration) {
	for id, st := range p.tracks {
		if t-st.lastSeen > pruneAfter {
			delete(p.tracks, id)
		}
	}
	kept := p.waiting[:0]
	for _, id := range p.waiting {
		st, ok := p.tracks[id]
		if ok && st.inside && t-st.lastSeen <= goneAfter {
			kept = append(kept, id)
			continue
		}
		if ok {
			st.queued = false
		}
		p.missed++
	}
	p.waiting = kept
}
