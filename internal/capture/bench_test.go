package capture

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
)

// What the capture costs the pipeline a 720p frame: when it keeps the
// frame for its result (the first frame after MinGap, every analysed frame
// with MinGap off) and when the limits let it skip the frame. The result
// holds no reason to save, so nothing is written.
func BenchmarkWriteFrame720p(b *testing.B) {
	for _, bc := range []struct {
		name string
		gap  time.Duration
	}{{"kept until its result", -1}, {"skipped within the gap", time.Hour}} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := New(b.TempDir(), Options{Clock: clock.NewFake(start), Sample: -1, MinGap: bc.gap, PerMinute: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			img := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
			defer img.Close()
			confident := &event.Analysis{Source: "local", Data: &analyzer.Analysis{Objects: []analyzer.Object{obj("person", 0.95, 80, 20, 30, 80)}}}
			// A save, so that the gap has started.
			c.lastSave = start
			b.ResetTimer()
			for i := range b.N {
				seq := int64(i + 1)
				c.WriteFrame(&pipeline.Frame{Seq: seq, Clean: img, Filter: live, Offered: localOnly})
				confident.Frame = seq
				c.Publish(confident)
			}
		})
	}
}

// What a saved 720p frame costs the writer's goroutine: JPEG, record,
// two files.
func BenchmarkSave720p(b *testing.B) {
	c, err := New(b.TempDir(), Options{Clock: clock.NewFake(start)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	img := gocv.IMRead("/usr/share/doc/opencv-doc/examples/data/messi5.jpg", gocv.IMReadColor)
	defer img.Close()
	gocv.Resize(img, &img, image.Pt(1280, 720), 0, 0, gocv.InterpolationLinear)
	own := &analyzer.Analysis{Objects: []analyzer.Object{obj("person", 0.55, 80, 20, 300, 600)}}
	b.ResetTimer()
	for i := range b.N {
		p := &pending{seq: int64(i), mat: img, local: own, wantLocal: true, localDone: true, reasons: []string{ReasonUncertain}}
		if err := c.save(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Stats().Bytes)/float64(b.N)/1024, "KiB/frame")
}
