package fleet

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
)

func TestParseTopic(t *testing.T) {
	for _, tc := range []struct {
		topic, camera, kind string
		ok                  bool
	}{
		{"sightline/press-1/status", "press-1", kindStatus, true},
		{"sightline/gate/counts", "gate", kindCounts, true},
		{"sightline/gate/events/alert", "gate", kindAlert, true},
		{"sightline/gate/events/snapshot", "gate", kindSnapshot, true},
		{"sightline/gate/events/status", "gate", kindSource, true},
		{"sightline/gate/events/health", "gate", kindHealth, true},
		{"sightline/gate/events/analysis", "", "", false}, // not followed
		{"sightline//status", "", "", false},
		{"other/gate/status", "", "", false},
		{"sightline/gate", "", "", false},
	} {
		camera, kind, ok := parseTopic(tc.topic)
		if camera != tc.camera || kind != tc.kind || ok != tc.ok {
			t.Errorf("parseTopic(%q) = %q, %q, %v; want %q, %q, %v", tc.topic, camera, kind, ok, tc.camera, tc.kind, tc.ok)
		}
	}
}

func TestApply(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 15, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, kind, payload string
		ok                  bool
		check               func(Camera) bool
	}{
		{"online", kindStatus, "online", true, func(c Camera) bool { return c.Status == "online" }},
		{"offline", kindStatus, "offline", true, func(c Camera) bool { return c.Status == "offline" }},
		{"status garbage", kindStatus, "maybe", false, func(c Camera) bool { return c.Status == "" }},
		{"counts", kindCounts, `{"lines":{"walkway":{"in":3,"out":2}},"zones":{"lot":{"entries":4,"max_occupancy":2}}}`, true,
			func(c Camera) bool { return c.Counts.Lines["walkway"].In == 3 && c.Counts.Zones["lot"].Entries == 4 }},
		{"counts garbage", kindCounts, `{"lines":`, false, func(c Camera) bool { return c.Counts.Lines == nil }},
		{"alert", kindAlert, `{"type":"alert","t_ms":5,"rule":"lot busy","detail":"2 inside","snapshot":"/s/a.png","clip":"/c/a.mp4"}`, true,
			func(c Camera) bool {
				return len(c.Alerts) == 1 && c.Alerts[0] == Alert{At: now, Rule: "lot busy", Detail: "2 inside", Snapshot: "/s/a.png", Clip: "/c/a.mp4"} &&
					c.Snapshot == "/s/a.png" && c.AlertsSeen == 1
			}},
		{"alert without a rule", kindAlert, `{"type":"alert"}`, false, func(c Camera) bool { return c.Alerts == nil }},
		{"snapshot", kindSnapshot, `{"type":"snapshot","frame":7,"path":"/s/b-annotated.png"}`, true,
			func(c Camera) bool { return c.Snapshot == "/s/b-annotated.png" }},
		{"source", kindSource, `{"type":"status","state":"stalled","detail":"no frame for 2 s"}`, true,
			func(c Camera) bool { return c.Source == "stalled" && c.SourceDetail == "no frame for 2 s" }},
		{"health", kindHealth, `{"type":"health","rss_mib":80,"state":"playing"}`, true, func(c Camera) bool { return c.Source == "playing" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Camera{Name: "gate"}
			if ok := apply(&c, tc.kind, []byte(tc.payload), now, 5); ok != tc.ok || !tc.check(c) {
				t.Errorf("apply → %v, %+v", ok, c)
			}
		})
	}
}

// Alerts are kept newest first, at most MaxAlerts, and all are counted.
func TestApplyKeepsTheNewestAlerts(t *testing.T) {
	c := Camera{Name: "gate"}
	now := time.Now()
	for _, rule := range []string{"a", "b", "c", "d"} {
		apply(&c, kindAlert, []byte(`{"type":"alert","rule":"`+rule+`"}`), now, 3)
	}
	if len(c.Alerts) != 3 || c.Alerts[0].Rule != "d" || c.Alerts[2].Rule != "b" || c.AlertsSeen != 4 {
		t.Errorf("alerts %+v, seen %d", c.Alerts, c.AlertsSeen)
	}
}

// changes signals every change the watcher reports.
type changes chan struct{}

func (c changes) note() {
	select {
	case c <- struct{}{}:
	default:
	}
}

// await waits until cond holds on the watcher's cameras and state.
func await(t *testing.T, w *Watcher, ch changes, what string, cond func([]Camera, State) bool) []Camera {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		cams, st := w.Cameras(), w.State()
		if cond(cams, st) {
			return cams
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waited 15 s for %s: cameras %+v, state %+v", what, cams, st)
		}
	}
}

func camera(cams []Camera, name string) Camera {
	for _, c := range cams {
		if c.Name == name {
			return c
		}
	}
	return Camera{}
}

func sink(t *testing.T, url, name string) *mqtt.Sink {
	t.Helper()
	s, err := mqtt.New(mqtt.Config{URL: url, Camera: name, CountsEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Two cameras publishing through a real mosquitto, as `run --mqtt` does:
// the watcher shows both online with their counts, alerts, snapshot and
// source state; a camera that stops is offline; after the broker
// restarts, the watcher reconnects by itself, gets the retained state
// again and follows new alerts.
func TestWatcherFollowsCamerasThroughABroker(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	ch := make(changes, 1)
	clk := clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	w, err := Watch(Config{Broker: mqtt.Config{URL: b.URL(), Backoff: clock.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
		Clock: clk, OnChange: ch.note})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	await(t, w, ch, "the connection", func(_ []Camera, st State) bool { return st.Connected })
	time.Sleep(200 * time.Millisecond) // the subscription stands

	press, gate := sink(t, b.URL(), "press"), sink(t, b.URL(), "gate")
	press.Publish(&event.Status{Header: event.Header{Type: event.TypeStatus}, State: "playing", Detail: "rtsp://press"})
	press.PublishCounts(mqtt.Counts{Lines: map[string]event.LineCount{"belt": {In: 12, Out: 1}}})
	press.Publish(&event.Alert{Header: event.Header{Type: event.TypeAlert}, Rule: "jam", Detail: "belt stopped", Snapshot: "/snaps/jam.png"})
	gate.PublishCounts(mqtt.Counts{Zones: map[string]event.ZoneCount{"lot": {Entries: 4, MaxOccupancy: 2}}})
	gate.Publish(&event.Snapshot{Header: event.Header{Type: event.TypeSnapshot}, Frame: 3, Path: "/snaps/gate.png"})

	cams := await(t, w, ch, "both cameras' messages", func(cams []Camera, _ State) bool {
		p, g := camera(cams, "press"), camera(cams, "gate")
		return p.Status == "online" && len(p.Alerts) == 1 && p.Counts.Lines["belt"].In == 12 && p.Source == "playing" &&
			g.Status == "online" && g.Counts.Zones["lot"].Entries == 4 && g.Snapshot == "/snaps/gate.png"
	})
	if p := camera(cams, "press"); p.LastSeen != clk.Now() || p.Snapshot != "/snaps/jam.png" || p.Alerts[0].Detail != "belt stopped" {
		t.Errorf("press: %+v", p)
	}
	if len(cams) != 2 || cams[0].Name != "gate" {
		t.Errorf("cameras not listed by name: %+v", cams)
	}

	if err := gate.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	await(t, w, ch, "the gate going offline", func(cams []Camera, _ State) bool { return camera(cams, "gate").Status == "offline" })

	b.Stop(syscall.SIGTERM)
	await(t, w, ch, "the watcher seeing the broker go", func(_ []Camera, st State) bool { return !st.Connected })
	b.Start()
	await(t, w, ch, "the reconnection", func(_ []Camera, st State) bool { return st.Connected })
	clk.Advance(time.Minute)
	press.Publish(&event.Alert{Header: event.Header{Type: event.TypeAlert}, Rule: "jam", Detail: "again"})
	// The broker's shutdown published the press's will (offline); the press
	// says online again when it is back.
	cams = await(t, w, ch, "an alert after the restart, and the press online", func(cams []Camera, _ State) bool {
		p := camera(cams, "press")
		return len(p.Alerts) == 2 && p.Alerts[0].Detail == "again" && p.Status == "online"
	})
	if p := camera(cams, "press"); p.LastSeen != clk.Now() {
		t.Errorf("press after the restart: %+v", p)
	}
	if err := press.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A broker that refuses the user says so, in words, without the password;
// the right credentials connect.
func TestWatcherSaysWhyTheBrokerRefuses(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Users: map[string]string{"viewer": "s3cret-pass"}})
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"wrong-pass", false}, {"s3cret-pass", true}} {
		t.Run(tc.password, func(t *testing.T) {
			ch := make(changes, 1)
			w, err := Watch(Config{Broker: mqtt.Config{URL: b.URL(), Username: "viewer", Password: mqtt.Secret(tc.password)}, OnChange: ch.note})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(context.Background())
			st := w.State()
			await(t, w, ch, "an answer", func(_ []Camera, s State) bool { st = s; return s.Connected || s.LastError != "" })
			if st.Connected != tc.ok {
				t.Errorf("connected %v, want %v (%s)", st.Connected, tc.ok, st.LastError)
			}
			if !tc.ok && (!strings.Contains(st.LastError, "refused") || strings.Contains(st.LastError, tc.password)) {
				t.Errorf("error %q", st.LastError)
			}
		})
	}
}

// A bad URL is a configuration error, and a password in it is refused.
func TestWatchChecksTheURL(t *testing.T) {
	for _, url := range []string{"broker:1883", "http://broker", "mqtt://u:secret@broker"} {
		if _, err := Watch(Config{Broker: mqtt.Config{URL: url}}); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("Watch(%q): %v", url, err)
		}
	}
}
