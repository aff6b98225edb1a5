package ui

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// newTestApp is Fyne's test app with serialUI.
func newTestApp(t *testing.T) fyne.App {
	a := test.NewTempApp(t)
	serialUI(t)
	return a
}

// serialUI makes the panels' background work (onUI) and the test's reads
// (onUIWait) take turns for the test's duration, as they would on a real
// UI thread: one at a time, a call from inside another running at once.
func serialUI(t *testing.T) {
	var (
		mu    sync.Mutex
		owner atomic.Uint64 // the goroutine running a turn
	)
	turn := func(f func()) {
		id := goroutineID()
		if owner.Load() == id {
			f()
			return
		}
		mu.Lock()
		owner.Store(id)
		defer func() {
			owner.Store(0)
			mu.Unlock()
		}()
		f()
	}
	prevUI, prevWait := onUI, onUIWait
	onUI, onUIWait = turn, turn
	t.Cleanup(func() { onUI, onUIWait = prevUI, prevWait })
}

// goroutineID reads the calling goroutine's number from its stack's first
// line ("goroutine 42 [running]:"); for serialUI only.
func goroutineID() uint64 {
	var b [64]byte
	line := strings.TrimPrefix(string(b[:runtime.Stack(b[:], false)]), "goroutine ")
	id, _ := strconv.ParseUint(line[:strings.IndexByte(line, ' ')], 10, 64)
	return id
}
