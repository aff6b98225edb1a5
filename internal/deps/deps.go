// Package deps finds the models and runtime libraries that scripts/setup.sh
// installs, so that the binary, `go test` and `go run` all find them.
package deps

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// DemoVideo is opencv-doc's walking people, 768×576 at 10 fps, which the
// set-up installs: the app's source when no webcam opens, and the video of
// the tests and the bench.
const DemoVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// Dir is the deps folder recorded at build time by `make build`
// (-ldflags "-X github.com/sightline/sightline/internal/deps.Dir=…").
var Dir string

// ErrModelsEnv marks a SIGHTLINE_MODELS that points nowhere: a configuration
// error (exit 2), not a failed input.
var ErrModelsEnv = errors.New("SIGHTLINE_MODELS does not exist")

// CheckEnv validates SIGHTLINE_MODELS when it is set.
func CheckEnv() error {
	if m := os.Getenv("SIGHTLINE_MODELS"); m != "" {
		if st, err := os.Stat(m); err != nil || !st.IsDir() {
			return fmt.Errorf("%w: %s", ErrModelsEnv, m)
		}
	}
	return nil
}

var (
	rootOnce sync.Once
	root     string
)

// Root returns the deps folder: $SIGHTLINE_DEPS, the build-time Dir, the
// folder beside the executable (bin/../deps), or the first deps/ above the
// working directory (tests run in package folders).
func Root() string {
	rootOnce.Do(func() {
		var candidates []string
		if d := os.Getenv("SIGHTLINE_DEPS"); d != "" {
			candidates = append(candidates, d)
		}
		if Dir != "" {
			candidates = append(candidates, Dir)
		}
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "deps"))
		}
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				candidates = append(candidates, filepath.Join(d, "deps"))
				if filepath.Dir(d) == d {
					break
				}
			}
		}
		for _, c := range candidates {
			if st, err := os.Stat(filepath.Join(c, "lib")); err == nil && st.IsDir() {
				root, _ = filepath.Abs(c)
				return
			}
		}
	})
	return root
}

// Model finds a model file or folder by its path relative to a models
// folder (e.g. "yolox-nano/yolox_nano.onnx"): $SIGHTLINE_MODELS first, then
// the folder the set-up installs.
func Model(rel string) (string, error) {
	var tried []string
	if m := os.Getenv("SIGHTLINE_MODELS"); m != "" {
		p := filepath.Join(m, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if r := Root(); r != "" {
		p := filepath.Join(r, "models", rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("model %s not found: no deps folder and SIGHTLINE_MODELS unset (run `make build` or scripts/setup.sh)", rel)
	}
	return "", fmt.Errorf("model %s not found (looked in %v; run scripts/setup.sh or set SIGHTLINE_MODELS)", rel, tried)
}

// ONNXRuntimeLib returns the path of libonnxruntime.so.1.
func ONNXRuntimeLib() (string, error) {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return p, nil
	}
	r := Root()
	if r == "" {
		return "", errors.New("libonnxruntime.so.1 not found: no deps folder (run `make build` or scripts/setup.sh)")
	}
	p := filepath.Join(r, "lib", "libonnxruntime.so.1")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("libonnxruntime.so.1 not found at %s (run scripts/setup.sh)", p)
	}
	return p, nil
}
