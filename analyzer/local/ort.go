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
	"strings"
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
		// ONNX Runtime's own log stays quiet: every failure it has to
		// report reaches the caller as an error, said once, in one line.
		if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
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
// graph optimisations, and no inter-op parallelism (our graphs are chains),
// on spec's device.
func sessionOptions(spec sessionSpec) (*ort.SessionOptions, error) {
	o, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	threads := spec.threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	for _, set := range []func() error{
		func() error { return o.SetIntraOpNumThreads(threads) },
		func() error { return o.SetInterOpNumThreads(1) },
		func() error { return o.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll) },
		func() error { return o.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return appendProvider(o, spec.device) },
	} {
		if err := set(); err != nil {
			o.Destroy()
			return nil, err
		}
	}
	return o, nil
}

// sessionSpec is how a model's sessions are made: intra-op threads (0: one
// a core) and the device.
type sessionSpec struct {
	threads int
	device  Device
}

// newSession creates path's session with create, which calls the
// onnxruntime_go constructor it needs on the file and options it is given.
// On the CPU the graph ONNX Runtime optimised is cached (optCache): a
// cached graph is loaded without optimising again, and a cache that cannot
// be read or written is passed over.
func newSession(path string, spec sessionSpec, create func(file string, opts *ort.SessionOptions) error) error {
	cached := optCache(path, spec)
	if cached != "" && (loadCached(cached, spec, create) || createAndCache(path, cached, spec, create)) {
		return nil
	}
	opts, err := sessionOptions(spec) // fails only for the device: no model named
	if err != nil {
		return err
	}
	defer opts.Destroy()
	if err := create(path, opts); err != nil {
		return fmt.Errorf("model %s: creating session: %w", path, err)
	}
	return nil
}

// loadCached creates the session from an optimised graph cached earlier,
// removing a cached file ONNX Runtime refuses.
func loadCached(cached string, spec sessionSpec, create func(string, *ort.SessionOptions) error) bool {
	if _, err := os.Stat(cached); err != nil {
		return false
	}
	opts, err := sessionOptions(spec)
	if err != nil {
		return false
	}
	defer opts.Destroy()
	if opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll) == nil && create(cached, opts) == nil {
		return true
	}
	os.Remove(cached)
	return false
}

// createAndCache creates the session from the model, saving the optimised
// graph beside cached and moving it into place once complete, so that a
// reader never sees half a file.
func createAndCache(path, cached string, spec sessionSpec, create func(string, *ort.SessionOptions) error) bool {
	tmp, err := os.CreateTemp(filepath.Dir(cached), filepath.Base(cached)+".*.part")
	if err != nil {
		return false
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // gone after the rename
	opts, err := sessionOptions(spec)
	if err != nil {
		return false
	}
	defer opts.Destroy()
	// ONNX Runtime warns that an all-level graph suits only this machine:
	// the cache key says so already.
	if opts.SetLogSeverityLevel(ort.LoggingLevelError) != nil || opts.SetOptimizedModelFilePath(tmp.Name()) != nil {
		return false
	}
	if create(path, opts) != nil {
		return false
	}
	os.Rename(tmp.Name(), cached)
	return true
}

// optCache names path's optimised graph in the user's cache folder, keyed
// by the model's sha256, ONNX Runtime's version and the CPU's features (the
// optimised graph may use kernels of this CPU's instruction set). Empty
// off the CPU, when there is no cache folder, or when SIGHTLINE_ORT_CACHE
// is "off" (SIGHTLINE_ORT_CACHE=DIR puts the cache in DIR).
func optCache(path string, spec sessionSpec) string {
	dir := os.Getenv("SIGHTLINE_ORT_CACHE")
	if dir == "off" || spec.device.orDefault() != DeviceCPU {
		return ""
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "sightline", "ort")
	}
	sum, err := fileSHA256(path)
	if err != nil || os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", sum, ort.GetVersion(), cpuFlags())
	return filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".onnx")+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".onnx")
}

// cpuFlags is this CPU's feature list on Linux ("" elsewhere).
var cpuFlags = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "flags") {
			return l
		}
	}
	return ""
})

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
	// The inputs and outputs come from a temporary session: one thread and
	// no graph optimisation make it cheap (by default it would cost as
	// much as the real session, a second time at every start).
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		return nil, nil, err
	}
	if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll); err != nil {
		return nil, nil, err
	}
	in, out, err = ort.GetInputOutputInfoWithOptions(path, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s is not a readable ONNX model: %w", path, err)
	}
	return in, out, nil
}

// modelVersion is the local model's file name and short sha256, as the
// contract's model_version for local results.
func modelVersion(path string) (string, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return "", err
	}
	return filepath.Base(path) + "@" + sum[:12], nil
}

// fileSHA256 is the hex sha256 of a file's contents, remembered while the
// file keeps its size and modification time (the cache key and the model
// version both need it: the models are read once).
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", path, st.Size(), st.ModTime().UnixNano())
	if sum, ok := hashes.Load(key); ok {
		return sum.(string), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	hashes.Store(key, sum)
	return sum, nil
}

var hashes sync.Map // fileSHA256's: path, size and time → sum
