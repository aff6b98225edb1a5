package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/video/videotest"
)

// Three RTSP streams and a file in one run: each camera has its own
// events, named; a stream killed and restarted recovers alone; the
// cameras share the local detectors fairly; one summary comes last.
func TestRunSeveralCameras(t *testing.T) {
	live := videotest.Live(t)
	var servers []*videotest.RTSPServer
	cams := []cameraFile{}
	for _, name := range []string{"line-1", "line-2", "line-3"} {
		srv := videotest.StartRTSP(t, videotest.FreePort(t), live, false)
		servers = append(servers, srv)
		cams = append(cams, cameraFile{Name: name, Source: srv.URL()})
	}
	cams = append(cams, cameraFile{Name: "yard", Source: demoVideo})
	dir := t.TempDir()
	path := filepath.Join(dir, "cameras.json")
	b, _ := json.Marshal(cams)
	os.WriteFile(path, b, 0o644)
	go func() {
		time.Sleep(6 * time.Second)
		servers[2].Kill()
		time.Sleep(3 * time.Second)
		servers[2].Start()
	}()
	code, out, stderr := runCLI(t, nil, "run", "--cameras", path, "--backend", "local", "--fps-limit", "8",
		"--duration", "20s", "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, out)
	analyses := map[string]int{}
	states := map[string][]string{}
	for _, l := range lines[:len(lines)-1] {
		cam, _ := l["camera"].(string)
		if cam == "" {
			t.Fatalf("an event of a multi-camera run without its camera: %v", l)
		}
		switch l["type"] {
		case "analysis":
			analyses[cam]++
		case "status":
			states[cam] = append(states[cam], l["state"].(string))
		}
	}
	sum := lines[len(lines)-1]
	per, _ := sum["cameras"].(map[string]any)
	if sum["type"] != "summary" || len(per) != 4 {
		t.Fatalf("summary %v: want the four cameras", sum)
	}
	for _, name := range []string{"line-1", "line-2", "yard"} {
		if n := per[name].(map[string]any)["reconnects"].(float64); n != 0 {
			t.Errorf("%s reconnected %v times: another camera's trouble disturbed it", name, n)
		}
	}
	if n := per["line-3"].(map[string]any)["reconnects"].(float64); n < 1 || index(states["line-3"], "playing", index(states["line-3"], "reconnecting", 0)) < 0 {
		t.Errorf("line-3: %v reconnects, states %v: want it back playing", n, states["line-3"])
	}
	// The two streams nobody touched are equally busy: their analysed
	// rates stay within 20 % of each other.
	a, b2 := per["line-1"].(map[string]any)["analyzed_fps"].(float64), per["line-2"].(map[string]any)["analyzed_fps"].(float64)
	if a == 0 || math.Abs(a-b2)/math.Max(a, b2) > 0.2 {
		t.Errorf("analysed fps line-1 %.1f, line-2 %.1f: not within 20 %% (analyses %v)", a, b2, analyses)
	}
	t.Logf("analysed fps: %v", per)
}
