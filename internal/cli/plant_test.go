package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/mqtt/mqtttest"
	"github.com/sightline/sightline/video/videotest"
)

// A run publishes every event to a real broker, in order, and loses none
// when the broker is stopped and started again mid-run; its counts and
// status are retained; its metrics are served while it runs.
func TestRunToThePlant(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the MQTT spool
	broker := mqtttest.Start(t, mqtttest.Options{})
	sub := mqtttest.Subscribe(t, broker.URL(), "plant-test", "", "", "sightline/line-3/#")
	dir := t.TempDir()
	scenePath := filepath.Join(dir, "scene.json")
	os.WriteFile(scenePath, []byte(`{"tracking": {"classes": ["person"]},
 "lines": [{"name": "walkway", "points": [[0.365, 0.29], [0.365, 0.60]]}]}`), 0o644)
	port := videotest.FreePort(t)
	type result struct {
		code        int
		out, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, out, stderr := runCLI(t, nil, "run", "--source", demoVideo, "--backend", "local", "--realtime",
			"--max-frames", "120", "--scene", scenePath, "--events", "-", "--camera", "line-3",
			"--mqtt", broker.URL(), "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port))
		done <- result{code, out, stderr}
	}()
	time.Sleep(4 * time.Second)
	scrape, err := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil || !strings.Contains(scrape, `sightline_frames_read_total{camera="line-3"}`) {
		t.Errorf("metrics while running: %v\n%.400s", err, scrape)
	}
	broker.Stop(syscall.SIGTERM)
	time.Sleep(3 * time.Second) // events queue meanwhile
	broker.Start()
	r := <-done
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := strings.Split(strings.TrimSpace(r.out), "\n") // the events, in order, as --events wrote them
	// The run's last words (offline) follow its events; wait for both.
	got := sub.WaitFor(t, 30*time.Second, func(ms []mqtttest.Message) bool {
		return len(events(ms)) >= len(want) && lastStatus(ms) == "offline"
	})
	ev := events(got)
	if len(ev) != len(want) {
		t.Fatalf("%d events on the broker, %d written", len(ev), len(want))
	}
	for i := range want {
		if ev[i] != want[i] {
			t.Fatalf("event %d on the broker:\n%s\nwritten:\n%s", i, ev[i], want[i])
		}
	}
	retained := map[string]string{}
	for _, m := range got {
		if !strings.Contains(m.Topic, "/events/") {
			retained[m.Topic] = m.Payload
		}
	}
	if !strings.Contains(retained["sightline/line-3/counts"], `"walkway"`) || retained["sightline/line-3/status"] != "offline" {
		t.Errorf("retained counts %q, last status %q", retained["sightline/line-3/counts"], retained["sightline/line-3/status"])
	}
}

// events are the event payloads received, in order, without the broker's
// redeliveries.
func events(ms []mqtttest.Message) []string {
	var out []string
	for _, m := range ms {
		if strings.Contains(m.Topic, "/events/") && !m.Dup {
			out = append(out, m.Payload)
		}
	}
	return out
}

// lastStatus is the last status payload received.
func lastStatus(ms []mqtttest.Message) string {
	last := ""
	for _, m := range ms {
		if strings.HasSuffix(m.Topic, "/status") {
			last = m.Payload
		}
	}
	return last
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// A broker whose certificate a site CA signed is trusted with --mqtt-ca;
// without it the run says the certificate is not trusted, and a CA file
// that is not one is a usage error.
func TestRunMQTTWithSiteCA(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	broker := mqtttest.Start(t, mqtttest.Options{TLS: true})
	sub := mqtttest.Subscribe(t, broker.URL(), "ca-test", "", "", "sightline/line-4/#")
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o644)
	run := func(extra ...string) (int, string) {
		args := append([]string{"run", "--source", demoVideo, "--backend", "local", "--max-frames", "20", "--camera", "line-4",
			"--mqtt", broker.TLSURL()}, extra...)
		code, _, stderr := runCLI(t, nil, args...)
		return code, stderr
	}
	if code, stderr := run(); code != exitOK || !strings.Contains(stderr, "events not delivered") || !strings.Contains(stderr, "certificate") {
		t.Errorf("without the CA: exit %d, stderr %q; want 0 and why the events wait", code, stderr)
	}
	if code, stderr := run("--mqtt-ca", notPEM); code != exitUsage || !strings.Contains(stderr, "no PEM certificate") {
		t.Errorf("a CA file without a certificate: exit %d, %q", code, stderr)
	}
	if code, stderr := run("--mqtt-ca", broker.CAFile()); code != exitOK {
		t.Fatalf("with the site CA: exit %d: %s", code, stderr)
	}
	sub.WaitFor(t, 10*time.Second, func(ms []mqtttest.Message) bool {
		for _, m := range ms {
			if m.Topic == "sightline/line-4/events/summary" {
				return true
			}
		}
		return false
	})
}
