package capture_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
)

// brightness finds one box whose confidence is the mean brightness of the
// frame it analysed, slowly, so that its results come frames late.
type brightness struct{}

func (brightness) Analyze(_ context.Context, img analyzer.Image, _ analyzer.Request) (*analyzer.Analysis, error) {
	time.Sleep(150 * time.Millisecond)
	return &analyzer.Analysis{Objects: []analyzer.Object{{Name: "lamp", Confidence: meanOf(img.Mat),
		BoundingBox: analyzer.BoundingBox{X: 10, Y: 10, W: 40, H: 40}}},
		Metadata: analyzer.Metadata{Width: img.Mat.Cols(), Height: img.Mat.Rows()}}, nil
}
func (brightness) Supports(analyzer.Feature) bool { return true }
func (brightness) Name() string                   { return "local" }

func meanOf(m gocv.Mat) float64 { return m.Mean().Val1 / 255 }

// On a real pipeline, whose results come frames after their frame was
// shown, the picture saved is the one analysed: its brightness is the
// confidence its record holds, on a clip that brightens every frame.
func TestCapturedPictureIsTheAnalysedOne(t *testing.T) {
	src := videotest.Make(t, "capture-ramp-160x120.mp4", "-f", "lavfi", "-i", "color=c=black:s=160x120:r=10:d=3",
		"-vf", "geq=lum='16+N*7':cb=128:cr=128", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "10")
	dir := t.TempDir()
	c, err := capture.New(dir, capture.Options{Band: 1, Sample: -1, MinGap: 500 * time.Millisecond, PerMinute: 100, VideoTime: true})
	if err != nil {
		t.Fatal(err)
	}
	bus := event.NewBus(clock.Real{}, "")
	bus.Attach(c)
	p, err := pipeline.New(pipeline.Config{Source: src, Video: video.Options{Realtime: true}, Events: bus,
		Schedule: schedule.Options{Local: brightness{}, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects}},
		Filter:   overlay.Filter{Threshold: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	p.Attach("capture", c)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	bus.Close()
	paths, _ := filepath.Glob(filepath.Join(dir, "*"+capture.SidecarExt))
	if len(paths) < 3 {
		t.Fatalf("%d frames saved from 3 s at one every 0.5 s, want at least 3", len(paths))
	}
	for _, path := range paths {
		rec, err := capture.ReadRecord(path)
		if err != nil {
			t.Fatal(err)
		}
		img := gocv.IMRead(filepath.Join(dir, rec.Image), gocv.IMReadColor)
		saved := meanOf(img)
		img.Close()
		// Neighbouring frames differ by 0.03.
		if analysed := rec.Predictions[0].Confidence; math.Abs(saved-analysed) > 0.01 {
			t.Errorf("frame %d: the picture saved has brightness %.3f, the one analysed %.3f", rec.Frame, saved, analysed)
		}
	}
}
