package cli

import (
	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
)

// newAnalyzer builds the backend named on the command line. closeFn
// releases its models.
func newAnalyzer(e env, backend string, retries int) (a analyzer.Analyzer, closeFn func(), err error) {
	switch backend {
	case "local":
		b := local.New(local.Options{})
		return b, func() { b.Close() }, nil
	case "azure":
		a, err := newAzureAnalyzer(e, retries)
		return a, func() {}, err
	}
	return nil, nil, usagef("unknown backend %q (azure or local)", backend)
}
