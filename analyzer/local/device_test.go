package local

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
)

func TestParseDevice(t *testing.T) {
	tests := []struct {
		in   string
		want Device
		err  string
	}{
		{"cpu", DeviceCPU, ""},
		{"CUDA", DeviceCUDA, ""},
		{"openvino", DeviceOpenVINO, ""},
		{"gpu", "", `unknown device "gpu" (cpu, cuda, openvino)`},
		{"", "", "unknown device"},
	}
	for _, tt := range tests {
		got, err := ParseDevice(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseDevice(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// The installed runtime is CPU-only: every model asked to run on another
// device fails to load with an error naming the missing provider.
func TestDeviceWithoutProvider(t *testing.T) {
	for _, dev := range []Device{DeviceCUDA, DeviceOpenVINO} {
		for _, fs := range []analyzer.Features{{analyzer.FeatureObjects}, {analyzer.FeatureFaces}, {analyzer.FeatureRead}} {
			b := New(Options{Device: dev})
			err := b.Load(fs)
			b.Close()
			if err == nil || !containsAll(err.Error(), "--device "+string(dev), "has no "+dev.provider()+" execution provider", "--device cpu") {
				t.Errorf("%s, %v: error %v", dev, fs, err)
			}
		}
		if _, err := NewCustomVisionOn("../../../shared/models/customvision-classifier-sample", dev); err == nil || !strings.Contains(err.Error(), dev.provider()) {
			t.Errorf("Custom Vision on %s: error %v", dev, err)
		}
	}
}

// The optimised graph is cached once and reused with the same results; a
// corrupt cached file is replaced, and a cache that cannot be written is
// passed over.
func TestOptimizedModelCache(t *testing.T) {
	path, err := deps.Model("yolox-nano/yolox_nano.onnx")
	if err != nil {
		t.Fatal(err)
	}
	img := readImage(t, opencvData+"messi5.jpg")
	detect := func() []Detection {
		t.Helper()
		y, err := NewYOLOX(path)
		if err != nil {
			t.Fatal(err)
		}
		defer y.Close()
		d, err := y.Detect(img, 0.25, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Setenv("SIGHTLINE_ORT_CACHE", "off")
	want := detect()

	dir := t.TempDir()
	t.Setenv("SIGHTLINE_ORT_CACHE", dir)
	cached := optCache(path, sessionSpec{})
	if filepath.Dir(cached) != dir || !strings.HasPrefix(filepath.Base(cached), "yolox_nano-") {
		t.Fatalf("cache file %q", cached)
	}
	for _, step := range []struct {
		name    string
		prepare func()
	}{
		{"first use writes the cache", func() {}},
		{"second use reads it", func() {}},
		{"a corrupt cache is replaced", func() { os.WriteFile(cached, []byte("not a model"), 0o644) }},
	} {
		step.prepare()
		if got := detect(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: detections %v, want %v", step.name, got, want)
		}
		st, err := os.Stat(cached)
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: cached graph %v, %v", step.name, st, err)
		}
		if parts, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(parts) > 0 {
			t.Errorf("%s: left %v", step.name, parts)
		}
	}

	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o644)
	t.Setenv("SIGHTLINE_ORT_CACHE", filepath.Join(blocked, "ort")) // under a file: cannot be made
	if got := detect(); !reflect.DeepEqual(got, want) {
		t.Errorf("unwritable cache: detections %v, want %v", got, want)
	}
}
