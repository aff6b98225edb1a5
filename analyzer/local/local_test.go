package local

import (
	"context"
	"image"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

// Several detectors answer concurrent analyses exactly as one does, never
// number more than asked for, and are all released by Close.
func TestBackendParallelDetectors(t *testing.T) {
	img := readImage(t, opencvData+"messi5.jpg")
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags}}

	single := New(Options{Threads: 1})
	want, err := single.Analyze(context.Background(), analyzer.Image{Mat: img}, req)
	single.Close()
	if err != nil {
		t.Fatal(err)
	}

	b := New(Options{Threads: 1, Detectors: 2})
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 2 {
				got, err := b.Analyze(context.Background(), analyzer.Image{Mat: img}, req)
				switch {
				case err != nil:
					errs <- err
				case !reflect.DeepEqual(got, want):
					t.Errorf("parallel analysis %+v differs from a single one %+v", got, want)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b.mu.Lock()
	made := b.made
	b.mu.Unlock()
	if made < 1 || made > 2 {
		t.Errorf("%d detectors made, want 1 or 2", made)
	}
	b.Close()
	if b.made != 0 || len(b.idle) != 0 {
		t.Errorf("after Close: %d detectors made, %d idle; want none", b.made, len(b.idle))
	}
}

// A detector whose model panics goes back to the pool: the next analysis
// must not wait forever for it.
func TestBackendDetectorReturnedAfterPanic(t *testing.T) {
	b := New(Options{Threads: 1})
	defer b.Close()
	img := readImage(t, opencvData+"messi5.jpg")
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects}}
	y, err := b.Detector()
	if err != nil {
		t.Fatal(err)
	}
	saved := y.classes
	y.classes = nil // Detect indexes class names: it panics
	func() {
		defer func() { _ = recover() }()
		_, _ = b.Analyze(context.Background(), analyzer.Image{Mat: img}, req)
		t.Error("Analyze did not panic")
	}()
	y.classes = saved
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Analyze(ctx, analyzer.Image{Mat: img}, req); err != nil {
		t.Errorf("after a panic: %v (the detector was not returned)", err)
	}
}

// Frames may be scaled down to the detector's letterbox only for what the
// detector alone answers, and only when that is smaller.
func TestBackendFrameSize(t *testing.T) {
	b := New(Options{Threads: 1})
	defer b.Close()
	fs := func(f ...analyzer.Feature) analyzer.Features { return f }
	tests := []struct {
		name   string
		fs     analyzer.Features
		w, h   int
		want   image.Point
		wantOK bool
	}{
		{"objects and people, 768x576", fs(analyzer.FeatureObjects, analyzer.FeaturePeople), 768, 576, image.Pt(416, 312), true},
		{"tags, 4K", fs(analyzer.FeatureTags), 3840, 2160, image.Pt(416, 234), true},
		{"already small", fs(analyzer.FeatureObjects), 320, 240, image.Point{}, false},
		{"faces need the picture", fs(analyzer.FeatureObjects, analyzer.FeatureFaces), 768, 576, image.Point{}, false},
		{"text needs the picture", fs(analyzer.FeatureRead), 768, 576, image.Point{}, false},
		{"smart crops weigh faces", fs(analyzer.FeatureSmartCrops), 768, 576, image.Point{}, false},
		{"nothing asked", nil, 768, 576, image.Point{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := b.FrameSize(tt.fs, tt.w, tt.h)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("FrameSize = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// An analysis of a frame scaled down for the detector reports the full
// frame's size and boxes in its pixels; features that need the full
// picture are refused rather than answered from the small one.
func TestBackendAnalyzesScaledFrames(t *testing.T) {
	b := New(Options{Threads: 1})
	defer b.Close()
	img := readImage(t, opencvData+"messi5.jpg")
	full := image.Pt(img.Cols(), img.Rows())
	size, ok := b.FrameSize(analyzer.Features{analyzer.FeatureObjects}, full.X, full.Y)
	if !ok {
		t.Fatal("no frame size for objects")
	}
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, size, 0, 0, gocv.InterpolationArea)
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople}}
	want, err := b.Analyze(context.Background(), analyzer.Image{Mat: img}, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Analyze(context.Background(), analyzer.Image{Mat: small, Full: full}, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata != want.Metadata {
		t.Errorf("metadata %+v, want the full frame's %+v", got.Metadata, want.Metadata)
	}
	for _, w := range want.Objects {
		if w.Confidence < 0.5 {
			continue
		}
		if !slices.ContainsFunc(got.Objects, func(o analyzer.Object) bool {
			return o.Name == w.Name && boxIoU(o.BoundingBox, w.BoundingBox) > 0.85
		}) {
			t.Errorf("no %s near %+v in the scaled frame's %+v", w.Name, w.BoundingBox, got.Objects)
		}
	}
	faces := analyzer.Request{Features: analyzer.Features{analyzer.FeatureFaces}}
	if _, err := b.Analyze(context.Background(), analyzer.Image{Mat: small, Full: full}, faces); err == nil {
		t.Error("faces were looked for in a scaled-down frame")
	}
}
