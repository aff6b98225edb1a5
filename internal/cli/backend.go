package cli

import (
	"flag"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
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
func newAnalyzer(e env, backend string, retries int, privacy bool, dev local.Device) (a analyzer.Analyzer, closeFn func(), err error) {
	switch backend {
	case "local":
		b := local.New(local.Options{Device: dev})
		return b, func() { b.Close() }, nil
	case "azure":
		a, err := newAzureAnalyzer(e, retries)
		if err != nil || !privacy {
			return a, func() {}, err
		}
		b := local.New(local.Options{Device: dev})
		if err := loadModels(b, analyzer.Features{analyzer.FeatureFaces}); err != nil {
			b.Close()
			return nil, nil, err
		}
		return analyzer.WithPrivacy(a, b), func() { b.Close() }, nil
	}
	return nil, nil, usagef("unknown backend %q (azure or local)", backend)
}
