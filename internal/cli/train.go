package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/internal/train"
)

// trainKinds maps --kind to the service's project kinds.
var trainKinds = map[string]string{"detection": azure.ObjectDetection, "classification": azure.Classification}

func cmdTrain(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	datasetPath := fs.String("dataset", "", "COCO detection JSON of the labelled images")
	imagesDir := fs.String("images", "", "folder the dataset's file names are relative to")
	project := fs.String("project", "", "Custom Vision project name: used if it exists, created if not")
	publish := fs.String("publish", "", "publish the trained iteration under this name (needs CUSTOM_VISION_PREDICTION_RESOURCE_ID)")
	exportDir := fs.String("export", "", "export the iteration as ONNX into this folder, for predict --model and the app")
	kind := fs.String("kind", "detection", "detection, or classification (each image tagged with the classes of its boxes)")
	domain := fs.String("domain", "", "domain of a new project (default: a compact one, which can be exported)")
	retries := fs.Int("retries", 3, "retries of a failed cloud call")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	opts := train.Options{Project: *project, Kind: trainKinds[*kind], Domain: *domain, PublishName: *publish, ExportDir: *exportDir}
	switch {
	case len(rest) > 0:
		return usagef("unexpected argument %q (train uploads the images of --dataset)", rest[0])
	case *datasetPath == "" || *imagesDir == "" || *project == "":
		return usagef("--dataset FILE, --images DIR and --project NAME are all needed")
	case opts.Kind == "":
		return usagef("--kind %q: want detection or classification", *kind)
	}
	if *publish != "" {
		if opts.PredictionResourceID = e.getenv("CUSTOM_VISION_PREDICTION_RESOURCE_ID"); opts.PredictionResourceID == "" {
			return usagef("--publish needs CUSTOM_VISION_PREDICTION_RESOURCE_ID, the Azure resource id of the prediction resource (/subscriptions/…/providers/Microsoft.CognitiveServices/accounts/NAME)")
		}
	}
	ds, err := dataset.Read(*datasetPath)
	if err != nil {
		return usagef("%v", err)
	}
	client, err := newTrainingClient(e, *retries)
	if err != nil {
		return err
	}
	// A model the local backend cannot load never replaces one it can.
	opts.Verify = backend.LoadsExport
	if isTerminal(e.stderr) {
		opts.OnProgress = func(p train.Progress) { printProgress(e, p) }
	}
	res, err := train.New(client).Run(ctx, ds, *imagesDir, opts)
	if isTerminal(e.stderr) {
		fmt.Fprintln(e.stderr)
	}
	for _, f := range res.Failures {
		fmt.Fprintf(e.stderr, "sightline train: %s: %s\n", f.File, text.OneLine(f.Error, 0))
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	if werr := enc.Encode(res); werr != nil {
		return fmt.Errorf("writing the result: %w", werr)
	}
	if err != nil {
		return err
	}
	if len(res.Failures) > 0 {
		return errSomeFailed
	}
	return nil
}

func printProgress(e env, p train.Progress) {
	switch {
	case p.Total > 0:
		fmt.Fprintf(e.stderr, "\r\033[K%s: %d/%d images", p.Stage, p.Done, p.Total)
	case p.Detail != "":
		fmt.Fprintf(e.stderr, "\r\033[K%s: %s", p.Stage, p.Detail)
	default:
		fmt.Fprintf(e.stderr, "\r\033[K%s", p.Stage)
	}
}

// newTrainingClient builds the Custom Vision Training client from the
// environment.
func newTrainingClient(e env, retries int) (*azure.TrainingClient, error) {
	a, err := trainingFromEnv(e, retries)
	if err != nil {
		return nil, err
	}
	c, err := backend.Training(a)
	return c, configError(err)
}
