//go:build matprofile

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/video/videotest"
)

// Every command gives back every Mat it made, on success and on every
// failure path we can provoke: a damaged image, a source that dies, a run
// cut short, outputs that fail.
//
//	go test -tags matprofile -run TestMatsReturnToBaseline ./internal/cli/
func TestMatsReturnToBaseline(t *testing.T) {
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.jpg")
	b, err := os.ReadFile(azureImages + "azure-ai-vision-sdk_sample.jpg")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(truncated, b[:len(b)/3], 0o644)
	brokenVideo := filepath.Join(dir, "broken.mp4")
	v, _ := os.ReadFile(videotest.Make(t, "mats-clip.mp4", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=4", "-c:v", "libx264", "-pix_fmt", "yuv420p"))
	os.WriteFile(brokenVideo, v[:len(v)/2], 0o644)
	scenePath := filepath.Join(dir, "scene.json")
	os.WriteFile(scenePath, []byte(`{"lines": [{"name": "l", "points": [[0.3, 0], [0.3, 1]]}], "zones": [{"name": "z", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]}], "rules": [{"name": "r", "zone": "z", "when": "occupancy_above"}]}`), 0o644)
	sample := filepath.Join(os.Getenv("SIGHTLINE_MODELS"), "customvision-classifier-sample")
	tests := []struct {
		name string
		args []string
	}{
		{"analyze", []string{"analyze", "--backend", "local", "--features", "objects,people,smartCrops", azureImages + "azure-ai-vision-sdk_sample.jpg", truncated}},
		{"ocr", []string{"ocr", "--backend", "local", opencvData + "imageTextN.png", truncated}},
		{"predict", []string{"predict", "--model", sample, filepath.Join(sample, "test_image.jpg"), truncated}},
		{"document", []string{"document", "--backend", "local", opencvData + "imageTextN.png"}},
		{"run with a scene, recording and snapshots", []string{"run", "--source", demoVideo, "--backend", "local", "--max-frames", "40",
			"--scene", scenePath, "--out", filepath.Join(dir, "out.mp4"), "--snapshot-dir", dir, "--snapshot-every", "1s", "--events", os.DevNull}},
		{"run on a file that breaks off", []string{"run", "--source", brokenVideo, "--backend", "local", "--events", os.DevNull}},
		{"run cut short", []string{"run", "--source", demoVideo, "--backend", "local", "--realtime", "--duration", "1500ms", "--events", os.DevNull}},
		{"run whose outputs fail", []string{"run", "--source", demoVideo, "--backend", "local", "--max-frames", "20",
			"--out", "/nonexistent/out.mp4", "--events", os.DevNull}},
		{"run on a still picture", []string{"run", "--source", azureImages + "azure-ai-vision-sdk_sample.jpg", "--backend", "local", "--events", os.DevNull}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runCLI(t, nil, tt.args...) // once first: caches and lazily made buffers
			base := gocv.MatProfile.Count()
			code, _, stderr := runCLI(t, nil, tt.args...)
			if n := gocv.MatProfile.Count(); n != base {
				var buf bytes.Buffer
				gocv.MatProfile.WriteTo(&buf, 1)
				t.Errorf("exit %d (%s): %d Mats alive after the command, %d before\n%s", code, stderr, n, base, buf.String())
			}
		})
	}
}
