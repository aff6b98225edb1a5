package ui

import (
	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// withContext is the part of Fyne's desktop window that runs code with
// its GLFW window current (the test driver's windows lack it).
type withContext interface{ RunWithContext(f func()) }

// showPointer shows or hides the mouse pointer over win at once, not at
// the next movement as Fyne's cursors do; UI thread.
func showPointer(win fyne.Window, visible bool) {
	mode := glfw.CursorHidden
	if visible {
		mode = glfw.CursorNormal
	}
	if w, ok := win.(withContext); ok {
		w.RunWithContext(func() {
			if g := glfw.GetCurrentContext(); g != nil {
				g.SetInputMode(glfw.CursorMode, mode)
			}
		})
	}
}

// pointerHidden reports whether the pointer over win is hidden, and
// whether that could be told; UI thread.
func pointerHidden(win fyne.Window) (hidden, known bool) {
	if w, ok := win.(withContext); ok {
		w.RunWithContext(func() {
			if g := glfw.GetCurrentContext(); g != nil {
				hidden, known = g.GetInputMode(glfw.CursorMode) == glfw.CursorHidden, true
			}
		})
	}
	return hidden, known
}
