package cli

import (
	"context"
	"flag"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/contract"
)

func cmdPredict(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	backendName := fs.String("backend", "", "azure or local (default: local with --model, else azure)")
	detect := fs.Bool("detect", false, "object detection instead of classification")
	threshold := fs.Float64("threshold", analyzer.DefaultReviewThreshold, "probability the top prediction must exceed")
	project := fs.String("project", "", "Custom Vision project id (cloud)")
	published := fs.String("published-name", "", "published iteration name (cloud)")
	model := fs.String("model", "", "folder of a Custom Vision ONNX export (local)")
	noStore := fs.Bool("nostore", false, "ask Custom Vision not to keep the images (cloud)")
	privacy := fs.Bool("privacy", false, "blur faces before an image leaves the machine")
	workers := fs.Int("workers", 4, "inputs predicted in parallel")
	retries := fs.Int("retries", 3, "retries of a failed cloud call")
	device := deviceFlag(fs)
	inputs, err := parse(fs, args)
	if err != nil {
		return err
	}
	dev, err := parseDevice(*device)
	if err != nil {
		return err
	}
	if *backendName == "" {
		*backendName = string(backend.Cloud)
		if *model != "" {
			*backendName = string(backend.Local)
		}
	}
	kind, err := backend.ParseKind(*backendName)
	if err != nil {
		return configError(err)
	}
	var p analyzer.Predictor
	switch kind {
	case backend.Local:
		if *model == "" {
			return usagef("--backend local needs --model DIR (a Custom Vision ONNX export)")
		}
		cv, err := local.NewCustomVisionOn(*model, dev)
		if err != nil {
			return usagef("%v", err)
		}
		defer cv.Close()
		p = cv
	case backend.Cloud:
		if *project == "" || *published == "" {
			return usagef("--backend azure needs --project UUID and --published-name NAME")
		}
		if p, err = newAzurePredictor(e, *project, *published, *retries, *noStore); err != nil {
			return err
		}
		var closeFn func()
		if p, closeFn, err = backend.Predictor(p, *privacy, dev); err != nil {
			return configError(err)
		}
		defer closeFn()
	}
	return batch(ctx, e, inputs, *workers, func(ctx context.Context, _ string, img analyzer.Image) (any, string, error) {
		preds, err := p.Predict(ctx, img, *detect)
		if err != nil {
			return nil, "", err
		}
		return contract.NewPredictionResult(preds, *threshold), p.Name(), nil
	})
}
