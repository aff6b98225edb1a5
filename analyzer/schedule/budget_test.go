package schedule

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// Whatever the frame rate, calls are spaced by 60/N seconds.
func TestBudgetSpacesCallsEvenly(t *testing.T) {
	for _, perMinute := range []float64{1, 6, 20, 60} {
		b := NewBudget(perMinute, 0)
		var calls []time.Time
		for now := t0; now.Before(t0.Add(10 * time.Minute)); now = now.Add(time.Second / 30) {
			if b.Take(now) {
				calls = append(calls, now)
			}
		}
		// Spacing is strict, so each call may slip by up to one frame.
		if got, want := len(calls), int(10*perMinute); got > want || float64(got) < 0.95*float64(want) {
			t.Errorf("%v/min: %d calls in 10 min, want %d (at most, and no fewer than 95%%)", perMinute, got, want)
		}
		interval := time.Duration(float64(time.Minute) / perMinute)
		for i := 1; i < len(calls); i++ {
			if gap := calls[i].Sub(calls[i-1]); gap < interval {
				t.Fatalf("%v/min: calls %v apart, want ≥ %v", perMinute, gap, interval)
			}
		}
	}
}

func TestBudgetPerDayAndRetryAfter(t *testing.T) {
	b := NewBudget(0, 3)
	n := 0
	for i := range 10 {
		if b.Take(t0.Add(time.Duration(i) * time.Second)) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d calls with a daily budget of 3", n)
	}
	if !b.Take(t0.Add(24 * time.Hour)) {
		t.Error("the daily budget did not renew the next day")
	}

	b = NewBudget(60, 0)
	b.Take(t0)
	b.Defer(t0.Add(30 * time.Second))
	if b.Take(t0.Add(29 * time.Second)) {
		t.Error("call before Retry-After")
	}
	if !b.Take(t0.Add(30 * time.Second)) {
		t.Error("no call after Retry-After")
	}
}

// A call that cost more tokens than it took (a three-page document) holds
// the next calls back by what it spent, and counts it in the day.
func TestBudgetSpend(t *testing.T) {
	tests := []struct {
		name      string
		spend     int
		nextAfter time.Duration // the next call goes at this point, not before
		usedDay   int
	}{
		{"one page", 0, 6 * time.Second, 1},
		{"three pages", 2, 18 * time.Second, 3},
		{"nothing more", -1, 6 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(10, 100) // one call every 6 s
			if !b.Take(t0) {
				t.Fatal("first call refused")
			}
			b.Spend(t0.Add(time.Second), tt.spend)
			if b.Ready(t0.Add(tt.nextAfter - time.Millisecond)) {
				t.Errorf("ready %v after the call", tt.nextAfter-time.Millisecond)
			}
			if !b.Ready(t0.Add(tt.nextAfter)) {
				t.Errorf("not ready %v after the call", tt.nextAfter)
			}
			if got := b.UsedToday(t0); got != tt.usedDay {
				t.Errorf("used today %d, want %d", got, tt.usedDay)
			}
		})
	}
}
