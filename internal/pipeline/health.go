package pipeline

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/event"
)

// startHealth publishes a health event every HealthEvery on a goroutine of
// its own, so that a watchdog keeps hearing from the run while the source
// is down; the returned function stops it.
func (p *Pipeline) startHealth(ctx context.Context) (stop func()) {
	if p.cfg.HealthEvery <= 0 {
		return func() {}
	}
	p.publishHealth()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, stopTimer := p.clock.NewTimer(p.cfg.HealthEvery)
			select {
			case <-ctx.Done():
				stopTimer()
				return
			case <-c:
				p.publishHealth()
			}
		}
	}()
	return func() { cancel(); <-done }
}

// publishHealth reports memory, goroutines, open Mats (in matprofile
// builds), frames read and the source's state.
func (p *Pipeline) publishHealth() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := p.Stats()
	h := &event.Health{Header: event.Header{Type: event.TypeHealth}, RSSMiB: rssMiB(), GoHeapMiB: float64(ms.HeapInuse) / (1 << 20),
		Goroutines: runtime.NumGoroutine(), FramesRead: st.FramesRead, Reconnects: st.Source.Reconnects, State: string(st.Status.State)}
	if n, ok := openMats(); ok {
		h.OpenMats = &n
	}
	p.bus.Publish(h)
}

// rssMiB is the resident set size now, from /proc/self/statm.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return float64(pages*int64(os.Getpagesize())) / (1 << 20)
}
