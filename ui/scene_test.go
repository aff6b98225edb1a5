package ui

import (
	"context"
	"image"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/scene"
)

// drag drags on the live view from a to b, as the mouse does.
func drag(v *liveView, a, b fyne.Position) {
	v.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: b}, Dragged: fyne.NewDelta(b.X-a.X, b.Y-a.Y)})
	v.DragEnd()
}

// Lines and zones are drawn and moved on the live view with the mouse,
// renamed and given rules in the panel; every change reaches the
// pipeline and is kept for the source.
func TestSceneEditing(t *testing.T) {
	a := newTestApp(t)
	w := newMainWindow(context.Background(), a, Config{Source: deps.DemoVideo, Mode: schedule.ModeLocal, Threshold: 0.5},
		windowDeps{keys: newKeyStore(failingRing{}, noEnv), build: fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil)})
	defer w.bus.Close()
	w.live.Resize(fyne.NewSize(400, 300))
	w.live.setImage(image.NewRGBA(image.Rect(0, 0, 400, 300))) // the picture fills the view
	s := w.scenes

	s.startAdding(addLine)
	drag(w.live, fyne.NewPos(40, 150), fyne.NewPos(360, 150))
	if len(s.cfg.Lines) != 1 || s.cfg.Lines[0].Points[0] != (scene.Point{X: 0.1, Y: 0.5}) || s.cfg.Lines[0].Points[1] != (scene.Point{X: 0.9, Y: 0.5}) {
		t.Fatalf("drawn line %+v", s.cfg.Lines)
	}
	s.startAdding(addZone)
	for _, p := range []fyne.Position{{X: 40, Y: 30}, {X: 200, Y: 30}, {X: 200, Y: 120}, {X: 40, Y: 120}, {X: 42, Y: 31}} {
		w.live.Tapped(&fyne.PointEvent{Position: p})
	}
	if len(s.cfg.Zones) != 1 || len(s.cfg.Zones[0].Polygon) != 4 || s.cfg.Zones[0].Name != "zone 1" {
		t.Fatalf("clicked zone %+v", s.cfg.Zones)
	}
	// Move the line's right end down: its handle is grabbed within a few pixels.
	drag(w.live, fyne.NewPos(358, 152), fyne.NewPos(360, 240))
	if got := s.cfg.Lines[0].Points[1]; got != (scene.Point{X: 0.9, Y: 0.8}) {
		t.Errorf("moved end %+v, want {0.9 0.8}", got)
	}
	s.addRule()
	if len(s.cfg.Rules) != 1 || s.cfg.Rules[0].Zone != "zone 1" {
		t.Fatalf("rule %+v", s.cfg.Rules)
	}
	// Renaming the zone renames it in its rule; an invalid name is refused.
	s.change(func(c *scene.Config) { renameTarget(c, "zone 1", "station"); c.Zones[0].Name = "station" })
	if s.cfg.Rules[0].Zone != "station" {
		t.Errorf("rule still watches %q", s.cfg.Rules[0].Zone)
	}
	if s.change(func(c *scene.Config) { c.Lines[0].Name = "" }) || s.status.Hidden || s.cfg.Lines[0].Name != "line 1" {
		t.Error("a line without a name was accepted without a word")
	}
	// The pipeline follows the edited scene, and it is kept for the source.
	saved, err := scene.Parse([]byte(w.st.Scenes[deps.DemoVideo]))
	if err != nil || len(saved.Lines) != 1 || len(saved.Zones) != 1 || len(saved.Rules) != 1 {
		t.Errorf("saved for the source: %+v, %v", saved, err)
	}
	// Another source comes with its own scene (none), and back again.
	w.loadScene("/other.mp4", nil)
	if len(s.cfg.Lines) != 0 {
		t.Errorf("the other source shows %d lines", len(s.cfg.Lines))
	}
	w.loadScene(deps.DemoVideo, nil)
	if len(s.cfg.Lines) != 1 || s.cfg.Zones[0].Name != "station" {
		t.Errorf("the scene did not come back with its source: %+v", s.cfg)
	}
}
