package video

import "time"

// Clock is the time source of reconnect backoff and the open deadline.
// Tests inject a fake one and move time forward instead of sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer fires once after d; stop releases it early.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}
