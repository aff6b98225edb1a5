package cli

import (
	"context"
	"flag"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/contract"
)

func cmdAnalyze(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	backendName := fs.String("backend", "azure", "azure or local")
	features := fs.String("features", "", "comma-separated features (default: all the backend supports)")
	threshold := fs.Float64("threshold", 0, "minimum confidence of objects, people and tags (default 0.25 locally; cloud unfiltered)")
	language := fs.String("language", "", "language code for captions and read")
	genderNeutral := fs.Bool("gender-neutral-caption", false, "gender-neutral captions")
	ratios := fs.String("smartcrops-aspect-ratios", "", "comma-separated aspect ratios, 0.75–1.8")
	modelVersion := fs.String("model-version", "", "service model version")
	workers := fs.Int("workers", 4, "inputs analysed in parallel")
	retries := fs.Int("retries", 3, "retries of a failed cloud call")
	privacy := fs.Bool("privacy", false, "blur faces before an image leaves the machine")
	device := deviceFlag(fs)
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return err
	}
	req := analyzer.Request{Options: analyzer.Options{
		Language: *language, GenderNeutralCaption: *genderNeutral,
		ModelVersion: *modelVersion, Threshold: *threshold,
	}}
	if req.Features, err = parseFeatures(*features); err != nil {
		return err
	}
	if req.Options.SmartCropsRatios, err = parseRatios(*ratios); err != nil {
		return err
	}
	a, closeFn, err := newAnalyzer(e, *backendName, *retries, *privacy, dev)
	if err != nil {
		return err
	}
	defer closeFn()
	if req.Features == nil {
		if backend.Kind(*backendName) == backend.Local {
			req.Features = local.DefaultFeatures
		} else {
			req.Features = analyzer.AllFeatures
		}
	}
	for _, f := range req.Features {
		if !a.Supports(f) {
			return usagef("feature %q is not available with --backend %s", f, *backendName)
		}
	}
	if err := loadModels(a, req.Features); err != nil {
		return err
	}
	return batch(ctx, e, inputs, *workers, func(ctx context.Context, _ string, img analyzer.Image) (any, string, error) {
		res, err := a.Analyze(ctx, img, req)
		return res, a.Name(), err
	})
}

func cmdOCR(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("ocr", flag.ContinueOnError)
	backendName := fs.String("backend", "azure", "azure or local")
	language := fs.String("language", "", "language code of the text")
	workers := fs.Int("workers", 4, "inputs read in parallel")
	retries := fs.Int("retries", 3, "retries of a failed cloud call")
	privacy := fs.Bool("privacy", false, "blur faces before an image leaves the machine")
	device := deviceFlag(fs)
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return err
	}
	a, closeFn, err := newAnalyzer(e, *backendName, *retries, *privacy, dev)
	if err != nil {
		return err
	}
	defer closeFn()
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}, Options: analyzer.Options{Language: *language}}
	if err := loadModels(a, req.Features); err != nil {
		return err
	}
	lang := *language
	if lang == "" {
		lang = "en"
	}
	return batch(ctx, e, inputs, *workers, func(ctx context.Context, _ string, img analyzer.Image) (any, string, error) {
		res, err := a.Analyze(ctx, img, req)
		if err != nil {
			return nil, "", err
		}
		return contract.NewOCRResult(res.ReadResult, lang), a.Name(), nil
	})
}
