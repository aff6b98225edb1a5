package inspect

import (
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/event"
)

// callResult is a call off the frame loop (cloud, or offloaded) that
// came back.
type callResult struct {
	point *point
	at    event.At
	t     time.Duration
	track int
	crop  gocv.Mat // the copy that was sent; closed once applied
	preds []analyzer.Prediction
	err   error
}

// dispatch starts the calls off the frame loop that are due: those of
// offloaded local points, and the cloud's as far as the budget allows now,
// the point that waited longest first, so that points sharing the budget
// take turns. Each call takes a copy of the crop to a goroutine.
func (in *Inspector) dispatch(f *Frame, now time.Time, out []event.Event) []event.Event {
	for {
		p, track := in.nextCall(f.T, in.opts.Budget.Ready(now))
		if p == nil {
			return out
		}
		roi, err := p.crop(f.Mat)
		if err != nil {
			p.lastSent = now // its turn passes to the others
			return p.failed(f.At, err, out)
		}
		crop := roi.Clone()
		roi.Close()
		if p.model.cloud {
			in.opts.Budget.Take(now)
		}
		p.busy, p.lastSent = true, now
		if track != 0 { // the part's call is going: it is never inspected again
			p.tracks[track].done = true
			p.waiting = p.waiting[1:]
		}
		in.send(callResult{point: p, at: f.At, t: f.T, track: track, crop: crop})
	}
}

// nextCall is the offloaded point that wants a call on the frame at t and
// has waited longest since its last one, with the track the call is for
// (per_track); cloud points only when the budget is ready.
func (in *Inspector) nextCall(t time.Duration, budgetReady bool) (*point, int) {
	var next *point
	track := 0
	for _, p := range in.points {
		if !p.offloaded || p.busy || (p.model.cloud && !budgetReady) || (next != nil && !p.lastSent.Before(next.lastSent)) {
			continue
		}
		if !p.perTrack {
			next, track = p, 0
			continue
		}
		if id, ok := p.readyTrack(t); ok {
			next, track = p, id
		}
	}
	return next, track
}

// readyTrack is the first waiting track, if it is in the region on the
// frame at t (one that is not is still waiting, or gone: forget).
func (p *point) readyTrack(t time.Duration) (int, bool) {
	if len(p.waiting) == 0 {
		return 0, false
	}
	id := p.waiting[0]
	st := p.tracks[id]
	return id, st.lastSeen == t && st.inside
}

// inFlight is how many calls off the frame loop have not come back.
func (in *Inspector) inFlight() int {
	in.inboxMu.Lock()
	defer in.inboxMu.Unlock()
	return in.inflight
}

// send runs one call off the frame loop; its result waits in the inbox
// for the next Inspect or Drain.
func (in *Inspector) send(r callResult) {
	in.inboxMu.Lock()
	in.inflight++
	in.inboxMu.Unlock()
	in.calls.Add(1)
	go func() {
		defer in.calls.Done()
		r.preds, r.err = r.point.model.predict(in.ctx, r.crop)
		in.inboxMu.Lock()
		in.inflight--
		in.inbox = append(in.inbox, r)
		in.inboxMu.Unlock()
		select {
		case in.arrived <- struct{}{}:
		default:
		}
	}()
}

// collect applies the results of the calls that came back, in arrival
// order. A failed call leaves the last verdict standing; a throttled one
// holds the budget for the wait the service asked; a per_track part whose
// call failed is tried again while it is still in the region.
func (in *Inspector) collect(now time.Time, out []event.Event) []event.Event {
	in.inboxMu.Lock()
	results := in.inbox
	in.inbox = nil
	in.inboxMu.Unlock()
	for _, r := range results {
		p := r.point
		p.busy = false
		if r.err == nil {
			out = in.judged(p, r.preds, r.at, r.t, r.track, r.crop, now, out)
		} else {
			if t, ok := schedule.RetryAfter(r.err, now); ok {
				in.opts.Budget.Defer(t)
			}
			if st := p.tracks[r.track]; st != nil && r.track != 0 {
				st.done, st.queued = false, false
			}
			out = p.failed(r.at, r.err, out)
		}
		r.crop.Close()
	}
	return out
}
