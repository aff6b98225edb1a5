package inspect

import (
	"time"

	"github.com/sightline/sightline/internal/event"
)

// RateMinutes is how many minutes of verdicts the panel's rates and yield
// cover: a ring of one bucket a minute, fixed in size however long the
// run.
const RateMinutes = 10

// tally counts a point's verdicts: in total, and a minute at a time on the
// stream's clock.
type tally struct {
	total   event.InspectionCount
	minutes [RateMinutes]minuteCount
	first   time.Duration // the first verdict's time
	seen    bool
}

type minuteCount struct {
	k int64 // which minute since the stream began
	c event.InspectionCount
}

func (t *tally) add(state string, at time.Duration) {
	if !t.seen {
		t.seen, t.first = true, at
	}
	k := int64(at / time.Minute)
	b := &t.minutes[k%RateMinutes]
	if b.k != k {
		*b = minuteCount{k: k}
	}
	count(&t.total, state)
	count(&b.c, state)
}

func count(c *event.InspectionCount, state string) {
	switch state {
	case StatePass:
		c.Pass++
	case StateFail:
		c.Fail++
	case StateReview:
		c.Review++
	}
}

// window fills a point view's per-minute counts, rate and yield as of now.
func (t *tally) window(now time.Duration, v *PointView) {
	v.Minutes = [RateMinutes]event.InspectionCount{}
	v.PerMinute, v.Yield, v.HasYield = 0, 0, false
	if !t.seen {
		return
	}
	k := int64(now / time.Minute)
	var sum event.InspectionCount
	for _, b := range t.minutes {
		if age := k - b.k; age >= 0 && age < RateMinutes {
			v.Minutes[age] = b.c
			sum.Pass, sum.Fail, sum.Review = sum.Pass+b.c.Pass, sum.Fail+b.c.Fail, sum.Review+b.c.Review
		}
	}
	// Over the minutes the window has covered so far, and at least one, so
	// that the first few verdicts do not read as a wild rate.
	covered := min(max(now-t.first, time.Minute), RateMinutes*time.Minute)
	v.PerMinute = float64(sum.Pass+sum.Fail+sum.Review) / covered.Minutes()
	if judged := sum.Pass + sum.Fail; judged > 0 {
		v.Yield, v.HasYield = 100*float64(sum.Pass)/float64(judged), true
	}
}
