package meter

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		xs      []float64
		p, want float64
	}{
		{nil, 50, 0},
		{[]float64{7}, 95, 7},
		{[]float64{3, 1, 2}, 50, 2},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95, 10},
		{[]float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0, 1},
	}
	for _, tt := range tests {
		if got := Percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}

func TestMeterWindow(t *testing.T) {
	var m Meter
	if m.Percentile(50) != 0 {
		t.Fatal("an empty meter's percentile is not 0")
	}
	for i := range meterWindow + 10 {
		m.Add(time.Duration(i) * time.Millisecond)
	}
	if m.Count() != meterWindow+10 {
		t.Fatalf("Count() = %d", m.Count())
	}
	// The oldest ten samples left the window.
	if got := m.Percentile(0); got != 10*time.Millisecond {
		t.Fatalf("smallest sample in the window = %v, want 10ms", got)
	}
}
