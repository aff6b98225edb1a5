package eval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/sightline/sightline/internal/dataset"
)

// TestRun: every image is read and detected once, in parallel; class
// names match the dataset's case-insensitively, other classes are counted
// as unmatched; an image that fails is reported and left out, ground truth
// included.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	d := handDataset(3, gt{1, fork, boxA, false}, gt{2, fork, boxA, false}, gt{3, fork, boxA, false})
	for i := range d.Images {
		d.Images[i].FileName = []string{"a.jpg", "b.jpg", "missing.jpg"}[i]
	}
	for _, name := range []string{"a.jpg", "b.jpg"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var calls atomic.Int32
	detect := func(_ context.Context, im dataset.Image, data []byte) ([]Box, error) {
		calls.Add(1)
		if string(data) != im.FileName {
			t.Errorf("image %s got the bytes of %q", im.FileName, data)
		}
		if im.FileName == "b.jpg" {
			return []Box{{Name: "spoon", Score: 0.9, BBox: boxA}}, nil
		}
		return []Box{{Name: " Fork", Score: 0.8, BBox: boxA}}, nil
	}
	var progress atomic.Int32
	r, failures, unmatched, err := Run(context.Background(), d, dir, detect, RunOptions{Workers: 2,
		Progress: func(done, total int) {
			if total != 3 {
				t.Errorf("total %d", total)
			}
			progress.Add(1)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || progress.Load() != 3 || unmatched != 1 {
		t.Errorf("%d detections, %d progress calls, %d unmatched", calls.Load(), progress.Load(), unmatched)
	}
	if len(failures) != 1 || failures[0].Image.FileName != "missing.jpg" || !errors.Is(failures[0].Err, os.ErrNotExist) {
		t.Errorf("failures %+v", failures)
	}
	// Two images evaluated: a found, b missed. Recall 1/2 at precision 1.
	if f := r.Classes["fork"]; r.Images != 2 || f.GroundTruth != 2 || f.Recall != 0.5 || f.Precision != 1 {
		t.Errorf("result %+v", r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := Run(ctx, d, dir, detect, RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	if _, _, _, err := Run(context.Background(), d, t.TempDir(), detect, RunOptions{}); err == nil {
		t.Error("a run where no image could be read gave a result")
	}
}
