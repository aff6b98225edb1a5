package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/deps"
)

// The app fits the 800×600 panels beside a production line, every panel
// included.
func TestWindowFits800x600(t *testing.T) {
	a := newTestApp(t)
	w := newMainWindow(context.Background(), a, Config{Source: deps.DemoVideo, Mode: schedule.ModeLocal, Threshold: 0.5},
		windowDeps{keys: newKeyStore(failingRing{}, noEnv), build: fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil)})
	defer w.bus.Close()
	// The classes of a busy street, listed.
	w.controls.setClasses([]string{"bicycle", "bus", "car", "fire hydrant", "motorcycle", "person", "potted plant", "traffic light"})
	limit := fyne.NewSize(800, 600)
	if m := w.win.Content().MinSize(); m.Width > limit.Width || m.Height > limit.Height {
		t.Errorf("the window needs at least %v, more than %v", m, limit)
	}
	for i, item := range w.tabs.Items {
		w.tabs.SelectIndex(i)
		if m := w.win.Content().MinSize(); m.Width > limit.Width || m.Height > limit.Height {
			t.Errorf("with the %s panel the window needs %v", item.Text, m)
		}
	}
}
