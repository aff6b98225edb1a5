package backend

import (
	"context"
	"fmt"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/eval"
)

// EvalThreshold is the confidence evaluations detect at: low, so that the
// curves reach every threshold a user might pick.
const EvalThreshold = 0.01

// LocalDetector is local YOLOX for evaluations, with its own sessions
// (workers that detect at once): `eval`, and the app beside its live
// view. closeFn releases the models.
func LocalDetector(workers int) (detect eval.Detector, closeFn func(), err error) {
	opts := local.BatchOptions()
	opts.Detectors = max(1, min(workers, opts.Detectors))
	b := local.New(opts)
	if err := b.Load(analyzer.Features{analyzer.FeatureObjects}); err != nil {
		b.Close()
		return nil, nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects}, Options: analyzer.Options{Threshold: EvalThreshold}}
	return AnalyzerDetector(b, req), func() { b.Close() }, nil
}

// AnalyzerDetector detects with an analyzer's objects, checking that the
// image is the size the dataset says its boxes are in.
func AnalyzerDetector(a analyzer.Analyzer, req analyzer.Request) eval.Detector {
	return func(ctx context.Context, im dataset.Image, data []byte) ([]eval.Box, error) {
		res, err := a.Analyze(ctx, analyzer.Image{Bytes: data}, req)
		if err != nil {
			return nil, err
		}
		if md := res.Metadata; md.Width != im.Width || md.Height != im.Height {
			return nil, fmt.Errorf("the dataset says %dx%d but the image is %dx%d, so its boxes do not line up", im.Width, im.Height, md.Width, md.Height)
		}
		boxes := make([]eval.Box, len(res.Objects))
		for i, o := range res.Objects {
			b := o.BoundingBox
			boxes[i] = eval.Box{Name: o.Name, Score: o.Confidence, BBox: [4]float64{float64(b.X), float64(b.Y), float64(b.W), float64(b.H)}}
		}
		return boxes, nil
	}
}

// PredictorDetector detects with a Custom Vision object detector (a local
// export, or the app's hot-swapped model); its boxes are fractions of the
// image, scaled to the dataset's size.
func PredictorDetector(p analyzer.Predictor) eval.Detector {
	return func(ctx context.Context, im dataset.Image, data []byte) ([]eval.Box, error) {
		preds, err := p.Predict(ctx, analyzer.Image{Bytes: data}, true)
		if err != nil {
			return nil, err
		}
		w, h := float64(im.Width), float64(im.Height)
		boxes := make([]eval.Box, 0, len(preds))
		for _, p := range preds {
			if b := p.BoundingBox; b != nil && p.Probability >= EvalThreshold {
				boxes = append(boxes, eval.Box{Name: p.Tag, Score: p.Probability, BBox: [4]float64{b.Left * w, b.Top * h, b.Width * w, b.Height * h}})
			}
		}
		return boxes, nil
	}
}

// LoadsExport checks that the local backend loads the Custom Vision
// export in dir: a training's Verify, so that a model that cannot run
// here never replaces one that can.
func LoadsExport(dir string) error {
	cv, err := local.NewCustomVision(dir)
	if err != nil {
		return err
	}
	return cv.Close()
}
