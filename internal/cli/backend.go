package cli

import (
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

// newAnalyzer builds the backend named on the command line. With privacy,
// a cloud backend sees images only after local face blurring. closeFn
// releases the models.
func newAnalyzer(e env, backend string, retries int, privacy bool) (a analyzer.Analyzer, closeFn func(), err error) {
	switch backend {
	case "local":
		b := local.New(local.Options{})
		return b, func() { b.Close() }, nil
	case "azure":
		a, err := newAzureAnalyzer(e, retries)
		if err != nil || !privacy {
			return a, func() {}, err
		}
		b, err := loadFaces()
		if err != nil {
			return nil, nil, err
		}
		return analyzer.WithPrivacy(a, b), func() { b.Close() }, nil
	}
	return nil, nil, usagef("unknown backend %q (azure or local)", backend)
}

// loadFaces is a local backend with the face model loaded, for privacy
// blurring; the caller closes it.
func loadFaces() (*local.Backend, error) {
	b := local.New(local.Options{})
	if err := loadModels(b, analyzer.Features{analyzer.FeatureFaces}); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}
