package cli

// Keys never leave the process: not in stdout, stderr, logs or any file a
// command writes, whatever the service answers; never taken from flags;
// and never sent to a server whose certificate does not verify.

import (
	"bytes"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

// secretKey is recognisable anywhere it might leak.
const secretKey = "SECRET-KEY-3f9a7c1e5b2d40688e1f"

// lockedBuffer collects log output from concurrent goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// echoes are service answers that repeat the key back, as a misconfigured
// proxy or a verbose gateway might: the client must redact them.
func echoes() []azuretest.Reply {
	return []azuretest.Reply{
		azuretest.BadKey(),
		azuretest.Raw(401, nil, `{"error":{"code":"401","message":"Access denied for key `+secretKey+`"}}`),
		azuretest.Error(400, "InvalidRequest", "Key "+secretKey+" is not valid for this resource."),
		azuretest.Raw(403, nil, `{"code":"Forbidden","message":"`+secretKey+`"}`).WithHeader("apim-request-id", secretKey),
		azuretest.Raw(502, nil, "<html>upstream said: Ocp-Apim-Subscription-Key: "+secretKey+"\n</html>"),
		azuretest.Throttled("0"),
		azuretest.Truncated(),
		azuretest.InvalidJSON(),
	}
}

// TestSecretsNeverPrinted runs every command path that talks to the cloud,
// with debug logging captured, and greps everything produced for the key.
func TestSecretsNeverPrinted(t *testing.T) {
	var logs lockedBuffer
	old := slog.Default()
	// The Azure client logs every attempt at debug level to slog.Default
	// (and the log package goes there too): capture it all.
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })

	dir := t.TempDir()
	requests := 0
	// One input per echo, files and URLs, so that every echo is answered.
	var images []string
	for len(images) < len(echoes()) {
		images = append(images, goodImage, opencvData+"messi5.jpg", "https://example.com/photo.jpg")
	}
	images = images[:len(echoes())]
	runs := []struct {
		name    string
		replies []azuretest.Reply
		args    []string
	}{
		{"analyze", echoes(), append([]string{"analyze", "--features", "tags,read", "--workers", "1", "--retries", "0"}, images...)},
		{"ocr", echoes(), append([]string{"ocr", "--workers", "2", "--retries", "0"}, images...)},
		{"predict", echoes(), append([]string{"predict", "--project", cvProject, "--published-name", cvPublished, "--workers", "1", "--retries", "0"}, images...)},
		{"analyze recorded", nil, append([]string{"analyze", "--features", "caption"}, images...)},
		// A run in auto mode meets the echoes, switches to local, probes
		// back: backend reasons and analysis errors are in the events.
		{"run", append(echoes(), echoes()...), []string{"run", "--source", demoVideo, "--backend", "auto", "--realtime", "--duration", "3s",
			"--cloud-per-minute", "600", "--events", filepath.Join(dir, "events.jsonl"), "--out", filepath.Join(dir, "out.mp4"),
			"--snapshot-dir", filepath.Join(dir, "snapshots")}},
		{"run azure", echoes(), []string{"run", "--source", demoVideo, "--backend", "azure", "--max-frames", "20", "--events", "-"}},
		{"document", echoes(), append([]string{"document", "--workers", "1", "--retries", "0"}, images...)},
		{"bad endpoint", nil, []string{"analyze", goodImage}},
		{"help", nil, []string{"analyze", "--help"}},
		{"version", nil, []string{"version"}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			// A server each, so that unused replies do not spill over.
			srv := azuretest.New(t, azuretest.Lenient(), azuretest.WithKey(secretKey))
			srv.Enqueue(r.replies...)
			env := cloudEnv(srv, "")
			if r.name == "bad endpoint" {
				env = cloudEnv(srv, "ftp://vision.example.com") // a configuration error
			}
			code, out, stderr := runCLI(t, env, r.args...)
			t.Logf("exit %d, %d requests", code, srv.Count())
			requests += srv.Count()
			// The key did travel where it belongs: the auth header.
			if srv.Count() > 0 {
				h := srv.Requests()[0].Header
				if h.Get("Ocp-Apim-Subscription-Key") != secretKey && h.Get("Prediction-Key") != secretKey {
					t.Errorf("the key was not sent in the auth header")
				}
			}
			if strings.Contains(out+stderr, secretKey) {
				t.Errorf("the key appears in the output:\nstdout %s\nstderr %s", out, stderr)
			}
		})
	}
	if requests == 0 {
		t.Fatal("no request reached a server: the test proves nothing")
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secretKey)) {
			t.Errorf("the key appears in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Errorf("only %d files written: expected the events and the recording", files)
	}
	if strings.Contains(logs.String(), secretKey) {
		t.Errorf("the key appears in the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "azure request") {
		t.Errorf("no debug log captured: the test does not see the client's logs")
	}
}

// TestKeyFlagsRefused: a key on the command line is visible in ps and in
// shell history, so every command refuses it, saying why and what to use,
// without echoing it.
func TestKeyFlagsRefused(t *testing.T) {
	rows := []struct {
		args []string
		env  string // the variable the message points to
	}{
		{[]string{"analyze", "--key", secretKey, goodImage}, "VISION_KEY"},
		{[]string{"analyze", goodImage, "--vision-key=" + secretKey}, "VISION_KEY"},
		{[]string{"ocr", "-key=" + secretKey, goodImage}, "VISION_KEY"},
		{[]string{"predict", "--project", cvProject, "--published-name", cvPublished, "--prediction-key", secretKey, goodImage}, "CUSTOM_VISION_PREDICTION_KEY"},
		{[]string{"predict", "--model", cvSample, "--Prediction_Key", secretKey, goodImage}, "CUSTOM_VISION_PREDICTION_KEY"},
		{[]string{"run", "--source", demoVideo, "--api-key", secretKey}, "VISION_KEY"},
		{[]string{"gui", "--vision-key", secretKey}, "VISION_KEY"},
		{[]string{"--key=" + secretKey}, "VISION_KEY"}, // the default command, the GUI
		{[]string{"version", "--apikey", secretKey}, "VISION_KEY"},
		{[]string{"document", "--key", secretKey, goodImage}, "DOCUMENT_INTELLIGENCE_KEY"},
	}
	for _, r := range rows {
		t.Run(strings.ReplaceAll(strings.Join(r.args, " "), secretKey, "KEY"), func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, r.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stdout %q, stderr %q: want one line on stderr only", out, stderr)
			}
			for _, w := range []string{"not accepted as flags", "ps", "shell history", r.env, "keyring"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
			if strings.Contains(stderr, secretKey) {
				t.Errorf("the refusal echoes the key: %q", stderr)
			}
		})
	}
}

func TestRefuseKeyFlags(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		refuse bool
	}{
		{[]string{"--key", "x"}, true},
		{[]string{"img.jpg", "--API-KEY=x"}, true},
		{[]string{"--subscription-key", "x"}, true},
		{[]string{"--custom_vision_key=x"}, true},
		{[]string{"--monkey", "--keyframes", "--features", "tags"}, false},
		{[]string{"--", "--key"}, false}, // an input named --key
		{[]string{"-", "key", "k"}, false},
		{nil, false},
	} {
		if err := refuseKeyFlags("analyze", tt.args); (err != nil) != tt.refuse {
			t.Errorf("refuseKeyFlags(%q) = %v, want refused %v", tt.args, err, tt.refuse)
		} else if err != nil {
			if _, ok := err.(usageError); !ok {
				t.Errorf("refuseKeyFlags(%q) = %T, want a usage error (exit 2)", tt.args, err)
			}
		}
	}
}

// TestAzureTLSVerified: an https endpoint with a certificate nobody vouches
// for (httptest's self-signed one) is refused before any request, and so
// before the key is sent.
func TestAzureTLSVerified(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"modelVersion":"2023-10-01","metadata":{"width":864,"height":576},"tagsResult":{"values":[]}}`))
	}))
	defer srv.Close()
	environ := map[string]string{
		"VISION_ENDPOINT": srv.URL, "VISION_KEY": secretKey,
		"CUSTOM_VISION_PREDICTION_ENDPOINT": srv.URL, "CUSTOM_VISION_PREDICTION_KEY": secretKey,
	}
	for _, args := range [][]string{
		{"analyze", "--features", "tags", "--retries", "0", goodImage},
		{"predict", "--project", cvProject, "--published-name", cvPublished, "--retries", "0", goodImage},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, out, stderr := runCLI(t, environ, args...)
			if code != exitFailed {
				t.Errorf("exit %d, want 1 (stderr %q)", code, stderr)
			}
			checkLines(t, out, args[len(args)-1:], [][]string{{"certificate"}})
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the untrusted server received %d requests", hits.Load())
	}
}

// TestTLSVerificationNeverDisabled: no source file in the module turns
// certificate verification off.
func TestTLSVerificationNeverDisabled(t *testing.T) {
	needle := []byte("Insecure" + "SkipVerify") // not found in this file
	files := 0
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "deps" || d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			t.Errorf("%s turns TLS verification off", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Errorf("only %d Go files scanned: the walk missed the module", files)
	}
}

// TestSourceTLSVerified: an https:// video source with an untrusted
// certificate must not play. FFmpeg's tls_verify defaults to 0, so the
// demuxer options must turn it on.
func TestSourceTLSVerified(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, demoVideo)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	code, out, stderr := runCLI(t, nil, "run", "--source", srv.URL+"/vtest.avi", "--backend", "local",
		"--max-frames", "3", "--open-timeout", "2s", "--events", "-")
	if code != exitFailed {
		t.Errorf("exit %d, want 1: a source whose certificate does not verify must not play (stderr %q)", code, stderr)
	}
	lines := jsonLines(t, out)
	if len(lines) > 0 && lines[len(lines)-1]["frames_read"] != 0.0 {
		t.Errorf("%v frames read from an unverified https source", lines[len(lines)-1]["frames_read"])
	}
}
