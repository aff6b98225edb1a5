package inspect

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

// BenchmarkInspect measures Inspect with the sample export on a 1280×720
// photo, continuous mode, with 1 and 4 points of 227×227 pixels (the
// model's input size: no scaling) and 1 point of 320×240; ms/inspection is
// the cost of one point's verdict, what each point adds to an analysed
// frame on the frame loop; cpu-ms/inspection is the process's CPU time
// for it (every thread: ONNX Runtime's two), which a busy machine inflates
// less than the wall time. With Offload (4 points), loop-ms/frame is what
// Inspect costs the frame loop: the crops are classified on goroutines.
//
//	go test -run '^$' -bench Inspect -benchtime 200x ./internal/inspect/
func BenchmarkInspect(b *testing.B) {
	photo := readImage(b, filepath.Join(sharedDir(b), "azure/images/customvision-windows_test_image.jpg"))
	frame := gocv.NewMat()
	defer frame.Close()
	gocv.Resize(photo, &frame, image.Pt(1280, 720), 0, 0, gocv.InterpolationArea)
	b.Run("predict-only/227x227", func(b *testing.B) {
		// The export alone on the same crop: what Inspect adds is the rest.
		in := newInspector(b, []scene.Inspection{hemlockPoint(b, "p", "")}, Options{})
		roi := frame.Region(image.Rect(40, 200, 267, 427))
		defer roi.Close()
		start, cpu := time.Now(), cpuTime()
		n := 0
		for b.Loop() {
			if _, err := in.models[0].predict(context.Background(), roi); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/inspection")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/inspection")
	})
	for _, bc := range []struct {
		points  int
		w, h    int
		offload bool
	}{{1, 227, 227, false}, {4, 227, 227, false}, {1, 320, 240, false}, {4, 227, 227, true}} {
		name := fmt.Sprintf("points=%d/%dx%d", bc.points, bc.w, bc.h)
		if bc.offload {
			name = "offload/" + name
		}
		b.Run(name, func(b *testing.B) {
			var pts []scene.Inspection
			for i := range bc.points {
				p := hemlockPoint(b, fmt.Sprintf("p%d", i), scene.ModeContinuous)
				x := 40 + i*300
				p.Rect = []float64{float64(x) / 1280, 200.0 / 720, float64(bc.w) / 1280, float64(bc.h) / 720}
				pts = append(pts, p)
			}
			in := newInspector(b, pts, Options{Offload: bc.offload})
			var out []event.Event
			k := 0
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			for b.Loop() {
				ts := time.Duration(k) * 40 * time.Millisecond
				out = in.Inspect(context.Background(), Frame{At: event.AtFrame(int64(k), ts), T: ts, Mat: frame}, out[:0])
				k++
			}
			if bc.offload { // the frame loop's cost: Inspect hands the crops over
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(k), "loop-ms/frame")
				in.Drain(context.Background(), nil)
				return
			}
			n := float64(k * bc.points)
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/n, "ms/inspection")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/n, "cpu-ms/inspection")
		})
	}
}

// cpuTime is the CPU time the process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
