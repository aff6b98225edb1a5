package ui

import (
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
	firstView := waitAnyFrame(views)
	first := time.Since(launched)
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
	rep := views[firstView].report(samples[firstView], first)
	for i, w := range views {
		rep.Tiles = append(rep.Tiles, w.report(samples[i], first))
	}
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
