package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
)

// measure writes the display report of the app (`gui --exit-after`): the
// camera's with one camera; with several, the first's with every
// camera's own in Tiles, the UI thread's and the process's CPU being the
// whole app's.
func (s *shell) measure(launched time.Time, runFor time.Duration, path string, quit func()) {
	var views []*mainWindow
	fyne.DoAndWait(func() {
		for _, c := range s.cams {
			views = append(views, c.w)
		}
	})
	if len(views) == 1 {
		views[0].measure(launched, runFor, path, quit)
		return
	}
	launched = processStart(launched)
	firstView := waitAnyFrame(views)
	first := float64(time.Since(launched).Microseconds()) / 1000
	samples := make([][]meterSample, len(views))
	end := time.Now().Add(reportWarmup + runFor)
	for t := range time.Tick(time.Second) {
		for i, w := range views {
			samples[i] = append(samples[i], w.meter())
		}
		if t.After(end) {
			break
		}
	}
	tiles := make([]DisplayReport, len(views))
	for i, w := range views {
		tiles[i] = w.report(samples[i], w.p.display.takeAges())
		// A tile's paints are not seen (paintedOrHanded): its first
		// frame is the first handed to the screen.
		tiles[i].FirstFrameMS, tiles[i].FirstAnalysisMS = sinceLaunch(launched, w.p.display)
		tiles[i].FirstFrameMS = cmp.Or(tiles[i].FirstFrameMS, first)
	}
	rep := tiles[firstView]
	rep.Tiles = tiles
	if path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
		}
	}
	quit()
}

// waitAnyFrame returns the first view to show a picture.
func waitAnyFrame(views []*mainWindow) int {
	for {
		for i, w := range views {
			if w.p.display.shown.Load() > 0 {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}
