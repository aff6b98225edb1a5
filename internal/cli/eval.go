package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/eval"
	"github.com/sightline/sightline/internal/text"
)

// evalLine is the `eval` command's line: the contract's fields, and the
// count of images that could not be analysed when there are some.
type evalLine struct {
	*eval.Result
	FailedImages int `json:"failed_images,omitempty"`
}

func cmdEval(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	datasetPath := fs.String("dataset", "", "COCO detection JSON of the labelled images")
	imagesDir := fs.String("images", "", "folder the dataset's file names are relative to")
	backendName := fs.String("backend", "local", "local (YOLOX, or the export of --model) or azure")
	model := fs.String("model", "", "folder of a Custom Vision object detection export, instead of YOLOX")
	iou := fs.Float64("iou", eval.DefaultIoU, "overlap a detection needs to count as found, for the thresholds and curves")
	curves := fs.String("curves", "", "write each class's precision, recall and F1 against threshold to this JSON file")
	workers := fs.Int("workers", runtime.NumCPU(), "images analysed in parallel")
	retries := fs.Int("retries", 3, "retries of a failed cloud call")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q (eval reads the images of --dataset)", rest[0])
	case *datasetPath == "" || *imagesDir == "":
		return usagef("--dataset FILE (COCO detection JSON) and --images DIR are both needed")
	case !(*iou > 0 && *iou <= 1):
		return usagef("--iou %g must be in (0, 1]", *iou)
	}
	ds, err := dataset.Read(*datasetPath)
	if err != nil {
		return usagef("%v", err)
	}
	if st, err := os.Stat(*imagesDir); err != nil || !st.IsDir() {
		return usagef("--images %s is not a folder", *imagesDir)
	}
	detect, closeFn, err := newEvalDetector(e, *backendName, *model, *retries, *workers)
	if err != nil {
		return err
	}
	defer closeFn()
	opts := eval.RunOptions{Options: eval.Options{IoU: *iou}, Workers: *workers}
	if isTerminal(e.stderr) {
		opts.Progress = func(done, total int) { fmt.Fprintf(e.stderr, "\r%d/%d images", done, total) }
	}
	r, failures, unmatched, err := eval.Run(ctx, ds, *imagesDir, detect, opts)
	if opts.Progress != nil {
		fmt.Fprintln(e.stderr)
	}
	for _, f := range failures {
		fmt.Fprintf(e.stderr, "sightline eval: %s: %s\n", f.Image.FileName, text.OneLine(f.Err.Error(), 0))
	}
	if err != nil {
		return err
	}
	if unmatched > 0 && len(r.Classes) > 0 && allZero(r) {
		fmt.Fprintf(e.stderr, "sightline eval: no detection matched a box; %d were of classes the dataset does not have: are its category names the detector's?\n", unmatched)
	}
	return writeEval(e, r, len(failures), *curves)
}

// allZero reports whether no class found anything.
func allZero(r *eval.Result) bool {
	for _, c := range r.Classes {
		if c.Recall > 0 {
			return false
		}
	}
	return true
}

// writeEval writes the curves (when asked) and prints the line; some
// images failing is exit 1, the line still printed.
func writeEval(e env, r *eval.Result, failed int, curvesPath string) error {
	if curvesPath != "" {
		b, err := json.MarshalIndent(r.Curves(), "", " ")
		if err == nil {
			err = os.WriteFile(curvesPath, append(b, '\n'), 0o644)
		}
		if err != nil {
			return fmt.Errorf("writing the curves: %w", err)
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(evalLine{Result: r, FailedImages: failed}); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	if failed > 0 {
		return errSomeFailed
	}
	return nil
}

// newEvalDetector builds what eval runs on each image: local YOLOX, a
// local Custom Vision detector export (--model), or Azure's objects.
func newEvalDetector(e env, name, model string, retries, workers int) (eval.Detector, func(), error) {
	kind, err := backend.ParseKind(name)
	if err != nil {
		return nil, nil, configError(err)
	}
	switch {
	case model != "":
		if kind != backend.Local {
			return nil, nil, usagef("--model is a local export: drop --backend %s", name)
		}
		return customVisionDetector(model)
	case kind == backend.Local:
		detect, closeFn, err := backend.LocalDetector(workers)
		return detect, closeFn, configError(err)
	default:
		vision, err := visionFromEnv(e, retries)
		if err != nil {
			return nil, nil, err
		}
		a, err := backend.Vision(vision)
		if err != nil {
			return nil, nil, configError(err)
		}
		// The cloud's boxes come unfiltered, the low ones included.
		return backend.AnalyzerDetector(a, analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects}}), func() {}, nil
	}
}

// customVisionDetector detects with a local Custom Vision detector export.
func customVisionDetector(dir string) (eval.Detector, func(), error) {
	cv, err := local.NewCustomVision(dir)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	if !cv.IsDetector() {
		cv.Close()
		return nil, nil, usagef("%s is a classifier export; eval scores object detectors", dir)
	}
	return backend.PredictorDetector(cv), func() { cv.Close() }, nil
}
