package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a clock whose time moves only when a test says so: Advance fires
// the timers that fall due, and Sleep returns at once, moving time by what
// it was asked to wait. It records every wait, so a test can check backoff
// without sleeping.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	slept  []time.Duration
	waits  chan time.Duration
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

// NewFake returns a Fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, waits: make(chan time.Duration, 1024)}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves time forward by d and fires the timers that fall due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	kept := f.timers[:0]
	for _, t := range f.timers {
		if t.at.After(f.now) {
			kept = append(kept, t)
			continue
		}
		t.c <- f.now
	}
	f.timers = kept
}

// NewTimer returns a timer that fires when Advance reaches now+d.
func (f *Fake) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{at: f.now.Add(d), c: make(chan time.Time, 1)}
	f.timers = append(f.timers, t)
	f.record(d)
	return t.c, func() bool { return f.stop(t) }
}

func (f *Fake) stop(t *fakeTimer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range f.timers {
		if p == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Sleep returns at once with ctx.Err(), after moving time forward by d
// (timers falling due fire).
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.slept = append(f.slept, d)
	f.record(d)
	f.mu.Unlock()
	f.Advance(d)
	return ctx.Err()
}

// Slept returns the durations Sleep was asked for, in order.
func (f *Fake) Slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

// Waits yields the duration of every timer and sleep as it is asked for,
// so a test can wait for the code under test to start waiting.
func (f *Fake) Waits() <-chan time.Duration { return f.waits }

// record must be called with f.mu held; past 1024 unread waits it drops
// rather than block the code under test.
func (f *Fake) record(d time.Duration) {
	select {
	case f.waits <- d:
	default:
	}
}
