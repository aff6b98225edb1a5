package clip

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/video"
)

// The ring holds what a trigger can still ask for and no more: from the
// keyframe at or before newest − (Pre + Slack), within MaxBytes, and it
// frees every packet it drops.
func TestRingBounds(t *testing.T) {
	tests := []struct {
		name     string
		maxBytes int
		minSpan  time.Duration // once full
		maxSpan  time.Duration
	}{
		// 3 s back, to the keyframe before (one a second).
		{"by time", 0, 3 * time.Second, 4 * time.Second},
		// The demo video's GOPs take 100–200 KB.
		{"by bytes", 400 << 10, time.Second, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			clips, src, _ := openVtest(t, Config{Pre: 2 * time.Second, Slack: time.Second, MaxBytes: tt.maxBytes})
			var most Stats
			readUntil(t, src, time.Minute, func(f *video.Frame) bool {
				st := clips.Stats()
				if f.PTS > 5*time.Second && (st.HeldSpan < tt.minSpan || st.HeldSpan > tt.maxSpan) {
					t.Fatalf("at %v the ring holds %v (%d packets, %d bytes), want %v to %v", f.PTS, st.HeldSpan,
						st.Held, st.HeldBytes, tt.minSpan, tt.maxSpan)
				}
				if tt.maxBytes > 0 && st.HeldBytes > tt.maxBytes {
					t.Fatalf("at %v the ring holds %d bytes, over %d", f.PTS, st.HeldBytes, tt.maxBytes)
				}
				if st.HeldBytes > most.HeldBytes {
					most = st
				}
				return true
			})
			t.Logf("most held: %d packets, %d bytes, %v", most.Held, most.HeldBytes, most.HeldSpan)
			src.Close() // ends the stream: the ring is emptied
			if st := clips.Stats(); st.Held != 0 || st.HeldBytes != 0 || st.Packets < 795 {
				t.Errorf("after the stream ended: %+v", st)
			}
			clips.Close()
		})
	}
}

// A trigger while no video plays (before the source opens, between
// reconnections) writes nothing and says so; it is not a failed output.
func TestTriggerWithoutVideo(t *testing.T) {
	ev := newEvents()
	clips, err := New(Config{Dir: t.TempDir(), Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	defer clips.Close()
	if _, err := clips.TriggerNow("SIGUSR2"); !errors.Is(err, errNoVideo) {
		t.Errorf("TriggerNow without video: %v", err)
	}
	if errs := ev.errors(); len(errs) != 1 || errs[0].Output != "clips" || clips.Err() != nil {
		t.Errorf("output errors %v, Err %v: want one output_error and no failure", describe(ev), clips.Err())
	}
}

// A trigger older than all the ring keeps (an analysis that lagged by
// more than Slack) writes nothing and says why.
func TestTriggerTooOld(t *testing.T) {
	checkLeaks(t)
	clips, src, ev := openVtest(t, Config{Pre: time.Second, Post: time.Second, Slack: time.Second})
	defer src.Close()
	readUntil(t, src, time.Minute, func(f *video.Frame) bool { return f.PTS < 20*time.Second })
	if _, err := clips.Trigger("late alert", 5*time.Second); err == nil || !strings.Contains(err.Error(), "ring keeps it from") {
		t.Errorf("a trigger at 5 s read at 20 s: %v", err)
	}
	if errs := ev.errors(); len(errs) != 1 || clips.Close() == nil {
		t.Errorf("want one output_error and a failure; events: %v", describe(ev))
	}
}

// Events ask for clips by type: alerts by default, others when named.
func TestTriggersOfEvents(t *testing.T) {
	at := event.AtFrame(42, 4200*time.Millisecond)
	alert := &event.Alert{Header: event.Header{Type: event.TypeAlert}, At: at, Rule: "station empty"}
	cross := &event.LineCross{Header: event.Header{Type: event.TypeLineCross}, At: at, Line: "gate", Direction: "in"}
	enter := &event.ZoneEnter{Header: event.Header{Type: event.TypeZoneEnter}, At: at, Zone: "station"}
	exit := &event.ZoneExit{Header: event.Header{Type: event.TypeZoneExit}, At: at, Zone: "station"}
	status := &event.Status{Header: event.Header{Type: event.TypeStatus}}
	tests := []struct {
		ev         event.Event
		types      []string
		wantReason string // "": no clip
	}{
		{alert, nil, "station empty"},
		{cross, nil, ""},
		{cross, []string{event.TypeAlert, event.TypeLineCross}, "gate in"},
		{enter, []string{event.TypeZoneEnter}, "station enter"},
		{exit, []string{event.TypeZoneExit}, "station exit"},
		{status, []string{event.TypeStatus}, ""},
	}
	for _, tt := range tests {
		ev := newEvents()
		clips, err := New(Config{Dir: t.TempDir(), Events: ev, Clock: clock.NewFake(stamp)})
		if err != nil {
			t.Fatal(err)
		}
		clips.Triggers(tt.types...).Publish(tt.ev)
		clips.Close()
		// Without video the trigger is refused, and the refusal names it.
		errs := ev.errors()
		switch {
		case tt.wantReason == "" && len(errs) != 0:
			t.Errorf("%s with %v asked for a clip: %v", tt.ev.Head().Type, tt.types, errs[0].Error)
		case tt.wantReason != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error, `"`+tt.wantReason+`"`)):
			t.Errorf("%s with %v: %v, want a clip for %q", tt.ev.Head().Type, tt.types, describe(ev), tt.wantReason)
		}
	}
	if reason, got, ok := triggerOf(alert); !ok || reason != "station empty" || got != 4200*time.Millisecond {
		t.Errorf("triggerOf(alert) = %q %v %v", reason, got, ok)
	}
}

// Clip names: clip-<camera>-<time>-<reason>.mp4, safe as file names, and
// never one already taken.
func TestClipNames(t *testing.T) {
	tests := []struct{ in, empty, want string }{
		{"line-3", "camera", "line-3"},
		{"station empty", "manual", "station-empty"},
		{"../../etc/passwd", "manual", "etc-passwd"},
		{"gate/in: 5 ≥ 4", "manual", "gate-in-5-4"},
		{"", "manual", "manual"},
		{"///", "camera", "camera"},
		{"a-very-long-reason-that-goes-on-and-on-and-on-past-the-limit", "manual", "a-very-long-reason-that-goes-on-and-on-and-on-pa"},
	}
	for _, tt := range tests {
		if got := safeName(tt.in, tt.empty); got != tt.want {
			t.Errorf("safeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	dir := t.TempDir()
	clips, err := New(Config{Dir: dir, Camera: "dock 4", Clock: clock.NewFake(stamp)})
	if err != nil {
		t.Fatal(err)
	}
	defer clips.Close()
	a, b := clips.name("SIGUSR2"), clips.name("SIGUSR2")
	if filepath.Base(a) != "clip-dock-4-20250314-092653-SIGUSR2.mp4" || filepath.Base(b) != "clip-dock-4-20250314-092653-SIGUSR2-2.mp4" {
		t.Errorf("names %s and %s", a, b)
	}
}
