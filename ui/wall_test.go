package ui

import (
	"context"
	"errors"
	"image"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/video"
)

func TestParseCameras(t *testing.T) {
	many := "[" + strings.Repeat(`{"name":"x","source":"s"},`, 16) + `{"name":"x","source":"s"}]`
	for _, tc := range []struct {
		name, json string
		want       []Camera
		err        string
	}{
		{"two", `[{"name":"line-1","source":"rtsp://a/s","scene":"l1.json","backend":"local"},{"name":"gate","source":"gate.mp4"}]`,
			[]Camera{{Name: "line-1", Source: "rtsp://a/s", Scene: "l1.json", Backend: "local"}, {Name: "gate", Source: "gate.mp4"}}, ""},
		{"not JSON", `[{"name":`, nil, "not a camera list"},
		{"unknown field", `[{"name":"a","source":"s","fps":5}]`, nil, `unknown field "fps"`},
		{"empty", `[]`, nil, "no camera"},
		{"no name", `[{"source":"s"}]`, nil, "camera 1 has no name"},
		{"no source", `[{"name":"a"}]`, nil, `camera "a" has no source`},
		{"twice", `[{"name":"a","source":"s"},{"name":"a","source":"t"}]`, nil, `two cameras are called "a"`},
		{"topic", `[{"name":"a/b","source":"s"}]`, nil, "MQTT topic level"},
		{"backend", `[{"name":"a","source":"s","backend":"gpu"}]`, nil, `camera "a"`},
		{"too many", many, nil, "at most 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCameras([]byte(tc.json))
			switch {
			case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
}

// The saved list comes back; a damaged one is forgotten, nothing else.
func TestCamerasSaved(t *testing.T) {
	a := test.NewTempApp(t)
	st := loadSettings(a.Preferences())
	st.Cameras = []Camera{{Name: "gate", Source: "gate.mp4", Backend: "auto"}}
	st.MQTTURL = "mqtt://broker:1883"
	st.save(a.Preferences())
	if got := loadSettings(a.Preferences()); !slices.Equal(got.Cameras, st.Cameras) || got.MQTTURL != st.MQTTURL {
		t.Errorf("loaded %+v, %q", got.Cameras, got.MQTTURL)
	}
	a.Preferences().SetString("cameras", `[{"name":"gate"`)
	if got := loadSettings(a.Preferences()); got.Cameras != nil || got.MQTTURL != st.MQTTURL {
		t.Errorf("a damaged list gave %+v, broker %q", got.Cameras, got.MQTTURL)
	}
}

func TestTileState(t *testing.T) {
	playing := video.Status{State: video.StatePlaying}
	dead := video.Status{State: video.StateError, Detail: "rtsp://cam/x: connection refused — retrying in 2s"}
	for _, tc := range []struct {
		name          string
		st            video.Status
		paused, stale bool
		picture       bool
		problem       error
		chip, reason  string
	}{
		{"live", playing, false, false, true, nil, "● LIVE", ""},
		{"stale boxes", playing, false, true, true, nil, "◌ STALE", "boxes 4.0 s old"},
		{"stalled", video.Status{State: video.StateStalled}, false, false, true, nil, "◌ STALE", "source stalled, the picture is frozen"},
		{"never opened", dead, false, false, false, nil, "✕ NO SIGNAL", dead.Detail},
		{"opening again", video.Status{State: video.StateOpening, Detail: "retrying: refused"}, false, false, false, nil, "✕ NO SIGNAL", "retrying: refused"},
		{"lost under its picture", dead, false, false, true, nil, "✕ ERROR", dead.Detail},
		{"cannot build", playing, false, false, true, errors.New("azure is not configured"), "✕ ERROR", "azure is not configured"},
		{"paused", playing, true, true, true, nil, "❚❚ PAUSED", ""},
		{"opening", video.Status{State: video.StateOpening, Detail: "clip.mp4"}, false, false, false, nil, "◌ OPENING", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chip, reason, _ := tileState(tc.st, tc.paused, tc.stale, tc.picture, tc.problem, 4*time.Second)
			if chip != tc.chip || reason != tc.reason {
				t.Errorf("got %q, %q; want %q, %q", chip, reason, tc.chip, tc.reason)
			}
		})
	}
}

func TestTileCounts(t *testing.T) {
	a := &analyzer.Analysis{
		People:  []analyzer.Person{{Confidence: 0.9}, {Confidence: 0.3}, {Confidence: 0.1}},
		Objects: []analyzer.Object{{Name: "person", Confidence: 0.9}, {Name: "car", Confidence: 0.8}, {Name: "dog", Confidence: 0.1}},
	}
	totals := event.Summary{
		Lines:       map[string]event.LineCount{"walkway": {In: 3, Out: 2}},
		Zones:       map[string]event.ZoneCount{"lot": {Entries: 7, MaxOccupancy: 3}},
		Inspections: map[string]event.InspectionCount{"cap": {Pass: 10, Fail: 1}},
	}
	sv := &scene.View{Zones: []scene.ZoneView{{Name: "lot", Occupancy: 2}}}
	for _, tc := range []struct {
		name   string
		sv     *scene.View
		totals event.Summary
		a      *analyzer.Analysis
		want   []string
	}{
		{"scene", sv, totals, a, []string{"walkway  in 3 · out 2", "lot  2 inside · 7 in all", "cap  pass 10 · fail 1"}},
		{"no scene: who is in view", nil, event.Summary{}, a, []string{"2 people · 1 other object"}},
		{"one person", nil, event.Summary{}, &analyzer.Analysis{People: []analyzer.Person{{Confidence: 1}}}, []string{"1 person · 0 other objects"}},
		{"nothing analysed yet", nil, event.Summary{}, nil, nil},
		{"more than fit", nil, event.Summary{Lines: map[string]event.LineCount{"a": {}, "b": {}, "c": {}, "d": {}, "e": {}}}, a,
			[]string{"a  in 0 · out 0", "b  in 0 · out 0", "c  in 0 · out 0", "and 2 more"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tileCounts(tc.sv, tc.totals, tc.a, 0.25); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The fleet knows no occupancy: the most at once instead.
	if got := countLines(event.Summary{Zones: totals.Zones}, nil); !slices.Equal(got, []string{"lot  7 in all · at most 3"}) {
		t.Errorf("fleet zone line %q", got)
	}
}

// A tile says its camera's state and counts, turns red for a while after
// an alert and while a rule holds, and shortens what does not fit.
func TestTileUpdate(t *testing.T) {
	test.NewTempApp(t)
	tl := newTile("a camera with a long name that does not fit")
	w := test.NewWindow(tl)
	defer w.Close()
	w.Resize(fyne.NewSize(320, 200))
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	in := tileInput{status: video.Status{State: video.StatePlaying}, sample: sample{at: at, totals: event.Summary{
		Lines: map[string]event.LineCount{"walkway": {In: 3, Out: 2}}}}, meters: meters{displayFPS: 10, sourceFPS: 10}}
	tl.update(in)
	if tl.chip.Text != "● LIVE" || tl.counts[0].Text != "walkway  in 3 · out 2" || tl.alarm {
		t.Errorf("chip %q, counts %q, alarm %v", tl.chip.Text, tl.counts[0].Text, tl.alarm)
	}
	if !strings.HasSuffix(tl.name.Text, "…") || tl.full[tl.name] != "a camera with a long name that does not fit" {
		t.Errorf("name shown %q", tl.name.Text)
	}
	tl.alerted(&event.Alert{Rule: "lot busy", Detail: "2 inside"}, at)
	if !tl.alarm || !strings.HasPrefix(tl.full[tl.alert], "⚠ lot busy") {
		t.Errorf("after an alert: alarm %v, %q", tl.alarm, tl.full[tl.alert])
	}
	in.sample.at = at.Add(alertHold + time.Second)
	tl.update(in)
	if tl.alarm || tl.full[tl.alert] != "" {
		t.Errorf("%v after the alert: still alarmed %q", alertHold+time.Second, tl.full[tl.alert])
	}
	in.sample.view.Scene = &scene.View{Alerts: []scene.AlertView{{}}}
	tl.update(in)
	if !tl.alarm {
		t.Error("not red while a rule holds")
	}
}

// A tile's frames are scaled down to it before conversion; off screen none
// are converted; the focused view gets them whole.
func TestDisplayFit(t *testing.T) {
	test.NewTempApp(t)
	p, sc := livePlayer(t, schedule.ModeLocal, fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil))
	redraw := func(within time.Duration) (*image.RGBA, int) {
		_, before := sc.shown()
		p.Redraw()
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if img, n := sc.shown(); n > before {
				return img, n
			}
		}
		return nil, before
	}
	p.display.setFit(&image.Point{X: 160, Y: 160})
	if img, _ := redraw(5 * time.Second); img == nil || img.Bounds().Size() != image.Pt(160, 90) {
		t.Errorf("fitted to 160×160: %v", img)
	}
	p.display.setFit(&image.Point{})
	if img, _ := redraw(time.Second); img != nil {
		t.Errorf("off screen, a picture was converted")
	}
	p.display.setFit(nil)
	if img, _ := redraw(5 * time.Second); img == nil || img.Bounds().Size() != image.Pt(640, 360) {
		t.Errorf("focused: %v", img)
	}
}

// recordedPointer notes what the hider asks of the pointer.
type recordedPointer struct{ visible []bool }

func (r *recordedPointer) show(v bool) { r.visible = append(r.visible, v) }

// In booth mode the pointer hides after boothIdle without movement, comes
// back when the mouse moves, and stays when booth mode ends.
func TestCursorHider(t *testing.T) {
	newTestApp(t) // the timer's goroutine and the test take turns
	clk := clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	var ptr recordedPointer
	var h *cursorHider
	onUIWait(func() { h = newCursorHider(test.NewWindow(nil).Content(), clk, ptr.show) })
	settle := func() { time.Sleep(50 * time.Millisecond) } // the timer's goroutine
	check := func(f func()) { onUIWait(f) }
	check(func() { h.setOn(true) })
	clk.Advance(boothIdle - time.Second)
	settle()
	check(func() {
		if h.hidden {
			t.Fatal("hidden before boothIdle")
		}
		h.MouseMoved(nil) // still within the wait: it starts again
	})
	clk.Advance(time.Second)
	settle()
	check(func() {
		if h.hidden {
			t.Fatal("hidden although the mouse moved a second ago")
		}
	})
	clk.Advance(boothIdle)
	settle()
	check(func() {
		if !h.hidden || !slices.Equal(ptr.visible, []bool{false}) {
			t.Fatalf("after %v still: hidden %v, pointer %v", boothIdle, h.hidden, ptr.visible)
		}
		h.MouseMoved(nil)
		if h.hidden || !slices.Equal(ptr.visible, []bool{false, true}) {
			t.Fatalf("after a move: hidden %v, pointer %v", h.hidden, ptr.visible)
		}
	})
	clk.Advance(boothIdle)
	settle()
	check(func() {
		h.setOn(false)
		if h.hidden || !slices.Equal(ptr.visible, []bool{false, true, false, true}) {
			t.Fatalf("after booth mode: hidden %v, pointer %v", h.hidden, ptr.visible)
		}
		h.MouseMoved(nil)
	})
	clk.Advance(2 * boothIdle)
	settle()
	check(func() {
		if len(ptr.visible) != 4 {
			t.Errorf("the pointer changed outside booth mode: %v", ptr.visible)
		}
	})
}

// testShell plays cams in a shell on the test driver, with fixed analyses.
func testShell(t *testing.T, cams []Camera) (*shell, fyne.App) {
	t.Helper()
	a := newTestApp(t) // the cameras' UI work and the test's take turns
	ctx, cancel := context.WithCancel(context.Background())
	var s *shell
	onUIWait(func() {
		s = newShell(ctx, a, Config{Cameras: cams, Mode: schedule.ModeLocal, Threshold: 0.5},
			windowDeps{keys: newKeyStore(failingRing{}, noEnv), build: fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil)})
		s.begin() // as the app's loop does once it runs
	})
	t.Cleanup(func() { cancel(); s.stop() })
	return s, a
}

func key(s *shell, name fyne.KeyName) { s.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: name}) }

// The wall: a tile a camera, a tap opens its view, Esc comes back, B is
// booth mode (no toolbar, large tiles, full screen) and Esc leaves it.
func TestShellNavigates(t *testing.T) {
	clip := greyClip(t)
	s, _ := testShell(t, []Camera{{Name: "a", Source: clip}, {Name: "b", Source: clip}, {Name: "c", Source: "rtsp://127.0.0.1:9/x"}})
	onUIWait(func() {
		if len(s.wall.tiles) != 3 || s.win.Content() != s.wall.content || s.wall.grid.Layout == nil {
			t.Fatalf("%d tiles, wall shown %v", len(s.wall.tiles), s.win.Content() == s.wall.content)
		}
		test.Tap(s.cams[1].tile)
		if s.focused != s.cams[1] || s.win.Content() != s.cams[1].w.content || s.cams[1].wallBtn.Hidden {
			t.Fatalf("after tapping b: focused %v", s.focused)
		}
		if s.cams[1].w.p.display.fit.Load() != nil || s.cams[0].w.p.display.fit.Load().X != 0 {
			t.Errorf("frames: the focused camera's %v, the others' %v", s.cams[1].w.p.display.fit.Load(), s.cams[0].w.p.display.fit.Load())
		}
		key(s, fyne.KeyEscape)
		if s.focused != nil || s.win.Content() != s.wall.content || s.cams[0].w.p.display.fit.Load().X == 0 {
			t.Fatal("Esc did not come back to the wall, with its tiles fed")
		}
		test.TypeOnCanvas(s.win.Canvas(), "b")
		if !s.booth || !s.win.FullScreen() || s.wall.toolbar.Visible() || !s.wall.tiles[0].booth || !s.wall.hider.on {
			t.Fatalf("B: booth %v, full screen %v", s.booth, s.win.FullScreen())
		}
		test.Tap(s.cams[0].tile) // visitors touch the screen
		if s.focused != nil {
			t.Error("a tap in booth mode left it")
		}
		key(s, fyne.KeyEscape)
		if s.booth || s.win.FullScreen() || !s.wall.toolbar.Visible() || s.wall.tiles[0].booth || s.wall.hider.on {
			t.Error("Esc did not leave booth mode")
		}
		s.showFleet()
		key(s, fyne.KeyEscape)
		if s.win.Content() != s.wall.content {
			t.Error("Esc on the Fleet page did not come back")
		}
	})
}

// One camera is the app as it always was: its own view, no wall button;
// booth mode shows its tile and comes back to it.
func TestShellOneCamera(t *testing.T) {
	s, _ := testShell(t, []Camera{{Name: "a", Source: greyClip(t)}})
	onUIWait(func() {
		c := s.cams[0]
		if s.focused != c || s.win.Content() != c.w.content || !c.wallBtn.Hidden {
			t.Fatal("one camera does not open on its view")
		}
		key(s, fyne.KeyEscape)
		if s.focused != c {
			t.Error("Esc left the only camera's view")
		}
		test.TypeOnCanvas(s.win.Canvas(), "b")
		if !s.booth || s.win.Content() != s.wall.content {
			t.Fatal("B did not start booth mode")
		}
		key(s, fyne.KeyEscape)
		if s.booth || s.focused != c {
			t.Error("leaving booth mode did not come back to the camera")
		}
	})
}

// A new camera list is saved and played: cameras that did not change go
// on undisturbed, the others stop; a bad list is refused, naming why.
func TestShellSetCameras(t *testing.T) {
	clip := greyClip(t)
	s, a := testShell(t, []Camera{{Name: "a", Source: clip}, {Name: "b", Source: clip}})
	onUIWait(func() {
		kept := s.cams[0]
		if err := s.setCameras([]Camera{{Name: "a", Source: clip}, {Name: "c", Source: clip, Backend: "local"}, {Name: "d", Source: clip}}); err != nil {
			t.Fatal(err)
		}
		if len(s.cams) != 3 || s.cams[0] != kept || s.cams[1].spec.Name != "c" || len(s.wall.tiles) != 3 {
			t.Fatalf("cameras %v", s.cams)
		}
		if got := loadSettings(a.Preferences()).Cameras; len(got) != 3 || got[1].Backend != "local" {
			t.Errorf("saved %+v", got)
		}
		if err := s.setCameras([]Camera{{Name: "a", Source: clip}, {Name: "a", Source: clip}}); err == nil || len(s.cams) != 3 {
			t.Errorf("two cameras called a: %v, %d playing", err, len(s.cams))
		}
		if err := s.setCameras([]Camera{{Name: "d", Source: clip}}); err != nil {
			t.Fatal(err)
		}
		if len(s.cams) != 1 || s.focused != s.cams[0] {
			t.Errorf("down to one camera: %d playing, focused %v", len(s.cams), s.focused)
		}
	})
}

// Each camera's events carry its name; settings saved in one camera's
// view reach every camera's, and a source switched in a view is kept.
func TestShellSharesSettings(t *testing.T) {
	clip := greyClip(t)
	s, a := testShell(t, []Camera{{Name: "a", Source: clip}, {Name: "b", Source: clip}})
	got := make(chan string, 16)
	onUIWait(func() {
		s.saved = true
		s.st.Cameras = []Camera{{Name: "a", Source: clip}, {Name: "b", Source: clip}}
		s.cams[1].w.bus.Attach(event.SinkFunc(func(e event.Event) { got <- e.Head().Camera }))
	})
	select {
	case name := <-got:
		if name != "b" {
			t.Errorf("b's events carry %q", name)
		}
	case <-time.After(10 * time.Second):
		t.Error("no event from b")
	}
	onUIWait(func() {
		a0, b0 := s.cams[0].w, s.cams[1].w
		st := *a0.st
		st.SnapshotDir, st.MQTTURL = t.TempDir(), "mqtt://127.0.0.1:1"
		a0.applySettings(st)
		if b0.st.SnapshotDir != st.SnapshotDir || b0.settings.snaps.Text != st.SnapshotDir || b0.settings.connections.broker.Text != st.MQTTURL {
			t.Errorf("b's settings: %q, form %q", b0.st.SnapshotDir, b0.settings.snaps.Text)
		}
		b0.controls.play(clip + "?again")
		if s.cams[1].spec.Source != clip+"?again" || loadSettings(a.Preferences()).Cameras[1].Source != clip+"?again" {
			t.Errorf("b's source: %q", s.cams[1].spec.Source)
		}
	})
}

// The wall, a camera's view with its Cameras tab, the Fleet page and booth
// mode fit the 800×600 panels beside a production line.
func TestShellFits800x600(t *testing.T) {
	clip := greyClip(t)
	s, _ := testShell(t, []Camera{{Name: "a", Source: clip}, {Name: "b", Source: clip}, {Name: "c", Source: clip}})
	onUIWait(func() {
		limit := fyne.NewSize(800, 600)
		fits := func(what string) {
			if m := s.win.Content().MinSize(); m.Width > limit.Width || m.Height > limit.Height {
				t.Errorf("%s needs at least %v, more than %v", what, m, limit)
			}
		}
		fits("the wall")
		s.focus(s.cams[0])
		// The panels as they are once the meters have read (the Stats panel's
		// totals used to widen the window).
		s.cams[0].w.stats.update(meters{}, schedule.Stats{FramesOffered: 123456, FramesAnalyzed: 123456})
		for i, item := range s.cams[0].w.tabs.Items {
			s.cams[0].w.tabs.SelectIndex(i)
			fits("a camera's " + item.Text + " panel")
		}
		s.showFleet()
		fits("the Fleet page")
		s.setBooth(true)
		fits("booth mode")
	})
}

// The Cameras tab lists the cameras in use, the command line's included;
// removing one there saves the list and plays it.
func TestCamerasPanel(t *testing.T) {
	clip := greyClip(t)
	s, a := testShell(t, []Camera{{Name: "a", Source: clip}, {Name: "b", Source: clip, Backend: "local"}})
	onUIWait(func() {
		p := s.cams[0].panel
		if len(p.rows.Objects) != 2 || p.wall.Disabled() {
			t.Fatalf("%d rows, wall button disabled %v", len(p.rows.Objects), p.wall.Disabled())
		}
		row := p.rows.Objects[1].(*fyne.Container)
		buttons := row.Objects[2].(*fyne.Container) // the Border's trailing: edit, remove
		test.Tap(buttons.Objects[1].(*widget.Button))
		if got := loadSettings(a.Preferences()).Cameras; len(got) != 1 || got[0].Name != "a" || len(s.cams) != 1 {
			t.Errorf("after removing b: saved %+v, %d playing", got, len(s.cams))
		}
		if p := s.cams[0].panel; len(p.rows.Objects) != 1 || !p.wall.Disabled() {
			t.Errorf("one camera left: %d rows, wall button disabled %v", len(p.rows.Objects), p.wall.Disabled())
		}
	})
}
