package ui

import (
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/clock"
)

// wall is the page of every camera's tile, with a toolbar over them; in
// booth mode the toolbar goes and the tiles speak up.
type wall struct {
	content fyne.CanvasObject // the hider, holding the toolbar and the grid
	hider   *cursorHider
	toolbar fyne.CanvasObject
	title   *widget.Label
	grid    *fyne.Container
	tiles   []*tile
}

func newWall(s *shell) *wall {
	w := &wall{title: widget.NewLabel(""), grid: container.NewGridWithColumns(1)}
	w.title.TextStyle = fyne.TextStyle{Bold: true}
	cams := widget.NewButtonWithIcon("Cameras…", theme.ListIcon(), func() {
		d := dialog.NewCustom("Cameras", "Close", newCamerasPanel(s).content, s.win)
		d.Resize(fyne.NewSize(640, 480))
		d.Show()
	})
	fleet := widget.NewButtonWithIcon("Fleet", theme.ComputerIcon(), s.showFleet)
	booth := widget.NewButtonWithIcon("Booth", theme.ViewFullScreenIcon(), func() { s.setBooth(true) })
	hint := widget.NewLabel("click a camera to open it · Esc back here · B booth mode")
	hint.Importance = widget.LowImportance
	w.toolbar = container.NewHBox(w.title, hint, layout.NewSpacer(), cams, fleet, booth)
	w.hider = newCursorHider(container.NewBorder(w.toolbar, nil, nil, nil, w.grid), clock.Real{},
		func(visible bool) { showPointer(s.win, visible) })
	w.content = w.hider
	return w
}

// setTiles lays the tiles out in a grid as square as fits; UI thread.
func (w *wall) setTiles(tiles []*tile) {
	w.tiles = tiles
	w.grid.Layout = layout.NewGridLayoutWithColumns(wallColumns(len(tiles)))
	w.grid.Objects = nil
	for _, t := range tiles {
		w.grid.Objects = append(w.grid.Objects, t)
	}
	w.grid.Refresh()
	w.title.SetText(plural(len(tiles), "camera"))
}

// wallColumns: 1, 2, 2×2, 3×3, 4×4 as the cameras grow.
func wallColumns(n int) int { return max(1, int(math.Ceil(math.Sqrt(float64(n))))) }

// setBooth switches the wall between its own look and booth mode's: no
// toolbar, large counters and captions, the pointer hidden when still.
func (w *wall) setBooth(on bool) {
	if on {
		w.toolbar.Hide()
	} else {
		w.toolbar.Show()
	}
	for _, t := range w.tiles {
		t.setBooth(on)
	}
	w.hider.setOn(on)
	w.hider.Refresh()
}
