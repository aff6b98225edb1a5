package eval

import "testing"

// A curve worked out by hand: five detections of one class, three boxes.
// Scores 0.9 ✓, 0.8 ✗, 0.7 ✓, 0.6 ✗, 0.5 ✓.
var handCurve = Curve{
	Threshold: []float64{0.9, 0.8, 0.7, 0.6, 0.5},
	Precision: []float64{1, 0.5, 2.0 / 3, 0.5, 0.6},
	Recall:    []float64{1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3, 1},
	F1:        []float64{0.5, 0.4, 2.0 / 3, 4.0 / 7, 0.75},
}

func TestCurveAt(t *testing.T) {
	tests := []struct {
		t    float64
		p, r float64
		ok   bool
	}{
		{0.95, 0, 0, false}, // nothing scores that high
		{0.9, 1, 1.0 / 3, true},
		{0.75, 0.5, 1.0 / 3, true}, // keeps 0.9 and 0.8
		{0.65, 2.0 / 3, 2.0 / 3, true},
		{0.5, 0.6, 1, true},
		{0.1, 0.6, 1, true},
	}
	for _, tt := range tests {
		p, r, _, ok := handCurve.At(tt.t)
		if ok != tt.ok || p != tt.p || r != tt.r {
			t.Errorf("At(%v) = %v, %v, %v; want %v, %v, %v", tt.t, p, r, ok, tt.p, tt.r, tt.ok)
		}
	}
}

func TestCurveForPrecision(t *testing.T) {
	tests := []struct {
		p         float64
		threshold float64
		recall    float64
		ok        bool
	}{
		{1, 0.9, 1.0 / 3, true},
		{0.9, 0.9, 1.0 / 3, true},
		{0.6, 0.5, 1, true}, // the lowest threshold still reaches 0.6
		{0.65, 0.7, 2.0 / 3, true},
		{0.5, 0.5, 1, true},
	}
	for _, tt := range tests {
		th, _, r, ok := handCurve.ForPrecision(tt.p)
		if th != tt.threshold || r != tt.recall || ok != tt.ok {
			t.Errorf("ForPrecision(%v) = %v (recall %v, %v); want %v (recall %v)", tt.p, th, r, ok, tt.threshold, tt.recall)
		}
	}
	if _, _, _, ok := (Curve{Threshold: []float64{0.5}, Precision: []float64{0.2}, Recall: []float64{1}, F1: []float64{0.33}}).ForPrecision(0.9); ok {
		t.Error("a precision never reached was found")
	}
}
