package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sightline/sightline/video/videotest"
)

// run --scene on the demo video: a line across the walkway counts people
// both ways, a zone has entries and exits, a rule raises alerts with a
// snapshot, objects carry their track IDs, and the summary has the totals;
// tracks still open end before it.
func TestRunScene(t *testing.T) {
	dir := t.TempDir()
	scenePath := filepath.Join(dir, "scene.json")
	os.WriteFile(scenePath, []byte(`{"tracking": {"classes": ["person"]},
 "lines": [{"name": "walkway", "points": [[0.365, 0.29], [0.365, 0.60]]}],
 "zones": [{"name": "lot", "polygon": [[0.0, 0.2], [0.35, 0.2], [0.35, 0.6], [0.0, 0.6]]}],
 "rules": [{"name": "lot busy", "zone": "lot", "when": "occupancy_above", "count": 2, "cooldown_s": 20}]}`), 0o644)
	code, out, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--scene", scenePath,
		"--events", "-", "--snapshot-dir", filepath.Join(dir, "snaps"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, out)
	count := map[string]int{}
	open := map[float64]bool{}
	tracked := 0
	for _, l := range lines {
		typ := l["type"].(string)
		count[typ]++
		switch typ {
		case "track":
			open[l["track_id"].(float64)] = l["state"] == "start"
		case "alert":
			if p, _ := l["snapshot"].(string); p == "" || !exists(p) {
				t.Errorf("alert without its snapshot: %v", l)
			}
		case "analysis":
			for _, o := range l["data"].(map[string]any)["objects"].([]any) {
				if _, ok := o.(map[string]any)["track_id"]; ok {
					tracked++
				}
			}
		}
	}
	sum := lines[len(lines)-1]
	walkway := sum["lines"].(map[string]any)["walkway"].(map[string]any)
	if sum["type"] != "summary" || walkway["in"] != 15.0 || walkway["out"] != 11.0 {
		t.Errorf("summary %v: want 15 in and 11 out on the walkway (counted by eye, issue 13)", sum)
	}
	if count["line_cross"] != 26 || count["zone_enter"] == 0 || count["zone_enter"] != count["zone_exit"] || count["alert"] == 0 || tracked == 0 {
		t.Errorf("events by type %v, %d tracked objects", count, tracked)
	}
	for id, isOpen := range open {
		if isOpen {
			t.Errorf("track %v has no end before the summary", id)
		}
	}
}

// A scene file that is wrong is a usage error, said once, naming the field.
func TestRunSceneErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"zones": [{"name": "station", "polygon": [[0, 0], [1, 0]]}]}`), 0o644)
	code, _, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--scene", bad)
	if code != exitUsage || !strings.Contains(stderr, "station") || !strings.Contains(stderr, "polygon") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--scene", filepath.Join(dir, "missing.json"))
	if code != exitUsage || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing scene: exit %d, stderr %q", code, stderr)
	}
}

// --track alone gives objects their track IDs and the track events.
func TestRunTrack(t *testing.T) {
	code, out, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--track", "--max-frames", "60", "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	starts := 0
	for _, l := range jsonLines(t, out) {
		if l["type"] == "track" && l["state"] == "start" {
			starts++
		}
	}
	if starts < 3 {
		t.Errorf("%d track starts in 60 frames of people walking", starts)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// An alert gets a clip of the source's own video around it: --pre before
// to --post after, from a keyframe, named in the alert and announced by a
// clip event.
func TestRunAlertClips(t *testing.T) {
	h264 := videotest.Make(t, "demo-h264-gop10.mp4", "-i", demoVideo, "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p")
	dir := t.TempDir()
	scenePath := filepath.Join(dir, "scene.json")
	os.WriteFile(scenePath, []byte(`{"tracking": {"classes": ["person"]},
 "zones": [{"name": "lot", "polygon": [[0.0, 0.2], [0.35, 0.2], [0.35, 0.6], [0.0, 0.6]]}],
 "rules": [{"name": "lot busy", "zone": "lot", "when": "occupancy_above", "count": 2, "cooldown_s": 600}]}`), 0o644)
	clips := filepath.Join(dir, "clips")
	code, out, stderr := runCLI(t, nil, "run", "--source", h264, "--backend", "local", "--scene", scenePath,
		"--clip-dir", clips, "--pre", "2s", "--post", "2s", "--camera", "gate", "--events", "-", "--max-frames", "400")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var alertClip, clipFile string
	for _, l := range jsonLines(t, out) {
		switch l["type"] {
		case "alert":
			alertClip, _ = l["clip"].(string)
		case "clip":
			clipFile, _ = l["file"].(string)
		}
	}
	if alertClip == "" || alertClip != clipFile || !strings.Contains(filepath.Base(clipFile), "clip-gate-") {
		t.Fatalf("alert names clip %q, clip event %q", alertClip, clipFile)
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "format=duration:frame=key_frame",
		"-read_intervals", "%+#1", "-of", "csv=p=0", clipFile).Output()
	lines := strings.Fields(string(probe))
	if err != nil || len(lines) < 2 || lines[0] != "1" {
		t.Fatalf("ffprobe %q: %v (want the first frame a keyframe)", probe, err)
	}
	if d, _ := strconv.ParseFloat(lines[len(lines)-1], 64); d < 3 || d > 5.5 {
		t.Errorf("the clip lasts %.2f s, want 4 ± one GOP", d)
	}
}
