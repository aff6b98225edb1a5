package analyzer

import (
	"context"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/clock"
)

func TestQueueMeter(t *testing.T) {
	Queue(context.Background())() // no meter: nothing to do, nothing to fail

	clk := clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	m := NewQueueMeter(clk)
	ctx := WithQueueMeter(context.Background(), m)
	for _, wait := range []time.Duration{3 * time.Second, 250 * time.Millisecond} {
		done := Queue(ctx)
		clk.Advance(wait)
		done()
		clk.Advance(time.Second) // working, not queued
	}
	if got := m.Queued(); got != 3250*time.Millisecond {
		t.Errorf("Queued = %v, want 3.25s", got)
	}
}
