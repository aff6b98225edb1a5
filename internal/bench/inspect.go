package bench

import (
	"context"
	"fmt"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/scene"
)

// inspectSide is an inspection point's side in pixels: the sample export's
// input size, so crops are classified without scaling.
const inspectSide = 227

// inspectionPoints measures what inspection points cost with the local
// Custom Vision sample export: one inspection's time on a video frame, and
// the pipeline as `run --scene` builds it on a file with one and four
// points against none (the same scene otherwise), alternating.
func inspectionPoints(ctx context.Context, b *bench) error {
	model, err := deps.Model("customvision-classifier-sample")
	if err != nil {
		return err
	}
	wall, cpu, err := inspectionCost(ctx, model, b.frame, b.cfg.Repeats*20)
	if err != nil {
		return err
	}
	be, err := backend.Build(localDetection(local.BatchOptions()))
	if err != nil {
		return err
	}
	defer be.Close()
	counts := []int{0, 1, 4}
	rates := make([][]float64, len(counts))
	frames := min(b.cfg.Frames, 100) // four points slow a run several times: the section stays under 3 minutes
	for range b.cfg.Repeats {
		for i, n := range counts {
			r := fileRun{source: b.cfg.Source, frames: frames, opts: be.Schedule(),
				scene: &scene.Config{Inspections: pointsOn(model, n, b.frame.Cols(), b.frame.Rows())}}
			fps, err := r.fps(ctx)
			if err != nil {
				return fmt.Errorf("%d inspection points: %w", n, err)
			}
			rates[i] = append(rates[i], fps)
		}
	}
	rep := b.rep
	rep.figure(fmt.Sprintf("one inspection, sample export, %d×%[1]d px point", inspectSide), "ms", wall)
	rep.figure("CPU time of one inspection", "core-ms", cpu)
	none := rep.figure("pipeline with a scene, no inspection point", "fps", rates[0])
	for i, n := range counts[1:] {
		f := rep.figure("same, "+plural(n, "inspection point")+", every frame", "fps", rates[i+1])
		rep.ratio("pipeline with "+plural(n, "inspection point")+" / none", f.Median/none.Median, 0, "")
	}
	return nil
}

// inspectionCost times n inspections of one point on frame, as the
// pipeline makes them on a file (inline, every analysed frame): wall and
// CPU milliseconds of each.
func inspectionCost(ctx context.Context, model string, frame gocv.Mat, n int) (wall, cpu []float64, err error) {
	in, err := inspect.New(pointsOn(model, 1, frame.Cols(), frame.Rows()), inspect.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer in.Close()
	var out []event.Event
	for k := -1; k < n; k++ { // the first warms the model
		ts := time.Duration(k+1) * 100 * time.Millisecond
		t, c := time.Now(), cpuTime()
		out = in.Inspect(ctx, inspect.Frame{At: event.AtFrame(int64(k+1), ts), T: ts, Mat: frame}, out[:0])
		if k >= 0 {
			wall, cpu = append(wall, millis(time.Since(t))), append(cpu, millis(cpuTime()-c))
		}
		for _, e := range out {
			if ae, ok := e.(*event.AnalysisError); ok {
				return nil, nil, fmt.Errorf("inspection: %s", ae.Error)
			}
		}
	}
	return wall, cpu, nil
}

// pointsOn places n continuous inspection points with model side by side
// across the middle of a w×h frame, each inspectSide pixels square.
func pointsOn(model string, n, w, h int) []scene.Inspection {
	pw, ph := float64(inspectSide)/float64(w), float64(inspectSide)/float64(h)
	pts := make([]scene.Inspection, n)
	for i := range pts {
		x := 0.0
		if n > 1 {
			x = float64(i) * (1 - pw) / float64(n-1)
		}
		pts[i] = scene.Inspection{Name: fmt.Sprintf("point-%d", i+1), Rect: []float64{x, (1 - ph) / 2, pw, ph},
			Model: scene.InspectionModel{Dir: model}, Pass: []string{"hemlock"}, Mode: scene.ModeContinuous}
	}
	return pts
}
