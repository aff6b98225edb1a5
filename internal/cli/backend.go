package cli

import (
	"flag"
	"strings"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
)

// loadModels loads the local models fs need up front when a is the local
// backend: a missing or broken model is a configuration error (exit 2),
// said once, rather than the same failure on every input.
func loadModels(a any, fs analyzer.Features) error {
	l, ok := a.(interface{ Load(analyzer.Features) error })
	if !ok {
		return nil
	}
	if err := l.Load(fs); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// deviceFlag adds --device, where the local models run, to a command.
func deviceFlag(fs *flag.FlagSet) *string {
	return fs.String("device", string(local.DeviceCPU), "where local models run: cpu, cuda or openvino (cuda and openvino need an ONNX Runtime built with them)")
}

// parseDevice reads --device's value; a bad one is a usage error.
func parseDevice(s string) (local.Device, error) {
	d, err := local.ParseDevice(s)
	if err != nil {
		return "", usagef("--device: %v", err)
	}
	return d, nil
}

// newAnalyzer builds the backend named on the command line, its local
// models on dev. With privacy, a cloud backend sees images only after local
// face blurring. closeFn releases the models.
func newAnalyzer(e env, name string, retries int, privacy bool, dev local.Device) (analyzer.Analyzer, func(), error) {
	kind, err := backend.ParseKind(name)
	if err != nil {
		return nil, nil, configError(err)
	}
	vision, err := visionFromEnv(e, retries)
	if err != nil {
		return nil, nil, err
	}
	a, closeFn, err := backend.Analyzer(kind, vision, privacy, dev)
	return a, closeFn, configError(err)
}

// newAzurePredictor builds the Custom Vision prediction client from the
// environment.
func newAzurePredictor(e env, project, published string, retries int, noStore bool) (analyzer.Predictor, error) {
	a, err := predictionFromEnv(e, retries)
	if err != nil {
		return nil, err
	}
	p, err := backend.Prediction(a, project, published, noStore)
	if err != nil {
		return nil, configError(err)
	}
	return p, nil
}

// configError turns a backend's configuration error into exit 2, said
// without the "configuration error" prefix.
func configError(err error) error {
	if err == nil {
		return nil
	}
	return usagef("%s", strings.TrimPrefix(err.Error(), backend.ErrConfig.Error()+": "))
}
