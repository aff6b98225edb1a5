package ui

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
)

// awaitFleet refreshes the page until cond holds of it.
func awaitFleet(t *testing.T, p *fleetPage, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var ok bool
		var state string
		onUIWait(func() {
			p.refresh()
			ok, state = cond(), p.state.Text
		})
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 15 s for %s; the page says %q", what, state)
		}
	}
}

func card(p *fleetPage, name string) *fleetCard {
	if c := p.byName[name]; c != nil {
		return c
	}
	return newFleetCard()
}

// The Fleet page follows the broker in Settings with the key store's
// credentials: every camera publishing there gets a card with its state,
// counts, latest alerts and snapshot, kept live; a camera that stops is
// offline. (The page is refreshed by the test here: the app does it on
// the UI thread.)
func TestFleetPage(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{Users: map[string]string{"viewer": "pw-1", "camera": "pw-2"}})
	s, _ := testShell(t, []Camera{{Name: "a", Source: greyClip(t)}})
	p := s.fleet
	onUIWait(func() {
		if p.refresh(); !strings.Contains(p.state.Text, "No broker") {
			t.Errorf("without a broker the page says %q", p.state.Text)
		}
		s.st.MQTTURL = "broker:1883"
		p.configure()
		if !strings.Contains(p.state.Text, "is not a broker URL") {
			t.Errorf("a bad URL: %q", p.state.Text)
		}
		s.st.MQTTUser = "viewer"
		s.deps.keys.Set(keyMQTT, "pw-1")
		s.st.MQTTURL = b.URL()
		p.configure()
	})
	awaitFleet(t, p, "the connection", func() bool { return strings.HasPrefix(p.state.Text, "Following") })
	time.Sleep(200 * time.Millisecond) // the subscription stands

	snap := filepath.Join(t.TempDir(), "jam-annotated.png")
	f, _ := os.Create(snap)
	png.Encode(f, image.NewRGBA(image.Rect(0, 0, 64, 48)))
	f.Close()
	sink := func(name string) *mqtt.Sink {
		k, err := mqtt.New(mqtt.Config{URL: b.URL(), Camera: name, Username: "camera", Password: "pw-2", CountsEvery: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	press, gate := sink("press"), sink("gate")
	defer press.Close(context.Background())
	press.PublishCounts(mqtt.Counts{Lines: map[string]event.LineCount{"belt": {In: 12, Out: 1}}})
	press.Publish(&event.Alert{Header: event.Header{Type: event.TypeAlert}, Rule: "jam", Detail: "belt stopped", Snapshot: snap})
	gate.Publish(&event.Status{Header: event.Header{Type: event.TypeStatus}, State: "error", Detail: "rtsp://gate: refused"})
	awaitFleet(t, p, "both cameras", func() bool {
		pc, gc := card(p, "press"), card(p, "gate")
		return pc.chip.Text == "● ONLINE" && pc.counts.Text == "belt  in 12 · out 1" && strings.Contains(pc.alerts.Text, "⚠ jam: belt stopped") &&
			pc.snap.Visible() && gc.chip.Text == "● ONLINE" && gc.source.Text == "source error: rtsp://gate: refused"
	})
	onUIWait(func() {
		if pc := card(p, "press"); !strings.HasPrefix(pc.seen.Text, "last seen ") || !strings.Contains(p.state.Text, "2 cameras") {
			t.Errorf("press seen %q, page %q", pc.seen.Text, p.state.Text)
		}
	})
	gate.Close(context.Background())
	awaitFleet(t, p, "the gate offline", func() bool { return card(p, "gate").chip.Text == "✕ OFFLINE" })
}
