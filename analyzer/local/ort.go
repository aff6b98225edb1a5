// Package local runs Sightline's analyzers on this machine with ONNX Runtime:
// YOLOX objects and people, BlazeFace faces, PP-OCRv4 read, Custom Vision
// ONNX exports, and smart crops derived from them.
package local

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sightline/sightline/internal/deps"
)

var (
	ortOnce sync.Once
	ortErr  error
)

// InitRuntime loads libonnxruntime.so.1 once per process.
func InitRuntime() error {
	ortOnce.Do(func() {
		lib, err := deps.ONNXRuntimeLib()
		if err != nil {
			ortErr = err
			return
		}
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(); err != nil {
			ortErr = fmt.Errorf("loading ONNX Runtime from %s: %w", lib, err)
			return
		}
		// Customers' frames stay on the machine, and so does what ONNX
		// Runtime would report about running them.
		if err := ort.DisableTelemetry(); err != nil {
			ortErr = fmt.Errorf("disabling ONNX Runtime's telemetry: %w", err)
		}
	})
	return ortErr
}

// sessionOptions suit a small machine: intra-op threads on every core, all
// graph optimisations, and no inter-op parallelism (our graphs are chains).
func sessionOptions(threads int) (*ort.SessionOptions, error) {
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	for _, set := range []func() error{
		func() error { return o.SetIntraOpNumThreads(threads) },
		func() error { return o.SetInterOpNumThreads(1) },
		func() error { return o.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll) },
		func() error { return o.SetExecutionMode(ort.ExecutionModeSequential) },
	} {
		if err := set(); err != nil {
			o.Destroy()
			return nil, err
		}
	}
	return o, nil
}

// modelInfo reads a model's inputs and outputs, with errors that name the file.
func modelInfo(path string) (in, out []ort.InputOutputInfo, err error) {
	if err := InitRuntime(); err != nil {
		return nil, nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", path, err)
	}
	if st.Size() == 0 {
		return nil, nil, fmt.Errorf("model %s is an empty file", path)
	}
	in, out, err = ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s is not a readable ONNX model: %w", path, err)
	}
	return in, out, nil
}

// modelVersion is the local model's file name and short sha256, as the
// contract's model_version for local results.
func modelVersion(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return filepath.Base(path) + "@" + hex.EncodeToString(h.Sum(nil))[:12], nil
}
