package video

import (
	"math/rand/v2"
	"time"
)

// Clock is the time source of reconnect backoff and the open deadline.
// Tests inject a fake one and move time forward instead of sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer fires once after d; stop releases it early.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Backoff spaces reconnect attempts: capped exponential growth with random
// jitter, so that many viewers of a camera that restarts do not reconnect in
// lockstep.
type Backoff struct {
	Initial time.Duration // first delay; default 250 ms
	Max     time.Duration // cap; default 5 s
	// Jitter is the fraction of each delay that is random: a delay d
	// becomes a uniform pick in [d·(1−Jitter), d]. Default 0.5; negative
	// means none.
	Jitter float64
	// Rand returns a number in [0,1); default math/rand.
	Rand func() float64
}

func (b Backoff) withDefaults() Backoff {
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

// Delay is the wait before reconnect attempt n (0 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	b = b.withDefaults()
	d := b.Max
	if n < 30 { // beyond, the shift overflows and the cap applies anyway
		if e := b.Initial << n; e > 0 && e < b.Max {
			d = e
		}
	}
	return d - time.Duration(b.Jitter*b.Rand()*float64(d))
}
