package video

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/video/videotest"
)

const demoVideo = videotest.DemoVideo

// statusLog records the states a source reports.
type statusLog struct {
	mu  sync.Mutex
	all []Status
	ch  chan Status
}

func newStatusLog() *statusLog { return &statusLog{ch: make(chan Status, 1024)} }

func (l *statusLog) add(s Status) {
	l.mu.Lock()
	l.all = append(l.all, s)
	l.mu.Unlock()
	select {
	case l.ch <- s:
	default:
	}
}

func (l *statusLog) has(st State, detail string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.all {
		if s.State == st && strings.Contains(s.Detail, detail) {
			return true
		}
	}
	return false
}

// states lists the states reported, in order.
func (l *statusLog) states() []State {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []State
	for _, s := range l.all {
		out = append(out, s.State)
	}
	return out
}

// between lists the states reported after the first `from` and before the
// first `to` that follows it.
func (l *statusLog) between(from, to State) []State {
	all := l.states()
	i := slices.Index(all, from)
	if i < 0 {
		return nil
	}
	all = all[i+1:]
	if j := slices.Index(all, to); j >= 0 {
		all = all[:j]
	}
	return all
}

func (l *statusLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, s := range l.all {
		fmt.Fprintf(&b, "\n  %s %s", s.State, s.Detail)
	}
	return b.String()
}

// waitFor waits until a state is reported.
func (l *statusLog) waitFor(t testing.TB, st State, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for !l.has(st, "") {
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("no %q status within %v; got:%s", st, within, l)
		}
	}
}

// checkLeaks fails if goroutines or FFmpeg objects outlive the test body.
func checkLeaks(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		if n := avObjects.Load(); n != 0 {
			t.Errorf("%d FFmpeg objects not freed", n)
		}
	})
}

// readN reads n frames, releasing them, and returns their sequence numbers.
func readN(t testing.TB, src Source, n int, within time.Duration) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var seqs []int64
	for len(seqs) < n {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(seqs), err)
		}
		if f.Mat.Empty() || f.Mat.Cols() != src.Info().Width || f.Mat.Rows() != src.Info().Height {
			t.Fatalf("frame %d: bad picture %dx%d", f.Seq, f.Mat.Cols(), f.Mat.Rows())
		}
		seqs = append(seqs, f.Seq)
		f.Release()
	}
	return seqs
}
