package cli

import (
	"context"
	"encoding/json"
	"runtime"

	"gocv.io/x/gocv"
)

func cmdVersion(_ context.Context, e env, _ []string) error {
	return json.NewEncoder(e.stdout).Encode(map[string]string{
		"version": Version,
		"go":      runtime.Version(),
		"opencv":  gocv.OpenCVVersion(),
		"gocv":    gocv.Version(),
	})
}
