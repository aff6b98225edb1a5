package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/video"
)

// drainGrace is how long the end of a run waits for analyses in flight: a
// cloud call hanging until its timeout must not hold up the end.
const drainGrace = 2 * time.Second

// finish stops the analysis, closes the outputs (recordings are
// finalised, also after Ctrl-C) and publishes the summary, last.
func (p *Pipeline) finish(ctx context.Context, err error) error {
	p.mu.Lock()
	sched, stop := p.sched, p.stopSch
	p.mu.Unlock()
	if sched != nil {
		done := make(chan struct{})
		go func() { sched.Wait(); close(done) }()
		c, stopTimer := p.clock.NewTimer(drainGrace)
		select {
		case <-done:
		case <-c:
		}
		stopTimer()
		stop()
		sched.Close()
	}
	p.closing.Wait()
	p.dropHeld()
	p.closeOutputs()
	if ctx.Err() != nil {
		p.setStatus(video.Status{State: video.StateStopped, Detail: stopReason(ctx), At: p.clock.Now()})
		err = nil
	}
	if p.cfg.HealthEvery > 0 {
		p.publishHealth()
	}
	st := p.Stats()
	sum := p.summary(st)
	// Tracks still open end, with their zone exits, before the summary;
	// verdicts still coming are waited for, briefly.
	p.publishScene(p.scene.finish(sum))
	p.finishInspections(sum)
	p.bus.Publish(sum)
	if err == nil && len(st.OutputErrors) > 0 {
		err = fmt.Errorf("%w: %s", ErrOutputFailed, describe(st.OutputErrors))
	}
	return err
}

// stopReason says why the run was stopped: the cause its context was
// cancelled with (--duration reached, a signal), else "interrupted".
func stopReason(ctx context.Context) string {
	switch c := context.Cause(ctx); {
	case c == nil || c == context.Canceled || c == context.DeadlineExceeded:
		return "interrupted"
	case errors.Is(c, context.Canceled): // a signal: say which
		return "interrupted (" + c.Error() + ")"
	default:
		return c.Error()
	}
}

func describe(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + m[n]
	}
	return strings.Join(parts, "; ")
}

// summary is the run's last event.
func (p *Pipeline) summary(st Stats) *event.Summary {
	sc := st.Schedule
	s := &event.Summary{Header: event.Header{Type: event.TypeSummary},
		FramesRead: st.FramesRead, FramesShown: st.FramesShown, FramesAnalyzed: sc.FramesAnalyzed,
		CloudCalls: sc.Cloud.Calls, CacheHits: sc.Cloud.CacheHits,
		Reconnects: st.Source.Reconnects, Dropped: st.Source.Dropped,
		LatencyP50: event.MS(st.LatencyP50), LatencyP95: event.MS(st.LatencyP95),
		LocalAnalyses: sc.Local.Calls - sc.Local.Errors, LocalErrors: sc.Local.Errors, CloudErrors: sc.Cloud.Errors,
		CacheHitRate: sc.HitRate(), CostUSD: sc.CostUSD, OutputErrors: st.OutputErrors,
	}
	s.Analyses = s.LocalAnalyses + s.CloudCalls - s.CloudErrors + s.CacheHits
	if elapsed := p.bus.Since().Seconds(); elapsed > 0 {
		s.ReadFPS = round1(float64(s.FramesRead) / elapsed)
		s.AnalyzedFPS = round1(float64(s.FramesAnalyzed) / elapsed)
	}
	return s
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// streamClock is the time of a file read as fast as possible: its
// presentation time. Budgets and the cache then behave as they would in
// real time, and the result does not depend on the machine's speed.
type streamClock struct {
	mu    sync.Mutex
	start time.Time
	pts   time.Duration
}

func (c *streamClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(c.pts)
}

func (c *streamClock) set(pts time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pts = max(c.pts, pts)
}
