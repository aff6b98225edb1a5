package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/video/videotest"
)

// run --scene with an inspection point on a slideshow of real photos, a
// second each (hemlock, Japanese cherry, hemlock): the Custom Vision
// sample export says pass, fail, pass, an inspection_fail rule raises an
// alert with the fail's crop, the log has every verdict, and the summary
// counts them.
func TestRunInspections(t *testing.T) {
	sample := filepath.Join(os.Getenv("SIGHTLINE_MODELS"), "customvision-classifier-sample")
	hemlock, cherry := filepath.Join(sample, "hemlock_1.jpg"), filepath.Join(sample, "japanese_cherry_6.jpg")
	scale := "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10"
	clip := videotest.Make(t, "inspect-cli-slides.mp4", "-loop", "1", "-t", "1", "-i", hemlock, "-loop", "1", "-t", "1", "-i", cherry,
		"-loop", "1", "-t", "1", "-i", hemlock, "-filter_complex",
		"[0]"+scale+"[a];[1]"+scale+"[b];[2]"+scale+"[c];[a][b][c]concat=n=3:v=1[v]", "-map", "[v]",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	dir := t.TempDir()
	scenePath := filepath.Join(dir, "scene.json")
	os.WriteFile(scenePath, []byte(`{"inspections": [{"name": "tree", "rect": [0.1, 0.1, 0.8, 0.8], "model": "`+sample+`",
  "pass": ["hemlock"], "threshold": 0.5, "mode": "continuous"}],
 "rules": [{"name": "bad tree", "point": "tree", "when": "inspection_fail", "count": 1}]}`), 0o644)
	logDir := filepath.Join(dir, "log")
	code, out, stderr := runCLI(t, nil, "run", "--source", clip, "--backend", "local", "--scene", scenePath,
		"--inspect-log", logDir, "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var states []string
	alerts := 0
	lines := jsonLines(t, out)
	for _, l := range lines {
		switch l["type"] {
		case "inspection":
			states = append(states, l["state"].(string))
		case "alert":
			alerts++
			if p, _ := l["snapshot"].(string); !exists(p) {
				t.Errorf("alert without its crop: %v", l)
			}
		}
	}
	if strings.Join(states, ",") != "pass,fail,pass" || alerts != 1 {
		t.Errorf("inspections %v, %d alerts; want pass,fail,pass and one alert", states, alerts)
	}
	counts := lines[len(lines)-1]["inspections"].(map[string]any)["tree"].(map[string]any)
	if counts["pass"] != 2.0 || counts["fail"] != 1.0 || counts["review"] != 0.0 {
		t.Errorf("summary counts %v", counts)
	}
	csv, err := os.ReadFile(filepath.Join(logDir, "inspections.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 4 { // the header and three verdicts
		t.Errorf("inspection log: %v\n%s", err, csv)
	}
}
