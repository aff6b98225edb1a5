package cli

import (
	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
)

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
		b := local.New(local.Options{})
		return analyzer.WithPrivacy(a, b), func() { b.Close() }, nil
	}
	return nil, nil, usagef("unknown backend %q (azure or local)", backend)
}
