package analyzer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// Result is a finished analysis with the frame it came from.
type Result struct {
	*Analysis
	Frame    int64  // sequence number of the analysed frame
	Source   string // backend that produced it
	Latency  time.Duration
	Finished time.Time
	Err      error
}

// Age is how old the result is at now.
func (r *Result) Age(now time.Time) time.Duration { return now.Sub(r.Finished) }

// Async analyses the newest frame offered while it is idle, in the
// background, so that a live view never waits for an analysis and never
// queues stale frames.
type Async struct {
	a   Analyzer
	req Request
	ctx context.Context

	mu     sync.Mutex
	busy   bool
	latest *Result
	meter  Meter
	wg     sync.WaitGroup
	// minInterval spaces analyses (an fps limit); zero means back to back.
	minInterval time.Duration
	lastStart   time.Time
}

// NewAsync returns an idle Async; analyses stop when ctx is cancelled.
func NewAsync(ctx context.Context, a Analyzer, req Request, fpsLimit float64) *Async {
	w := &Async{a: a, req: req, ctx: ctx}
	if fpsLimit > 0 {
		w.minInterval = time.Duration(float64(time.Second) / fpsLimit)
	}
	return w
}

// Offer starts analysing a copy of frame unless an analysis is running or
// the fps limit says wait. It reports whether the frame was taken.
func (w *Async) Offer(frame gocv.Mat, seq int64, now time.Time) bool {
	w.mu.Lock()
	if w.busy || w.ctx.Err() != nil || (w.minInterval > 0 && now.Sub(w.lastStart) < w.minInterval) {
		w.mu.Unlock()
		return false
	}
	w.busy, w.lastStart = true, now
	w.mu.Unlock()

	img := frame.Clone() // the caller goes on drawing into frame
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer img.Close()
		r := &Result{Frame: seq, Source: w.a.Name()}
		start := time.Now()
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.Err = fmt.Errorf("analyzer crashed: %v", p)
				}
			}()
			r.Analysis, r.Err = w.a.Analyze(w.ctx, Image{Mat: img}, w.req)
		}()
		r.Finished = time.Now()
		r.Latency = r.Finished.Sub(start)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.busy = false
		if r.Err == nil {
			w.meter.Add(r.Latency)
			w.latest = r
		} else if w.latest == nil || w.latest.Err != nil {
			w.latest = r
		}
	}()
	return true
}

// Latest returns the newest finished result, nil before the first.
func (w *Async) Latest() *Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.latest
}

// Meter returns the latency meter of successful analyses.
func (w *Async) Meter() *Meter { return &w.meter }

// Wait blocks until the running analysis, if any, has finished.
func (w *Async) Wait() { w.wg.Wait() }
