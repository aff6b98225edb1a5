package bench

import (
	"context"
	"math"
	"testing"
)

// A short run gives one inspection's time and the pipeline's rate with
// none, one and four points, and the two ratios.
func TestInspectionPoints(t *testing.T) {
	b, _ := testBench(t, 30)
	if err := inspectionPoints(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	rep := b.rep
	within(t, figureNamed(t, rep, "one inspection, sample export, 227×227 px point"), 0.1, 1000)
	within(t, figureNamed(t, rep, "CPU time of one inspection"), 0, 4000)
	for _, name := range []string{"pipeline with a scene, no inspection point", "same, 1 inspection point, every frame",
		"same, 4 inspection points, every frame"} {
		within(t, figureNamed(t, rep, name), 1, 1000)
	}
	for _, name := range []string{"pipeline with 1 inspection point / none", "pipeline with 4 inspection points / none"} {
		if r := ratioNamed(t, rep, name); r.Value < 0.05 || r.Value > 5 {
			t.Errorf("%+v", r)
		}
	}
}

// Points are the model's input size in pixels, side by side across the
// frame's middle, inside it.
func TestPointsOn(t *testing.T) {
	tests := []struct {
		n, w, h int
		xs      []float64
	}{
		{1, 768, 576, []float64{0}},
		{4, 768, 576, []float64{0, (1 - 227.0/768) / 3, 2 * (1 - 227.0/768) / 3, 1 - 227.0/768}},
		{2, 1280, 720, []float64{0, 1 - 227.0/1280}},
	}
	for _, tt := range tests {
		pts := pointsOn("/models/cv", tt.n, tt.w, tt.h)
		if len(pts) != tt.n {
			t.Fatalf("%d points, want %d", len(pts), tt.n)
		}
		for i, p := range pts {
			r := p.Rect
			if math.Abs(r[0]-tt.xs[i]) > 1e-9 || math.Abs(r[2]*float64(tt.w)-227) > 1e-9 || math.Abs(r[3]*float64(tt.h)-227) > 1e-9 ||
				math.Abs(r[1]+r[3]/2-0.5) > 1e-9 || r[0]+r[2] > 1+1e-9 || p.Model.Dir != "/models/cv" || p.Pass[0] != "hemlock" {
				t.Errorf("%dx%d, point %d of %d: %+v", tt.w, tt.h, i, tt.n, p)
			}
		}
	}
}
