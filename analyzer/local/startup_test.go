package local

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// TestOCRStartupPhases times where a cold `ocr` goes: each PP-OCRv4
// session made with the graph optimised afresh, optimised and cached, and
// loaded from the cache; then the first and second read of a scanned form.
// It measures and reports only (minutes on a busy machine):
// SIGHTLINE_STARTUP_PHASES=1 go test -run TestOCRStartupPhases -v ./analyzer/local/
func TestOCRStartupPhases(t *testing.T) {
	if os.Getenv("SIGHTLINE_STARTUP_PHASES") == "" {
		t.Skip("set SIGHTLINE_STARTUP_PHASES=1")
	}
	start := time.Now()
	if err := InitRuntime(); err != nil {
		t.Fatal(err)
	}
	t.Logf("loading ONNX Runtime: %v", time.Since(start))
	dir, err := DefaultOCRDir()
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	one := sessionSpec{threads: 1}
	for _, f := range []string{ocrDetFile, ocrClsFile, ocrRecFile} {
		path := filepath.Join(dir, f)
		ins, outs, err := modelInfo(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"off", "write", "read"} {
			t.Setenv("SIGHTLINE_ORT_CACHE", map[string]string{"off": "off", "write": cache, "read": cache}[mode])
			var s *ort.DynamicAdvancedSession
			t0 := time.Now()
			err := newSession(path, one, func(file string, opts *ort.SessionOptions) (err error) {
				s, err = ort.NewDynamicAdvancedSession(file, []string{ins[0].Name}, []string{outs[0].Name}, opts)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-40s session, cache %-5s %v", f, mode, time.Since(t0))
			s.Destroy()
		}
	}
	t.Setenv("SIGHTLINE_ORT_CACHE", cache)
	t0 := time.Now()
	o, err := NewOCR(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	t.Logf("NewOCR with the cache warm: %v", time.Since(t0))
	form := os.Getenv("SIGHTLINE_STARTUP_FORM")
	if form == "" {
		form = "../../../shared/azure/docintel/samples/rest-api-samples/contoso-receipt.png"
	}
	img := gocv.IMRead(form, gocv.IMReadColor)
	if img.Empty() {
		t.Fatalf("cannot read %s", form)
	}
	defer img.Close()
	for _, which := range []string{"first", "second"} {
		t0 := time.Now()
		if _, err := o.Read(img); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s read of %s: %v", which, filepath.Base(form), time.Since(t0))
	}
}
