package local

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

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
