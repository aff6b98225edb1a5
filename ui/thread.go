package ui

import (
	"context"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
)

// onUI runs f on the UI thread, later (fyne.Do), and onUIWait runs it
// there and waits (fyne.DoAndWait). Both drop f once the app is quitting
// (closeUI): after Fyne's loop has stopped, fyne.Do runs f at once on the
// caller's goroutine, racing the shutdown, and there is no screen left to
// update. They are variables for the panels' tests only: Fyne's test
// driver runs f at once on the calling goroutine, so a panel's background
// work would touch its widgets while the test reads them; those tests make
// both take turns (serialUI).
var (
	onUI     = func(f func()) { whileUIOpen(fyne.Do, f) }
	onUIWait = func(f func()) { whileUIOpen(fyne.DoAndWait, f) }
)

// uiClosed is set once the app quits; UI work is dropped from then on.
var uiClosed atomic.Bool

func whileUIOpen(do func(func()), f func()) {
	if !uiClosed.Load() {
		do(f)
	}
}

// uiDrainTime lets work that passed whileUIOpen's check just before
// closeUI reach the UI thread while its loop still runs.
const uiDrainTime = 250 * time.Millisecond

// closeUI stops UI work from the app's goroutines, then quits: quit runs
// on the UI thread once what was on its way has arrived. Any goroutine.
func closeUI(quit func()) {
	uiClosed.Store(true)
	time.AfterFunc(uiDrainTime, func() { fyne.Do(quit) })
}

// everySecond calls f once a second until ctx ends.
func everySecond(ctx context.Context, f func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
