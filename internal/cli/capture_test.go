package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/capture"
)

// `run --capture-dir` saves frames worth labelling with their predictions,
// within the limits asked for, on the video's own time (a file is read
// faster than it plays): the uncertain ones and a random sample, each a
// JPEG with its record; with several cameras, a folder each.
func TestRunCapture(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		folders []string
		max     int // frames at most in a folder: 300 frames at 10 fps are 30 s, one every 3 s at most
	}{
		{"one camera", []string{"--source", demoVideo}, []string{""}, 10},
		{"two cameras", []string{"--source", demoVideo, "--source", demoVideo}, []string{"vtest", "vtest-2"}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"run", "--backend", "local", "--max-frames", "300", "--capture-dir", dir,
				"--capture-sample", "0.5", "--capture-band", "0.2"}, tt.args...)
			if code, _, stderr := runCLI(t, nil, args...); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, sub := range tt.folders {
				records, _ := filepath.Glob(filepath.Join(dir, sub, "*.capture.json"))
				if len(records) == 0 || len(records) > tt.max {
					t.Fatalf("%s: %d frames captured, want 1 to %d", filepath.Join(dir, sub), len(records), tt.max)
				}
				for _, path := range records {
					r, err := capture.ReadRecord(path)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := os.Stat(filepath.Join(filepath.Dir(path), r.Image)); err != nil || len(r.Reasons) == 0 ||
						r.Width != 768 || r.Model == "" || !strings.Contains(r.Model, "yolox") {
						t.Errorf("%s: %+v (image: %v)", path, r, err)
					}
				}
			}
		})
	}
}
