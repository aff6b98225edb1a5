package mqtt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/mqtt/mqtttest"
)

func TestConfigErrors(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no camera", Config{URL: "mqtt://broker"}, "camera"},
		{"password in the URL", Config{URL: "mqtt://user:hunter2@broker", Camera: "c"}, EnvPassword},
		{"not a URL", Config{URL: "broker:1883", Camera: "c"}, "mqtt://host:1883"},
		{"another scheme", Config{URL: "http://broker", Camera: "c"}, "mqtt:// or mqtts://"},
		{"missing CA file", Config{URL: "mqtts://broker", Camera: "c", CAFile: "/nonexistent/ca.pem"}, "CA file"},
		{"CA file without PEM", Config{URL: "mqtts://broker", Camera: "c", CAFile: notPEM}, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if err == nil {
				_ = s.Close(context.Background())
				t.Fatal("New accepted it")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "hunter2") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming %q, without the password", msg, tt.want)
			}
		})
	}
}

func TestConfigKeepsThePasswordOutOfPrint(t *testing.T) {
	env := map[string]string{EnvUsername: "line", EnvPassword: "hunter2"}
	user, pw := EnvCredentials(func(k string) string { return env[k] })
	cfg := Config{URL: "mqtt://broker", Camera: "c", Username: user, Password: pw}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, cfg); strings.Contains(s, "hunter2") || !strings.Contains(s, "line") {
			t.Errorf("%s prints %s", format, s)
		}
	}
	if got := cfg.scrub(fmt.Errorf("connect: server said hunter2 is wrong")); strings.Contains(got, "hunter2") {
		t.Errorf("scrub left the password: %s", got)
	}
	if u, err := (&Config{URL: "mqtts://broker"}).brokerURL(); err != nil || u.Host != "broker:8883" {
		t.Errorf("mqtts default port: %v %v", u, err)
	}
}

// Against a real broker: TLS with the site's CA, and user names and
// passwords; failures say why in Status, never with the password.
func TestSinkTLSAndCredentials(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{TLS: true,
		Users: map[string]string{"line": "hunter2", "reader": "r", "limited": "limited-pw"},
		ACL: "user line\ntopic readwrite sightline/#\nuser reader\ntopic read sightline/#\n" +
			"user limited\ntopic write sightline/+/status\n"})
	sub := mqtttest.Subscribe(t, b.URL(), "test-sub", "reader", "r", eventsFilter)
	tests := []struct {
		name string
		cfg  Config
		// what becomes of the event: delivered, rejected for good, or
		// queued with why in LastError
		want, why string
	}{
		{"TLS trusting the site's CA", Config{URL: b.TLSURL(), CAFile: b.CAFile(), Username: "line", Password: "hunter2"}, "delivered", ""},
		{"TLS with the system's roots only", Config{URL: b.TLSURL(), Username: "line", Password: "hunter2"}, "queued", "certificate"},
		{"wrong password", Config{URL: b.URL(), Username: "line", Password: "hunter3"}, "queued",
			"Not authorized (reason 135); check SIGHTLINE_MQTT_USERNAME and SIGHTLINE_MQTT_PASSWORD"},
		{"no credentials", Config{URL: b.URL()}, "queued", "Not authorized"},
		// mosquitto 2.0.11 also drops the connection after refusing a
		// publish, so the event may be tried twice before it is rejected.
		{"a topic the user may not write", Config{URL: b.URL(), Username: "limited", Password: "limited-pw"}, "rejected", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Camera = fmt.Sprintf("cam-%d", i)
			s := newSink(t, tt.cfg)
			s.Publish(numbered(0)) // a status event
			var st Status
			switch tt.want {
			case "delivered":
				waitCounters(t, s, 10*time.Second, func(c Counters) bool { return c.Delivered == 1 })
				sub.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool {
					return len(m) > 0 && m[len(m)-1].Topic == "sightline/"+tt.cfg.Camera+"/events/status"
				})
				return
			case "rejected":
				waitCounters(t, s, 10*time.Second, func(c Counters) bool { return c.Rejected == 1 && c.Queued == 0 })
				st = s.Status()
			case "queued":
				deadline := time.Now().Add(10 * time.Second)
				for s.Status().LastError == "" && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				st = s.Status()
				if st.Connected || st.Queued != 1 || !strings.Contains(strings.ToLower(st.LastError), strings.ToLower(tt.why)) {
					t.Fatalf("want not connected, the event queued and an error about %q: %+v", tt.why, st)
				}
			}
			if strings.Contains(fmt.Sprintf("%+v", st), string(tt.cfg.Password)) && tt.cfg.Password != "" {
				t.Fatalf("status shows the password: %+v", st)
			}
		})
	}
}
