package analyzer

import "time"

// Clock tells the time. The scheduler, budget and cache take one so tests
// pass times instead of sleeping.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }
