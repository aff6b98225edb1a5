package ui

import "fyne.io/fyne/v2"

// onUI runs f on the UI thread, later (fyne.Do), and onUIWait runs it
// there and waits (fyne.DoAndWait). They are variables for the panels'
// tests only: Fyne's test driver runs f at once on the calling goroutine,
// so a panel's background work would touch its widgets while the test
// reads them; those tests make both take turns (serialUI).
var (
	onUI     = fyne.Do
	onUIWait = fyne.DoAndWait
)
