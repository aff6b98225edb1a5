package cli

// The fault matrix of issue 8, through the public commands: every bad
// input, broken model and misbehaving service must end in one clear line,
// the contract's exit code, and the other inputs still answered in order.

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/internal/deps"
)

const (
	goodImage = azureImages + "azure-ai-vision-sdk_laptop-on-kitchen-table.jpg"
	cvSample  = "../../../shared/models/customvision-classifier-sample/"
	// Any id and name: the loopback service answers every project.
	cvProject   = "0d3b2f4e-6c1a-4e8b-9f27-5a4c3b2d1e0f"
	cvPublished = "Iteration1"
	// azureTimeoutEnv bounds each Azure attempt so that a hanging service
	// fails fast; the lead wires it into newAzureAnalyzer/newAzurePredictor.
	azureTimeoutEnv = "SIGHTLINE_AZURE_TIMEOUT"
)

// cloudEnv points the Azure services at srv (or at endpoint, when set).
func cloudEnv(srv *azuretest.Server, endpoint string) map[string]string {
	if endpoint == "" {
		endpoint = srv.URL
	}
	return map[string]string{
		"VISION_ENDPOINT": endpoint, "VISION_KEY": srv.Key,
		"CUSTOM_VISION_PREDICTION_ENDPOINT": endpoint, "CUSTOM_VISION_PREDICTION_KEY": srv.Key,
		"DOCUMENT_INTELLIGENCE_ENDPOINT": endpoint, "DOCUMENT_INTELLIGENCE_KEY": srv.Key,
		azureTimeoutEnv: "500ms",
	}
}

// faultCommand is a command line the inputs are appended to; kind selects
// the expected error ("vision", "customvision" or "local").
type faultCommand struct {
	name string
	kind string
	args []string
}

// One worker, no retries: requests reach the server in input order, so a
// scripted fault hits the input meant for it, and nothing waits on backoff.
var (
	cloudCommands = []faultCommand{
		{"analyze", "vision", []string{"analyze", "--backend", "azure", "--features", "tags,objects", "--workers", "1", "--retries", "0"}},
		{"ocr", "vision", []string{"ocr", "--backend", "azure", "--workers", "1", "--retries", "0"}},
		{"predict", "customvision", []string{"predict", "--backend", "azure", "--project", cvProject, "--published-name", cvPublished, "--workers", "1", "--retries", "0"}},
	}
	localCommands = []faultCommand{
		{"analyze-local", "local", []string{"analyze", "--backend", "local", "--features", "objects,people,tags", "--workers", "2"}},
		{"ocr-local", "local", []string{"ocr", "--backend", "local", "--workers", "2"}},
		{"predict-local", "local", []string{"predict", "--model", cvSample, "--workers", "2"}},
	}
)

// checkLines checks one line per input in input order, and that failed
// inputs carry one clear line containing every wanted piece.
func checkLines(t *testing.T, out string, inputs []string, want [][]string) {
	t.Helper()
	lines := jsonLines(t, out)
	if len(lines) != len(inputs) {
		t.Fatalf("%d lines for %d inputs:\n%s", len(lines), len(inputs), out)
	}
	for i, l := range lines {
		if l["input"] != inputs[i] {
			t.Errorf("line %d is for %v, want %s (input order)", i, l["input"], inputs[i])
		}
		msg, _ := l["error"].(string)
		if want[i] == nil {
			if l["success"] != true {
				t.Errorf("%s: failed: %q", filepath.Base(inputs[i]), msg)
			}
			continue
		}
		if l["success"] != false || msg == "" || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%s: success %v, error %q: want one clear error line", filepath.Base(inputs[i]), l["success"], msg)
		}
		for _, w := range want[i] {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not say %q", filepath.Base(inputs[i]), msg, w)
			}
		}
	}
}

// badImages writes the inputs that must fail (or, locally, may pass) to dir.
type badImages struct {
	zero, garbage, tiny, tall, over4MB, over20MB, missing string
}

func writeBadImages(t *testing.T) badImages {
	t.Helper()
	dir := t.TempDir()
	b := badImages{
		zero:     filepath.Join(dir, "zero.jpg"),
		garbage:  filepath.Join(dir, "garbage.jpg"),
		tiny:     filepath.Join(dir, "tiny.png"),
		tall:     filepath.Join(dir, "wide.png"),
		over4MB:  filepath.Join(dir, "over4MB.jpg"),
		over20MB: filepath.Join(dir, "over20MB.jpg"),
		missing:  filepath.Join(dir, "missing.jpg"),
	}
	write := func(path string, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(b.zero, nil)
	write(b.garbage, bytes.Repeat([]byte("\x13garbage\xfe"), 500))
	write(b.tiny, pngOf(t, 40, 40))
	write(b.tall, pngOf(t, 17000, 64))
	// A real JPEG with padding after its end marker: decoders stop at the
	// marker, so the file is valid, small in pixels and large in bytes, and
	// no downscaling can bring it under the limit.
	jpg, err := os.ReadFile(opencvData + "messi5.jpg")
	if err != nil {
		t.Fatal(err)
	}
	write(b.over4MB, append(bytes.Clone(jpg), make([]byte, 5<<20)...))
	write(b.over20MB, append(bytes.Clone(jpg), make([]byte, 21<<20)...))
	return b
}

// pngOf encodes a w×h gradient, so the image is real and not a blank.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{Y: uint8((x + y) % 256)})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFaultImages sends every bad image, between two good ones, through
// each command: each bad one gets its own clear line, the good ones still
// succeed, and the exit code is 1.
func TestFaultImages(t *testing.T) {
	b := writeBadImages(t)
	srv := azuretest.New(t, azuretest.Lenient())
	notImage := []string{"not a JPEG, PNG"}
	sides := func(s string) []string { return []string{s + " px", "50–16000"} }
	// want: per kind, nil for success or the pieces the error must say.
	rows := []struct {
		input string
		want  map[string][]string
	}{
		{goodImage, nil},
		{b.zero, map[string][]string{"vision": {"empty file"}, "customvision": {"empty file"}, "local": {"empty file"}}},
		{b.garbage, map[string][]string{"vision": notImage, "customvision": notImage, "local": {"not a readable image"}}},
		{b.tiny, map[string][]string{"vision": sides("40×40"), "customvision": sides("40×40")}},
		{b.tall, map[string][]string{"vision": sides("17000×64"), "customvision": sides("17000×64")}},
		{b.over4MB, map[string][]string{"customvision": {"5.1 MB", "less than 4.0 MB"}}},
		{b.over20MB, map[string][]string{"vision": {"21.1 MB", "less than 20.0 MB"}, "customvision": {"21.1 MB", "less than 4.0 MB"}}},
		{b.missing, map[string][]string{"vision": {"no such file"}, "customvision": {"no such file"}, "local": {"no such file"}}},
		{"https://example.com/photo.jpg", map[string][]string{"local": {"does not fetch URLs"}}},
		{opencvData + "messi5.jpg", nil},
	}
	for _, c := range append(append([]faultCommand{}, cloudCommands...), localCommands...) {
		t.Run(c.name, func(t *testing.T) {
			var inputs []string
			var want [][]string
			for _, r := range rows {
				inputs = append(inputs, r.input)
				want = append(want, r.want[c.kind])
			}
			before := srv.Count()
			code, out, stderr := runCLI(t, cloudEnv(srv, ""), append(append([]string{}, c.args...), inputs...)...)
			if code != exitFailed {
				t.Errorf("exit %d, want 1 (stderr %q)", code, stderr)
			}
			checkLines(t, out, inputs, want)
			// Rejected images are rejected before upload: only the good
			// ones and the URL cost a call.
			if c.kind != "local" {
				sent := 0
				for i, w := range want {
					if w == nil || strings.HasPrefix(inputs[i], "https://") {
						sent++
					}
				}
				if got := srv.Count() - before; got != sent {
					t.Errorf("the service received %d requests, want %d (one per acceptable input)", got, sent)
				}
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestFaultService scripts every service failure for the first input and
// lets the recordings answer the second: the first line says what went
// wrong (HTTP status and service code), the second still succeeds.
func TestFaultService(t *testing.T) {
	const huge = 20 << 20 // over the client's 16 MiB cap
	rows := []struct {
		name    string
		reply   azuretest.Reply
		input   string   // default goodImage
		retries string   // default 0
		dead    bool     // the endpoint is a closed port
		want    []string // nil: the first input succeeds too
	}{
		{name: "image URL 404", reply: azuretest.Error(400, "InvalidRequest", "The provided image url is not accessible."),
			input: "https://example.com/missing.jpg", want: []string{"HTTP 400", "InvalidRequest", "not accessible"}},
		{name: "401 bad key", reply: azuretest.BadKey(), want: []string{"HTTP 401", "code 401", "invalid subscription key"}},
		{name: "403 quota", reply: azuretest.GatewayError(403, "403", "Out of call volume quota for ComputerVision F0 pricing tier."),
			want: []string{"HTTP 403", "code 403", "quota"}},
		{name: "404 wrong endpoint", reply: azuretest.GatewayError(404, "404", "Resource not found"), want: []string{"HTTP 404", "Resource not found"}},
		{name: "429 throttled", reply: azuretest.Throttled("1"), want: []string{"HTTP 429", "code 429", "Rate limit"}},
		{name: "429 then retried", reply: azuretest.Throttled("1"), retries: "1"},
		{name: "500", reply: azuretest.Error(500, "InternalServerError", "An unexpected error occurred."), want: []string{"HTTP 500", "InternalServerError"}},
		{name: "503", reply: azuretest.Error(503, "ServiceUnavailable", "The service is temporarily unavailable."), want: []string{"HTTP 503", "ServiceUnavailable"}},
		{name: "503 without body", reply: azuretest.Raw(503, nil, ""), want: []string{"HTTP 503 Service Unavailable"}},
		{name: "HTML from a proxy", reply: azuretest.Raw(502, http.Header{"Content-Type": {"text/html"}}, "<html>\n<body>502 Bad Gateway</body>\n</html>"),
			want: []string{"HTTP 502", "Bad Gateway"}},
		{name: "invalid JSON", reply: azuretest.InvalidJSON(), want: []string{"invalid JSON"}},
		{name: "wrong shape", reply: azuretest.WrongShape(), want: []string{"unexpected response shape"}},
		{name: "huge body", reply: azuretest.Huge(huge), want: []string{"larger than 16 MiB"}},
		{name: "truncated body", reply: azuretest.Truncated(), want: []string{"truncated"}},
		{name: "hang", reply: azuretest.Hang(), want: []string{"no response within 500ms"}},
		{name: "unreachable", dead: true, want: []string{"request failed", "connection refused"}},
	}
	for _, c := range cloudCommands {
		for _, r := range rows {
			t.Run(c.name+"/"+r.name, func(t *testing.T) {
				t.Parallel() // loopback servers of their own; hangs overlap
				srv := azuretest.New(t, azuretest.Lenient())
				endpoint := ""
				if r.dead {
					endpoint = closedPort(t)
				} else {
					srv.Enqueue(r.reply)
				}
				input := r.input
				if input == "" {
					input = goodImage
				}
				args := append([]string{}, c.args...)
				if r.retries != "" {
					args = append(args, "--retries", r.retries)
				}
				inputs := []string{input, opencvData + "messi5.jpg"}
				code, out, stderr := runCLI(t, cloudEnv(srv, endpoint), append(args, inputs...)...)
				wantCode, want := exitFailed, [][]string{r.want, nil}
				if r.dead {
					want[1] = r.want // nothing answers the second input either
				}
				if r.want == nil {
					wantCode = exitOK
				}
				if code != wantCode {
					t.Errorf("exit %d, want %d (stderr %q)", code, wantCode, stderr)
				}
				if stderr != "" {
					t.Errorf("stderr %q: per-input failures belong in the JSON lines", stderr)
				}
				checkLines(t, out, inputs, want)
				if r.retries != "" && srv.Count() != 3 {
					t.Errorf("the service received %d requests, want 3 (one retry)", srv.Count())
				}
			})
		}
	}
}

// modelDir builds a Custom Vision export folder in a temp dir from a model
// file (nil: none) and labels.txt contents (nil: none).
func modelDir(t *testing.T, model []byte, labels []byte) string {
	t.Helper()
	dir := t.TempDir()
	if model != nil {
		if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if labels != nil {
		if err := os.WriteFile(filepath.Join(dir, "labels.txt"), labels, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readModel(t *testing.T, rel string) []byte {
	t.Helper()
	path := rel
	if !filepath.IsAbs(rel) && !strings.HasPrefix(rel, ".") {
		var err error
		if path, err = deps.Model(rel); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFaultCustomVisionModel: a broken export folder is a configuration
// error (exit 2, one line on stderr naming the file), never a crash.
func TestFaultCustomVisionModel(t *testing.T) {
	cv := readModel(t, cvSample+"model.onnx")
	labels := []byte("hemlock\nJapaneseCherry\n")
	rows := []struct {
		name string
		dir  string
		want []string
	}{
		{"model.onnx missing", modelDir(t, nil, labels), []string{"model.onnx", "no such file"}},
		{"model.onnx truncated", modelDir(t, cv[:len(cv)/3], labels), []string{"model.onnx"}},
		{"model.onnx empty", modelDir(t, []byte{}, labels), []string{"model.onnx"}},
		{"model.onnx not ONNX", modelDir(t, []byte("<html>404 Not Found</html>"), labels), []string{"model.onnx"}},
		// YOLOX has an image input of the right layout but detector outputs
		// of its own; BlazeFace takes NHWC input.
		{"YOLOX as export", modelDir(t, readModel(t, "yolox-nano/yolox_nano.onnx"), readModel(t, cvSample+"labels.txt")),
			[]string{"expected Custom Vision outputs"}},
		{"BlazeFace as export", modelDir(t, readModel(t, "blazeface/face_detection_back_256x256_barracuda.onnx"), labels),
			[]string{"expected one float image input"}},
		{"labels count", modelDir(t, cv, []byte("hemlock\nJapaneseCherry\nmaple\n")), []string{"3 labels", "2 classes"}},
		{"labels wrong names", modelDir(t, cv, []byte("hemlock\nmaple\n")), []string{"lacks the model's class"}},
		// Without labels.txt the names come from the model (the sample's
		// ZipMap); a model with none of its own is the error.
		{"labels missing, none in the model", modelDir(t, readModel(t, "yolox-nano/yolox_nano.onnx"), nil), []string{"labels.txt", "no class names"}},
		{"labels empty", modelDir(t, cv, []byte("\n \r\n")), []string{"no labels"}},
		{"folder missing", filepath.Join(t.TempDir(), "nope"), []string{"nope"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, "predict", "--model", r.dir, opencvData+"messi5.jpg")
			if code != exitUsage {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if out != "" {
				t.Errorf("stdout %q: a configuration error prints no lines", out)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 || !strings.HasPrefix(stderr, "sightline predict: ") {
				t.Errorf("stderr %q is not one line", stderr)
			}
			for _, w := range r.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

// TestFaultYOLOXModel: a broken detector in $SIGHTLINE_MODELS. The local
// backend loads it on first use, so every input says why, in one line.
func TestFaultYOLOXModel(t *testing.T) {
	yolox := readModel(t, "yolox-nano/yolox_nano.onnx")
	classes := readModel(t, "yolox-nano/coco_classes.json")
	rows := []struct {
		name             string
		model, classJSON []byte
		want             []string
	}{
		// A model missing from $SIGHTLINE_MODELS is looked up in the
		// installed folder (README), so that is no fault.
		{"model missing", nil, classes, nil},
		{"model truncated", yolox[:len(yolox)/3], classes, []string{"yolox_nano.onnx"}},
		{"classes wrong count", yolox, []byte(`["person","bicycle","car"]`), []string{"3", "80"}},
		{"classes not JSON", yolox, []byte(`person, bicycle`), []string{"coco_classes.json", "JSON array"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			models := t.TempDir()
			dir := filepath.Join(models, "yolox-nano")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{"coco_classes.json": r.classJSON}
			if r.model != nil {
				files["yolox_nano.onnx"] = r.model
			}
			for name, b := range files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("SIGHTLINE_MODELS", models)
			inputs := []string{goodImage, opencvData + "messi5.jpg"}
			code, out, stderr := runCLI(t, nil, append([]string{"analyze", "--backend", "local", "--features", "objects"}, inputs...)...)
			if r.want == nil {
				if code != exitOK {
					t.Errorf("exit %d, want 0 (stderr %q)", code, stderr)
				}
				checkLines(t, out, inputs, [][]string{nil, nil})
				return
			}
			// A broken model is a configuration error, said once up front.
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d with output %q, want 2 and nothing on stdout (stderr %q)", code, out, stderr)
			}
			for _, w := range r.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

// TestFaultVideo: damaged files through `run`. A file damaged part-way
// plays what decodes and ends with eof (exit 0); one with no decodable
// frame is an error (exit 1). The summary is the last line either way.
func TestFaultVideo(t *testing.T) {
	dir := t.TempDir()
	megamind, err := os.ReadFile(opencvData + "Megamind.avi")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Overwrite a stretch in the middle with garbage: decodable on both sides.
	corrupt := bytes.Clone(megamind)
	copy(corrupt[len(corrupt)/2:], bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8<<10))
	jpeg, err := os.ReadFile(opencvData + "messi5.jpg")
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name       string
		source     string
		code       int
		minFrames  float64 // frames_read bounds (270 in the whole file)
		maxFrames  float64
		lastStatus string
		detail     string // the last status's detail says this
	}{
		{"truncated at half", write("half.avi", megamind[:len(megamind)/2]), exitOK, 60, 200, "eof", "truncated or damaged"},
		{"corrupt in the middle", write("corrupt.avi", corrupt), exitOK, 100, 270, "eof", "truncated or damaged"},
		{"opencv's damaged sample", opencvData + "Megamind_bugy.avi", exitOK, 1, 270, "eof", ""},
		{"header only", write("header.avi", megamind[:6<<10]), exitFailed, 0, 0, "error", "header.avi"},
		{"garbage", write("garbage.mp4", bytes.Repeat([]byte("\x00\x01garbage"), 4096)), exitFailed, 0, 0, "error", "garbage.mp4"},
		{"zero bytes", write("zero.mp4", nil), exitFailed, 0, 0, "error", "zero.mp4"},
		// FFmpeg reads a still image as a one-frame video: no fault.
		{"an image named .mp4", write("photo.mp4", jpeg), exitOK, 1, 1, "eof", ""},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, "run", "--source", r.source, "--backend", "local", "--features", "objects",
				"--fps-limit", "1", "--open-timeout", "5s", "--events", "-")
			if code != r.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, r.code, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr is more than one line: %q", stderr)
			}
			lines := jsonLines(t, out)
			if len(lines) == 0 {
				t.Fatal("no events")
			}
			sum := lines[len(lines)-1]
			if sum["type"] != "summary" {
				t.Fatalf("last event %v, want the summary", sum)
			}
			var states []string
			var last map[string]any
			for _, l := range lines {
				if l["type"] == "status" {
					states = append(states, l["state"].(string))
					last = l
				}
			}
			if last == nil || last["state"] != r.lastStatus {
				t.Errorf("states %v, want the last to be %s", states, r.lastStatus)
			}
			d, _ := last["detail"].(string)
			if (r.lastStatus == "error" && d == "") || strings.ContainsAny(d, "\r\n") || !strings.Contains(d, r.detail) {
				t.Errorf("last status detail %q is not one clear line saying %q", d, r.detail)
			}
			t.Logf("states %v, last detail %q", states, d)
			if n, _ := sum["frames_read"].(float64); n < r.minFrames || n > r.maxFrames {
				t.Errorf("frames_read %v, want %v–%v", n, r.minFrames, r.maxFrames)
			}
		})
	}
}

// TestFaultRunCloud: in auto mode a failing cloud switches the run to the
// local backend at once, saying why in the backend event, and the run goes
// on to a normal end with local analyses.
func TestFaultRunCloud(t *testing.T) {
	rows := []struct {
		name  string
		reply azuretest.Reply
		dead  bool
		want  string
	}{
		{name: "401", reply: azuretest.BadKey(), want: "HTTP 401"},
		{name: "503", reply: azuretest.Error(503, "ServiceUnavailable", "The service is temporarily unavailable."), want: "HTTP 503"},
		{name: "invalid JSON", reply: azuretest.InvalidJSON(), want: "invalid JSON"},
		{name: "hang", reply: azuretest.Hang(), want: "no response within 500ms"},
		{name: "unreachable", dead: true, want: "connection refused"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			srv := azuretest.New(t, azuretest.Lenient())
			endpoint := ""
			if r.dead {
				endpoint = closedPort(t)
			} else {
				// Every call fails, probes included.
				srv.Enqueue(r.reply, r.reply, r.reply, r.reply, r.reply, r.reply)
			}
			// Default features, so the cloud has the caption to do; real
			// time and a fast budget, so the first call goes at once.
			code, out, stderr := runCLI(t, cloudEnv(srv, endpoint), "run", "--source", demoVideo, "--backend", "auto",
				"--max-frames", "20", "--realtime", "--cloud-per-minute", "600", "--events", "-")
			if code != exitOK {
				t.Errorf("exit %d, want 0: auto mode carries on locally (stderr %q)", code, stderr)
			}
			lines := jsonLines(t, out)
			var reasons []string
			for _, l := range lines {
				if l["type"] == "backend" && l["backend"] == "local" {
					reasons = append(reasons, l["reason"].(string))
				}
			}
			found := false
			for _, reason := range reasons {
				found = found || strings.Contains(reason, r.want)
				if strings.ContainsAny(reason, "\r\n") {
					t.Errorf("reason %q is not one line", reason)
				}
			}
			if !found {
				t.Errorf("backend switches to local %q: none says %q", reasons, r.want)
			}
			sum := lines[len(lines)-1]
			if n, _ := sum["local_analyses"].(float64); sum["type"] != "summary" || n < 5 || sum["cloud_errors"] == 0.0 {
				t.Errorf("last event %v: want the summary, with the cloud error and local analyses after it", sum)
			}
		})
	}
}
