package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sightline/sightline/internal/dataset"
)

// Box is a detection by class name, as detectors report them: [x, y, w,
// h] in the image's pixels.
type Box struct {
	Name  string
	Score float64
	BBox  [4]float64
}

// Detector finds the boxes in one dataset image, given its file's bytes.
type Detector func(ctx context.Context, im dataset.Image, data []byte) ([]Box, error)

// RunOptions configure Run.
type RunOptions struct {
	Options
	// Workers is how many images are detected at once (1 when 0).
	Workers int
	// Progress, when set, is called after each image with the count done.
	Progress func(done, total int)
}

// ImageFailure is an image that could not be read or detected.
type ImageFailure struct {
	Image dataset.Image
	Err   error
}

// Run detects boxes in every image of ds (files under imagesDir) with
// detect, and evaluates them. Boxes of classes the dataset does not have
// are left out (class names match case-insensitively); images that fail
// are left out of the evaluation, ground truth included, and returned.
// unmatched counts the boxes left out, so that a caller can warn when the
// detector's class names are not the dataset's.
func Run(ctx context.Context, ds *dataset.Dataset, imagesDir string, detect Detector, opts RunOptions) (r *Result, failures []ImageFailure, unmatched int, err error) {
	outcomes, err := detectAll(ctx, ds, imagesDir, detect, opts)
	if err != nil {
		return nil, nil, 0, err
	}
	var dets []Detection
	ids := []int64{}
	for i, o := range outcomes {
		im := ds.Images[i]
		if o.err != nil {
			failures = append(failures, ImageFailure{Image: im, Err: o.err})
			continue
		}
		ids = append(ids, im.ID)
		for _, b := range o.boxes {
			c, ok := ds.CategoryNamed(strings.TrimSpace(b.Name))
			if !ok {
				unmatched++
				continue
			}
			dets = append(dets, Detection{ImageID: im.ID, CategoryID: c.ID, Score: b.Score, BBox: b.BBox})
		}
	}
	if len(ids) == 0 {
		return nil, failures, unmatched, fmt.Errorf("eval: no image could be analysed (%s: %v)", failures[0].Image.FileName, failures[0].Err)
	}
	opts.Images = ids
	r, err = Evaluate(ds, dets, opts.Options)
	return r, failures, unmatched, err
}

// outcome is one image's boxes, or why there are none.
type outcome struct {
	boxes []Box
	err   error
}

// detectAll runs detect on every image with opts.Workers in parallel; the
// outcomes are in the dataset's image order.
func detectAll(ctx context.Context, ds *dataset.Dataset, imagesDir string, detect Detector, opts RunOptions) ([]outcome, error) {
	outcomes := make([]outcome, len(ds.Images))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range max(opts.Workers, 1) {
		wg.Go(func() {
			for i := range next {
				im := ds.Images[i]
				b, err := os.ReadFile(filepath.Join(imagesDir, filepath.FromSlash(im.FileName)))
				if err == nil {
					outcomes[i].boxes, err = detect(ctx, im, b)
				}
				outcomes[i].err = err
				mu.Lock()
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(ds.Images))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range ds.Images {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return outcomes, ctx.Err()
}
