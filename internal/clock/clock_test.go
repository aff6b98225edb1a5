package clock

import (
	"context"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		b    Backoff
		want []time.Duration
	}{
		{"no jitter", Backoff{Initial: 100 * ms, Max: time.Second, Jitter: -1},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
		{"full jitter at its top", Backoff{Initial: 100 * ms, Max: time.Second, Jitter: 1, Rand: func() float64 { return 0 }},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second}},
		{"half jitter at its bottom", Backoff{Initial: 100 * ms, Max: time.Second, Jitter: 0.5, Rand: func() float64 { return 1 }},
			[]time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms}},
		{"defaults", Backoff{Rand: func() float64 { return 0 }},
			[]time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second}},
		{"cap below initial", Backoff{Initial: time.Second, Max: 100 * ms, Jitter: -1},
			[]time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for n, want := range tt.want {
				if got := tt.b.Delay(n); got != want {
					t.Errorf("Delay(%d) = %v, want %v", n, got, want)
				}
			}
			for _, n := range []int{-1, 29, 30, 63, 64, 1000} {
				if got := tt.b.Delay(n); got <= 0 || got > tt.b.WithDefaults().Max {
					t.Errorf("Delay(%d) = %v, outside (0, cap]", n, got)
				}
			}
		})
	}
	// Real jitter stays within [d/2, d] and varies.
	seen := map[time.Duration]bool{}
	for range 50 {
		d := Backoff{Initial: 100 * ms, Max: time.Second}.Delay(3)
		if d < 400*ms || d > 800*ms {
			t.Fatalf("jittered Delay(3) = %v, want 400..800 ms", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("jitter too regular: %d distinct delays in 50", len(seen))
	}
}

func TestFake(t *testing.T) {
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	f := NewFake(start)
	early, _ := f.NewTimer(time.Second)
	late, _ := f.NewTimer(3 * time.Second)
	stopped, stop := f.NewTimer(2 * time.Second)
	if !stop() || stop() {
		t.Error("stop: want true for a pending timer, then false")
	}
	fired := func(c <-chan time.Time) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	f.Advance(999 * ms)
	if fired(early) {
		t.Error("timer fired early")
	}
	f.Advance(ms)
	if !fired(early) {
		t.Error("timer did not fire when due")
	}
	if err := f.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Errorf("Sleep = %v", err)
	}
	if !fired(late) || fired(stopped) {
		t.Error("Sleep must fire the timers falling due, and never a stopped one")
	}
	if got, want := f.Now(), start.Add(3*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	if got := f.Slept(); len(got) != 1 || got[0] != 2*time.Second {
		t.Errorf("Slept = %v", got)
	}
	var waits []time.Duration
	for len(f.Waits()) > 0 {
		waits = append(waits, <-f.Waits())
	}
	if len(waits) != 4 || waits[3] != 2*time.Second {
		t.Errorf("Waits = %v, want the three timers and the sleep", waits)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Sleep(ctx, time.Second); err != context.Canceled {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
}

func TestRealSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Real{}).Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	if err := (Real{}).Sleep(context.Background(), ms); err != nil {
		t.Errorf("Sleep = %v", err)
	}
}
