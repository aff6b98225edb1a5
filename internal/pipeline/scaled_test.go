package pipeline_test

import (
	"context"
	"fmt"
	"image"
	"sync"
	"testing"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video/videotest"
)

// sizes is the local backend, noting the size of every frame it gets.
type sizes struct {
	*local.Backend
	mu   sync.Mutex
	seen map[image.Point]int
}

func (s *sizes) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	s.mu.Lock()
	s.seen[image.Pt(img.Mat.Cols(), img.Mat.Rows())]++
	s.mu.Unlock()
	return s.Backend.Analyze(ctx, img, req)
}

// playDemo runs the demo's first frames through local detection, every
// frame analysed, with an output that reads the frames or none, and
// returns each frame's analysis and the frame sizes the detector got.
func playDemo(t *testing.T, features analyzer.Features, withOutput bool) (map[int64]*event.Analysis, map[image.Point]int) {
	t.Helper()
	b := &sizes{Backend: local.New(local.Options{Threads: 1, Detectors: 2}), seen: map[image.Point]int{}}
	defer b.Close()
	p, evs := newPipeline(t, pipeline.Config{Source: videotest.DemoVideo, EveryFrame: true, MaxFrames: 30,
		Schedule: schedule.Options{Local: b, Mode: schedule.ModeLocal, Features: features, LocalWorkers: 2},
		Filter:   overlay.Filter{Threshold: local.DefaultThreshold}})
	if withOutput {
		p.Attach("reads frames", pipeline.FrameFunc(func(f *pipeline.Frame) error {
			if f.Clean.Cols() != 768 {
				return fmt.Errorf("an output got a %dx%d frame", f.Clean.Cols(), f.Clean.Rows())
			}
			return nil
		}))
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Events().Close()
	got := map[int64]*event.Analysis{}
	for _, e := range evs.all {
		if a, ok := e.(*event.Analysis); ok {
			got[a.Frame] = a
		}
	}
	return got, b.seen
}

// With nothing but the detector reading the frames, they are decoded at
// the model's size, and the events say what they said at full size:
// the source's size, and boxes in its pixels where they were.
func TestScaledDecodeKeepsBoxesInSourcePixels(t *testing.T) {
	boxes := analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople}
	full, fullSizes := playDemo(t, boxes, true)
	scaled, scaledSizes := playDemo(t, boxes, false)
	_, facesSizes := playDemo(t, analyzer.Features{analyzer.FeatureObjects, analyzer.FeatureFaces}, false)
	for _, c := range []struct {
		name string
		seen map[image.Point]int
		want image.Point
	}{{"an output attached", fullSizes, image.Pt(768, 576)}, {"nothing attached", scaledSizes, image.Pt(416, 312)},
		{"faces asked for", facesSizes, image.Pt(768, 576)}} {
		if len(c.seen) != 1 || c.seen[c.want] == 0 {
			t.Errorf("%s: the detector got frames of %v, want %v", c.name, c.seen, c.want)
		}
	}
	if len(scaled) != len(full) || len(full) < 25 {
		t.Fatalf("%d frames analysed scaled, %d at full size", len(scaled), len(full))
	}
	matched, confident := 0, 0
	for seq, f := range full {
		s := scaled[seq]
		if s == nil || s.Data.Metadata != f.Data.Metadata {
			t.Fatalf("frame %d: scaled %+v, full size %+v", seq, s, f)
		}
		for _, o := range f.Data.Objects {
			if o.Confidence < 0.5 {
				continue
			}
			confident++
			for _, so := range s.Data.Objects {
				if so.Name == o.Name && iou(so.BoundingBox, o.BoundingBox) > 0.8 {
					matched++
					break
				}
			}
		}
	}
	t.Logf("%d of %d confident boxes found again in the scaled frames", matched, confident)
	// A box near the threshold may come and go with the resampling.
	if confident == 0 || float64(matched) < 0.95*float64(confident) {
		t.Errorf("%d of %d confident boxes found again in the scaled frames", matched, confident)
	}
}

func iou(a, b analyzer.BoundingBox) float64 {
	ix := max(0, min(a.X+a.W, b.X+b.W)-max(a.X, b.X))
	iy := max(0, min(a.Y+a.H, b.Y+b.H)-max(a.Y, b.Y))
	inter := float64(ix * iy)
	return inter / (float64(a.W*a.H+b.W*b.H) - inter)
}
