// Package clock is Sightline's one source of time and of retry spacing.
// Each package declares the small Clock interface it needs (analyzer: Now;
// video: Now and NewTimer; azure: Now and Sleep); Real satisfies them all in
// production and Fake in tests, which pass times instead of sleeping.
package clock

import (
	"context"
	"math/rand/v2"
	"time"
)

// Real is the wall clock.
type Real struct{}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }

// NewTimer fires once after d; stop releases it early.
func (Real) NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Sleep waits for d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the latter case.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Backoff spaces retries: capped exponential growth with random jitter, so
// that many clients failing together (viewers of a restarting camera, apps
// throttled by one Azure resource) do not retry in lockstep.
type Backoff struct {
	Initial time.Duration // first delay; default 250 ms
	Max     time.Duration // cap; default 5 s
	// Jitter is the fraction of each delay that is random: a delay d
	// becomes a uniform pick in [d·(1−Jitter), d], so the cap is never
	// exceeded. Default 0.5; negative means none.
	Jitter float64
	// Rand returns a number in [0,1); default math/rand.
	Rand func() float64
}

// WithDefaults fills the zero fields.
func (b Backoff) WithDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 250 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = 0.5
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		b.Jitter = 1
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Delay is the wait before retry n (0 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	b = b.WithDefaults()
	d := b.Max
	if n < 30 { // beyond, the shift overflows and the cap applies anyway
		if e := b.Initial << max(n, 0); e > 0 && e < b.Max {
			d = e
		}
	}
	return d - time.Duration(b.Jitter*b.Rand()*float64(d))
}
