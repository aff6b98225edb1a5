package analyzer

import (
	"context"
	"sync/atomic"
	"time"
)

// Clock tells the time (internal/clock's Real, or Fake in tests).
type Clock interface{ Now() time.Time }

// QueueMeter adds up the time one analysis spent queued behind others for
// a model only one may use at a time, so that a caller running several
// analyses at once (the batch commands) reports each one's own time rather
// than its time in the queue.
type QueueMeter struct {
	clock  Clock
	queued atomic.Int64 // ns
}

// NewQueueMeter returns a meter that reads time from c.
func NewQueueMeter(c Clock) *QueueMeter { return &QueueMeter{clock: c} }

// Queued is the time spent waiting so far.
func (m *QueueMeter) Queued() time.Duration { return time.Duration(m.queued.Load()) }

type queueMeterKey struct{}

// WithQueueMeter returns a context whose analyses report their waits to m.
func WithQueueMeter(ctx context.Context, m *QueueMeter) context.Context {
	return context.WithValue(ctx, queueMeterKey{}, m)
}

// Queue marks the start of a wait for a shared model; the returned func
// marks its end. Without a meter in ctx it costs nothing.
func Queue(ctx context.Context) (done func()) {
	m, _ := ctx.Value(queueMeterKey{}).(*QueueMeter)
	if m == nil {
		return func() {}
	}
	start := m.clock.Now()
	return func() { m.queued.Add(int64(m.clock.Now().Sub(start))) }
}
