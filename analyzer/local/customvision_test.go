package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
)

// customVisionSample finds the sample export, which lives only under
// SIGHTLINE_MODELS (e.g. /work/shared/models).
func customVisionSample(t testing.TB) string {
	t.Helper()
	dir, err := deps.Model("customvision-classifier-sample")
	if err != nil {
		t.Fatalf("Custom Vision sample not found (make test sets SIGHTLINE_MODELS=../shared/models): %v", err)
	}
	return dir
}

func TestCustomVisionClassifiesSample(t *testing.T) {
	dir := customVisionSample(t)
	cv, err := NewCustomVision(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	for _, tc := range []struct {
		image, want string
	}{
		{"japanese_cherry_6.jpg", "JapaneseCherry"},
		{"hemlock_1.jpg", "hemlock"},
	} {
		t.Run(tc.image, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.image))
			if err != nil {
				t.Fatal(err)
			}
			preds, err := cv.Predict(context.Background(), analyzer.Image{Bytes: b}, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %+v", tc.image, preds)
			if len(preds) != 2 || preds[0].Tag != tc.want || preds[0].Probability < 0.7 {
				t.Fatalf("got %+v, want %s first with probability >= 0.7", preds, tc.want)
			}
			if preds[0].Probability < preds[1].Probability {
				t.Fatalf("not sorted: %+v", preds)
			}
		})
	}
	if _, err := cv.Predict(context.Background(), analyzer.Image{Bytes: []byte("x")}, true); err == nil || !strings.Contains(err.Error(), "classifier") {
		t.Errorf("detect on a classifier: got %v, want a clear error", err)
	}
	if _, err := cv.Predict(context.Background(), analyzer.Image{URL: "https://example.com/a.jpg"}, false); err == nil {
		t.Error("URL input: want an error")
	}
}

func TestCustomVisionMatInput(t *testing.T) {
	dir := customVisionSample(t)
	cv, err := NewCustomVision(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	img := readImage(t, filepath.Join(dir, "japanese_cherry_6.jpg"))
	preds, err := cv.Predict(context.Background(), analyzer.Image{Mat: img}, false)
	if err != nil || preds[0].Tag != "JapaneseCherry" {
		t.Fatalf("got %+v, %v", preds, err)
	}
	if cv.IsDetector() || cv.Name() != "local" || !strings.HasPrefix(cv.ModelVersion(), "model.onnx@") {
		t.Errorf("detector %v name %q version %q", cv.IsDetector(), cv.Name(), cv.ModelVersion())
	}
}

func TestNewCustomVisionErrors(t *testing.T) {
	dir := customVisionSample(t)
	model := filepath.Join(dir, "model.onnx")
	ocrDir, _ := DefaultOCRDir()
	for _, tc := range []struct {
		name   string
		model  string // file to place as model.onnx ("" for none)
		labels string // labels.txt contents ("-" for none)
		want   []string
	}{
		{"missing model", "", "hemlock\nJapaneseCherry\n", []string{"model.onnx", "no such file"}},
		{"truncated model", "truncate", "hemlock\nJapaneseCherry\n", []string{"model.onnx", "not a readable ONNX model"}},
		{"missing labels", model, "-", []string{"labels.txt", "no such file"}},
		{"empty labels", model, "\n\n", []string{"labels.txt", "no labels"}},
		{"too many labels", model, "hemlock\nJapaneseCherry\noak\n", []string{"labels.txt", "3 labels", "2 classes"}},
		{"wrong label", model, "hemlock\nCherry\n", []string{"labels.txt", "JapaneseCherry"}},
		{"not a Custom Vision model", filepath.Join(ocrDir, ocrClsFile), "a\nb\n", []string{"model.onnx", "expected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			switch tc.model {
			case "":
			case "truncate":
				b, err := os.ReadFile(model)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(d, "model.onnx"), b[:len(b)/2])
			default:
				if err := os.Symlink(tc.model, filepath.Join(d, "model.onnx")); err != nil {
					t.Fatal(err)
				}
			}
			if tc.labels != "-" {
				writeFile(t, filepath.Join(d, "labels.txt"), []byte(tc.labels))
			}
			cv, err := NewCustomVision(d)
			if err == nil {
				cv.Close()
				t.Fatal("want an error")
			}
			if !containsAll(err.Error(), tc.want...) {
				t.Errorf("error %q should mention %q", err, tc.want)
			}
		})
	}
}

func BenchmarkCustomVision(b *testing.B) {
	dir := customVisionSample(b)
	cv, err := NewCustomVision(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer cv.Close()
	img := readImage(b, filepath.Join(dir, "hemlock_1.jpg"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cv.Predict(context.Background(), analyzer.Image{Mat: img}, false); err != nil {
			b.Fatal(err)
		}
	}
}
