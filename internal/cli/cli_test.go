package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/video"
)

const (
	demoVideo   = deps.DemoVideo
	opencvData  = "/usr/share/doc/opencv-doc/examples/data/"
	azureImages = "../../../shared/azure/images/"
)

// runCLI runs a command in-process and returns its exit code and output.
func runCLI(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(k string) string {
		if v, ok := environ[k]; ok {
			return v
		}
		if k == "SIGHTLINE_MODELS" {
			return os.Getenv(k)
		}
		return ""
	}}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// jsonLines decodes every stdout line, failing on anything that is not JSON.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestRunOnDemoVideo(t *testing.T) {
	code, out, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--events", "-", "--max-frames", "50")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, out)
	if first := lines[0]; first["type"] != "backend" || first["backend"] != "local" {
		t.Errorf("first event %v, want the backend event", first)
	}
	var states []string
	framesWithPeople, analyses := 0, 0
	lastFrame := -1.0
	for _, l := range lines {
		if _, ok := l["t_ms"].(float64); !ok {
			t.Errorf("event without t_ms: %v", l)
		}
		switch l["type"] {
		case "status":
			states = append(states, l["state"].(string))
		case "analysis":
			analyses++
			if f := l["frame"].(float64); f != lastFrame+1 {
				t.Errorf("frame %v after %v: every frame of a file is analysed in order", f, lastFrame)
			}
			lastFrame = l["frame"].(float64)
			if l["source"] != "local" {
				t.Errorf("source %v", l["source"])
			}
			data := l["data"].(map[string]any)
			for _, k := range []string{"objects", "people", "tags", "metadata", "model_version"} {
				if _, ok := data[k]; !ok {
					t.Errorf("analysis data without %s", k)
				}
			}
			if _, ok := data["caption"]; ok {
				t.Error("caption present though not requested")
			}
			if md := data["metadata"].(map[string]any); md["width"] != 768.0 || md["height"] != 576.0 {
				t.Errorf("metadata %v, want 768×576", md)
			}
			if len(data["people"].([]any)) > 0 {
				framesWithPeople++
			}
		}
	}
	if analyses != 50 {
		t.Errorf("%d analyses, want 50", analyses)
	}
	if framesWithPeople < 45 {
		t.Errorf("people found on %d of 50 frames of people walking", framesWithPeople)
	}
	if len(states) < 2 || states[0] != "opening" || states[1] != "playing" {
		t.Errorf("states %v, want opening, playing…", states)
	}
	sum := lines[len(lines)-1]
	if sum["type"] != "summary" {
		t.Fatalf("last line %v is not the summary", sum)
	}
	for k, want := range map[string]float64{"frames_read": 50, "frames_shown": 50, "frames_analyzed": 50, "cloud_calls": 0, "cache_hits": 0, "reconnects": 0} {
		if sum[k] != want {
			t.Errorf("summary %s = %v, want %v", k, sum[k], want)
		}
	}
	for _, k := range []string{"read_fps", "analyzed_fps", "latency_ms_p50", "latency_ms_p95"} {
		if v, ok := sum[k].(float64); !ok || v <= 0 {
			t.Errorf("summary %s = %v", k, sum[k])
		}
	}
}

func TestRunEventsFileAndEOF(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.jsonl")
	code, out, stderr := runCLI(t, nil, "run", "--source", opencvData+"Megamind.avi", "--backend", "local", "--fps-limit", "2", "--events", events)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != "" {
		t.Errorf("stdout %q: events go to the file", out)
	}
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	lines := jsonLines(t, string(b))
	sum := lines[len(lines)-1]
	eof := false
	for _, l := range lines {
		if l["state"] == "eof" {
			eof = true
		}
	}
	if !eof {
		t.Error("no eof status at the end of the file")
	}
	read, analysed := sum["frames_read"].(float64), sum["frames_analyzed"].(float64)
	// Megamind.avi: 270 frames at 23.98 fps → about 11 s of video; 2 analyses a second.
	if read < 200 || analysed < 18 || analysed > 26 {
		t.Errorf("read %v frames, analysed %v: --fps-limit 2 should analyse ~2 per second of video", read, analysed)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "notes.mp4")
	os.WriteFile(notVideo, []byte("this is not a video"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no source", []string{"run"}, exitUsage, "--source is required"},
		{"missing file", []string{"run", "--source", filepath.Join(dir, "nope.avi"), "--backend", "local"}, exitFailed, "no such file"},
		{"not a video", []string{"run", "--source", notVideo, "--backend", "local"}, exitFailed, notVideo},
		{"unknown scheme", []string{"run", "--source", "ftp://example.com/x.mp4", "--backend", "local"}, exitFailed, "scheme"},
		{"unknown backend", []string{"run", "--source", demoVideo, "--backend", "gpu"}, exitUsage, "unknown backend"},
		{"unknown feature", []string{"run", "--source", demoVideo, "--backend", "local", "--features", "objects,colour"}, exitUsage, "unknown feature"},
		{"caption locally", []string{"run", "--source", demoVideo, "--backend", "local", "--features", "caption"}, exitUsage, "not available"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr+out, tt.msg) {
				t.Errorf("output %q %q does not say %q", out, stderr, tt.msg)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr is more than one line: %q", stderr)
			}
		})
	}
}

func TestAnalyzeLocal(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.jpg")
	os.WriteFile(zero, nil, 0o644)
	garbage := filepath.Join(dir, "garbage.jpg")
	os.WriteFile(garbage, bytes.Repeat([]byte("garbage!"), 100), 0o644)
	inputs := []string{
		azureImages + "azure-ai-vision-sdk_laptop-on-kitchen-table.jpg",
		zero,
		opencvData + "messi5.jpg",
		garbage,
		"https://example.com/cat.jpg",
		filepath.Join(dir, "missing.png"),
	}
	args := append([]string{"analyze", "--backend", "local", "--features", "objects,people,tags", "--workers", "3"}, inputs...)
	code, out, _ := runCLI(t, nil, args...)
	if code != exitFailed {
		t.Errorf("exit %d, want 1 (some inputs fail)", code)
	}
	lines := jsonLines(t, out)
	if len(lines) != len(inputs) {
		t.Fatalf("%d lines for %d inputs", len(lines), len(inputs))
	}
	wantOK := []bool{true, false, true, false, false, false}
	for i, l := range lines {
		if l["input"] != inputs[i] {
			t.Errorf("line %d is for %v, want %s (input order)", i, l["input"], inputs[i])
		}
		if l["success"] != wantOK[i] {
			t.Errorf("%s: success %v: %v", inputs[i], l["success"], l)
		}
		if !wantOK[i] {
			if msg, _ := l["error"].(string); msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("%s: error %q is not one clear line", inputs[i], msg)
			}
		}
	}
	data := lines[0]["data"].(map[string]any)
	if lines[0]["source"] != "local" || lines[0]["latency_ms"] == nil {
		t.Errorf("line %v lacks source/latency", lines[0])
	}
	names := map[string]bool{}
	for _, o := range data["objects"].([]any) {
		o := o.(map[string]any)
		names[o["name"].(string)] = true
		bb := o["bounding_box"].(map[string]any)
		for _, k := range []string{"x", "y", "w", "h"} {
			if _, ok := bb[k]; !ok {
				t.Errorf("bounding_box without %s", k)
			}
		}
	}
	if !names["laptop"] || !names["person"] {
		t.Errorf("objects %v, want a laptop and a person", names)
	}
	if len(data["people"].([]any)) != 1 {
		t.Errorf("people %v, want one", data["people"])
	}
	if mv, _ := data["model_version"].(string); !strings.HasPrefix(mv, "yolox_nano.onnx@") {
		t.Errorf("model_version %q", mv)
	}
}

func TestAnalyzeThreshold(t *testing.T) {
	count := func(threshold string) int {
		code, out, stderr := runCLI(t, nil, "analyze", "--backend", "local", "--features", "objects", "--threshold", threshold, opencvData+"messi5.jpg")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		objs := jsonLines(t, out)[0]["data"].(map[string]any)["objects"].([]any)
		for _, o := range objs {
			if c := o.(map[string]any)["confidence"].(float64); c < 0.01 {
				t.Errorf("confidence %v under the threshold", c)
			}
		}
		return len(objs)
	}
	def, all := count("0"), count("0.01")
	if all <= def {
		t.Errorf("--threshold 0.01 gave %d objects, default %d", all, def)
	}
}

func TestModelsEnvMustExist(t *testing.T) {
	t.Setenv("SIGHTLINE_MODELS", "/nonexistent/models")
	code, _, stderr := runCLI(t, nil, "analyze", "--backend", "local", opencvData+"messi5.jpg")
	if code != exitUsage || !strings.Contains(stderr, "SIGHTLINE_MODELS") {
		t.Errorf("exit %d %q, want 2 naming SIGHTLINE_MODELS", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version")
	l := jsonLines(t, out)
	if code != 0 || len(l) != 1 || l[0]["version"] == nil || l[0]["opencv"] == nil {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestRunAutoWithLoopbackAzure(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	environ := map[string]string{"VISION_ENDPOINT": srv.URL, "VISION_KEY": srv.Key}
	code, out, stderr := runCLI(t, environ, "run", "--source", demoVideo, "--backend", "auto", "--events", "-", "--max-frames", "200", "--cache-ttl", "5s")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, out)
	if first := lines[0]; first["type"] != "backend" || first["backend"] != "azure" {
		t.Errorf("first event %v, want backend azure", first)
	}
	sources := map[string]int{}
	for _, l := range lines {
		if l["type"] == "analysis" {
			sources[l["source"].(string)]++
			if l["source"] != "local" {
				if _, ok := l["data"].(map[string]any)["caption"]; !ok {
					t.Errorf("cloud result without the caption: %v", l)
				}
			}
		}
	}
	sum := lines[len(lines)-1]
	n := func(k string) int { return int(sum[k].(float64)) }
	if !(n("frames_read") >= n("frames_shown") && n("frames_shown") >= n("frames_analyzed")) {
		t.Errorf("frames read %d ≥ shown %d ≥ analysed %d does not hold", n("frames_read"), n("frames_shown"), n("frames_analyzed"))
	}
	if n("cloud_calls")+n("cache_hits")+n("local_analyses") != n("analyses") {
		t.Errorf("cloud %d + cache %d + local %d ≠ analyses %d", n("cloud_calls"), n("cache_hits"), n("local_analyses"), n("analyses"))
	}
	if sources["azure"] != n("cloud_calls") || sources["cache"] != n("cache_hits") || sources["local"] != n("local_analyses") {
		t.Errorf("events by source %v disagree with the summary %v", sources, sum)
	}
	// 200 frames at 10 fps are 20 s of video: at 20 calls a minute, ≤ 7 calls.
	if c := n("cloud_calls"); c < 1 || c > 7 || srv.Count() != c {
		t.Errorf("%d cloud calls (server saw %d), want 1–7 for 20 s at 20/min", c, srv.Count())
	}
	if n("local_analyses") != 200 {
		t.Errorf("%d local analyses, want every frame", n("local_analyses"))
	}
}

// countFrames decodes a video to its end and returns its frame count.
func countFrames(t *testing.T, path string) int {
	t.Helper()
	src, err := video.Open(context.Background(), path, video.Options{})
	if err != nil {
		t.Fatalf("%s does not open: %v", path, err)
	}
	defer src.Close()
	n := 0
	for {
		f, err := src.Next(context.Background())
		if err != nil {
			return n
		}
		f.Release()
		n++
	}
}

func TestRunRecordsAndSnapshots(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "annotated.mp4")
	snaps := filepath.Join(dir, "snaps")
	code, stdout, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--max-frames", "30",
		"--out", out, "--snapshot-dir", snaps, "--snapshot-every", "1s", "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := countFrames(t, out); n != 30 {
		t.Errorf("recording has %d frames, want 30", n)
	}
	files, _ := filepath.Glob(filepath.Join(snaps, "*.png"))
	events := 0
	for _, l := range jsonLines(t, stdout) {
		if l["type"] == "snapshot" {
			events++
		}
	}
	// 30 frames at 10 fps: snapshots at 0, 1 and 2 s of video.
	if len(files) != 6 || events != 3 {
		t.Errorf("%d snapshot files and %d events, want 6 (clean + annotated) and 3", len(files), events)
	}
}

// A run stopped part-way (--duration here, Ctrl-C alike) still leaves a
// playable recording and ends its events with the summary.
func TestRunInterruptedRecordingPlays(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cut.mp4")
	code, stdout, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--realtime",
		"--duration", "1500ms", "--out", out, "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, stdout)
	if last := lines[len(lines)-1]; last["type"] != "summary" {
		t.Errorf("last event %v", last)
	}
	stopped := false
	for _, l := range lines {
		stopped = stopped || l["state"] == "stopped"
	}
	if !stopped {
		t.Error("no stopped status")
	}
	if n := countFrames(t, out); n < 10 {
		t.Errorf("interrupted recording has %d frames", n)
	}
}

func TestAnalyzePrivacyRefusesURLs(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	environ := map[string]string{"VISION_ENDPOINT": srv.URL, "VISION_KEY": srv.Key}
	code, out, _ := runCLI(t, environ, "analyze", "--privacy", "--features", "caption",
		azureImages+"azure-ai-vision-sdk_sample.jpg", "https://example.com/face.jpg")
	lines := jsonLines(t, out)
	if code != exitFailed || len(lines) != 2 || lines[0]["success"] != true || lines[1]["success"] != false {
		t.Fatalf("exit %d, lines %v", code, lines)
	}
	if !strings.Contains(lines[1]["error"].(string), "URL") {
		t.Errorf("error %v", lines[1]["error"])
	}
	if srv.Count() != 1 {
		t.Errorf("server saw %d requests, want 1 (the URL must not be sent)", srv.Count())
	}
}

// Resources whose keys are disabled sign in with Entra ID instead: the
// configuration is accepted without a key (no sign-in happens here: this
// machine has no identity to use).
func TestEntraConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		want    bool
	}{
		{"key", map[string]string{"VISION_ENDPOINT": "https://x.cognitiveservices.azure.com", "VISION_KEY": "k"}, true},
		{"entra", map[string]string{"VISION_ENDPOINT": "https://x.cognitiveservices.azure.com", "SIGHTLINE_AZURE_AUTH": "entra"}, true},
		{"neither", map[string]string{"VISION_ENDPOINT": "https://x.cognitiveservices.azure.com"}, false},
		{"no endpoint", map[string]string{"VISION_KEY": "k"}, false},
	}
	for _, tt := range tests {
		e := env{getenv: func(k string) string { return tt.environ[k] }}
		a, err := visionFromEnv(e, 0)
		if got := a.Configured(); err != nil || got != tt.want {
			t.Errorf("%s: configured %v (%v), want %v", tt.name, got, err, tt.want)
		}
	}
	e := env{getenv: func(k string) string {
		return map[string]string{"VISION_ENDPOINT": "https://x.cognitiveservices.azure.com", "SIGHTLINE_AZURE_AUTH": "entra"}[k]
	}}
	a, err := visionFromEnv(e, 0)
	if err != nil || !a.Entra {
		t.Fatalf("entra: %+v, err %v", a, err)
	}
	if _, err := backend.Vision(a); err != nil {
		t.Errorf("entra: the client was not built: %v", err)
	}
}

// A cloud call hanging when the file ends does not hold the run up for the
// client's 30 s timeout: the run ends within its short grace.
func TestRunEndsWithoutWaitingForTheCloud(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	srv.Enqueue(azuretest.Hang())
	environ := map[string]string{"VISION_ENDPOINT": srv.URL, "VISION_KEY": srv.Key}
	start := time.Now()
	code, out, stderr := runCLI(t, environ, "run", "--source", demoVideo, "--backend", "auto", "--max-frames", "20", "--events", "-")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("run took %v with a hanging cloud call", took)
	}
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, out)
	if sum := lines[len(lines)-1]; sum["type"] != "summary" || sum["local_analyses"].(float64) != 20 {
		t.Errorf("summary %v", sum)
	}
}

// Help goes to stdout with exit 0: the commands for the program, the flags
// for a command.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"commands:", "analyze", "predict", "VISION_KEY"}},
		{[]string{"help"}, []string{"commands:", "sightline help COMMAND"}},
		{[]string{"-h"}, []string{"commands:"}},
		{[]string{"run", "--help"}, []string{"usage: sightline run --source URI", "-max-frames", "-events"}},
		{[]string{"help", "run"}, []string{"usage: sightline run", "-realtime"}},
		{[]string{"analyze", "-h"}, []string{"usage: sightline analyze [flags] INPUT...", "-features", "-workers"}},
		{[]string{"predict", "--help"}, []string{"--model DIR", "-detect", "-published-name"}},
		{[]string{"gui", "--help"}, []string{"usage: sightline [gui]", "-source", "-backend"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, tc.args...)
			if code != exitOK || stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
