package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/deps"
)

// testBench is a bench of frames a run and one repeat on the demo video,
// its progress kept.
func testBench(t *testing.T, frames int) (*bench, *bytes.Buffer) {
	t.Helper()
	frame, err := firstFrame(context.Background(), deps.DemoVideo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { frame.Close() })
	var progress bytes.Buffer
	return &bench{cfg: Config{Source: deps.DemoVideo, Frames: frames, Repeats: 1}, frame: frame,
		progress: &progress, rep: &Report{}}, &progress
}

// figureNamed is the report's figure called name, which must be there.
func figureNamed(t *testing.T, rep *Report, name string) Figure {
	t.Helper()
	return named(t, rep.Figures, name, func(f Figure) string { return f.Name })
}

// ratioNamed is the report's ratio called name, which must be there.
func ratioNamed(t *testing.T, rep *Report, name string) Ratio {
	t.Helper()
	return named(t, rep.Ratios, name, func(r Ratio) string { return r.Name })
}

func named[T any](t *testing.T, rows []T, name string, nameOf func(T) string) T {
	t.Helper()
	i := slices.IndexFunc(rows, func(r T) bool { return nameOf(r) == name })
	if i < 0 {
		t.Fatalf("no row %q in %+v", name, rows)
	}
	return rows[i]
}

// within checks that a figure's median lies in [lo, hi].
func within(t *testing.T, f Figure, lo, hi float64) {
	t.Helper()
	if f.Median < lo || f.Median > hi || f.Runs == 0 {
		t.Errorf("%s: median %v %s over %d runs, want %v to %v", f.Name, f.Median, f.Unit, f.Runs, lo, hi)
	}
}

// The new sections can be picked with --only.
func TestSectionsListed(t *testing.T) {
	ids := strings.Join(SectionIDs(), ",")
	for _, id := range []string{"plant", "inspect", "cameras", "eval"} {
		if !strings.Contains(ids, id) {
			t.Errorf("no section %q in %s", id, ids)
		}
	}
}

// A short scaling run gives every row of the table: the reference, each
// camera count's total, per-camera, slowest and fastest analysed fps, the
// pools compared and the evenness at 4 and 8 cameras. The demo video
// plays at 10 fps, so no camera can analyse more (give or take the pacing
// over so short a run: a camera measured 10.9 once).
func TestCameraScaling(t *testing.T) {
	const most = 11.5
	b, _ := testBench(t, 50)
	if err := cameraScaling(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	rep := b.rep
	within(t, figureNamed(t, rep, "1 file camera as fast as it decodes (reference)"), 1, 1000)
	for _, n := range cameraCounts {
		label := plural(n, "camera") + ", shared pool"
		total := figureNamed(t, rep, label+": total analysed")
		within(t, total, 0.1, most*float64(n))
		within(t, figureNamed(t, rep, label+": per camera"), total.Median/float64(n)*0.99, total.Median/float64(n)*1.01)
		slowest, fastest := figureNamed(t, rep, label+": slowest camera"), figureNamed(t, rep, label+": fastest camera")
		if slowest.Median <= 0 || slowest.Median > fastest.Median || fastest.Median > most {
			t.Errorf("%s: slowest %v, fastest %v fps", label, slowest.Median, fastest.Median)
		}
		within(t, Figure{Name: "ratio", Median: ratioNamed(t, rep, plural(n, "camera")+", total / the reference").Value, Runs: 1}, 0.001, 100)
	}
	within(t, figureNamed(t, rep, "4 cameras, a pool each: total analysed"), 0.1, 42)
	if r := ratioNamed(t, rep, "4 cameras: shared pool / a pool each"); r.Value <= 0 || r.Met != nil {
		t.Errorf("pools: %+v", r)
	}
	for _, n := range []int{4, 8} {
		if r := ratioNamed(t, rep, fmt.Sprintf("%d cameras: slowest / fastest camera", n)); r.Value <= 0 || r.Value > 1 || r.Met == nil {
			t.Errorf("evenness: %+v", r)
		}
	}
}

// The table's figures come from each run's cameras: totals, means,
// extremes, and the median run's evenness.
func TestCameraRatesFigures(t *testing.T) {
	runs := cameraRates{{4, 6}, {5, 5}, {2, 8}}
	var rep Report
	total := runs.add(&rep, "2 cameras")
	tests := []struct {
		name   string
		median float64
	}{
		{"2 cameras: total analysed", 10},
		{"2 cameras: per camera", 5},
		{"2 cameras: slowest camera", 4},
		{"2 cameras: fastest camera", 6},
	}
	for _, tt := range tests {
		if f := figureNamed(t, &rep, tt.name); f.Median != tt.median || f.Runs != 3 {
			t.Errorf("%s: %+v, want median %v over 3 runs", tt.name, f, tt.median)
		}
	}
	if total.Median != 10 {
		t.Errorf("total %+v", total)
	}
	if e := runs.evenness(); e != 4.0/6 {
		t.Errorf("evenness %v, want the median run's 4/6", e)
	}
}
