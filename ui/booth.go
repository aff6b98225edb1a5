package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// boothIdle is how long the pointer stays on screen without moving in
// booth mode.
const boothIdle = 3 * time.Second

// timerClock tells the time and sets timers (internal/clock).
type timerClock interface {
	Now() time.Time
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// cursorHider holds the wall. While on (booth mode) it hides the pointer
// after boothIdle without movement over it, and shows it again when the
// mouse moves. Fyne changes the pointer only when the mouse moves, so
// hiding it goes to the window itself (show).
type cursorHider struct {
	widget.BaseWidget
	content fyne.CanvasObject
	clock   timerClock
	// show makes the pointer visible or not; UI thread.
	show func(visible bool)

	on, hidden bool
	lastMove   time.Time
	// quit ends the pending timer's goroutine when the hider is turned off.
	quit chan struct{}
}

func newCursorHider(content fyne.CanvasObject, clk timerClock, show func(bool)) *cursorHider {
	h := &cursorHider{content: content, clock: clk, show: show}
	h.ExtendBaseWidget(h)
	return h
}

// setOn starts or stops hiding the pointer; UI thread.
func (h *cursorHider) setOn(on bool) {
	if on == h.on {
		return
	}
	h.on = on
	if !on {
		close(h.quit)
		if h.hidden {
			h.hidden = false
			h.show(true)
		}
		return
	}
	h.quit = make(chan struct{})
	h.lastMove = h.clock.Now()
	h.arm(boothIdle)
}

// arm waits d, then hides the pointer unless it moved meanwhile.
func (h *cursorHider) arm(d time.Duration) {
	c, stop := h.clock.NewTimer(d)
	quit := h.quit
	go func() {
		select {
		case <-c:
			onUI(func() { h.expire(quit) })
		case <-quit:
			stop()
		}
	}()
}

// expire hides the pointer when it has been still for boothIdle, or waits
// for the rest of that time; UI thread.
func (h *cursorHider) expire(quit chan struct{}) {
	if !h.on || quit != h.quit {
		return // turned off, or on again since
	}
	if rest := boothIdle - h.clock.Now().Sub(h.lastMove); rest > 0 {
		h.arm(rest)
		return
	}
	h.hidden = true
	h.show(false)
}

// moved shows the pointer again and restarts the wait; UI thread.
func (h *cursorHider) moved() {
	if !h.on {
		return
	}
	h.lastMove = h.clock.Now()
	if h.hidden {
		h.hidden = false
		h.show(true)
		h.arm(boothIdle)
	}
}

// close ends a pending wait when the app ends, the UI loop gone.
func (h *cursorHider) close() {
	if h.on {
		h.on = false
		close(h.quit)
	}
}

func (h *cursorHider) MouseIn(*desktop.MouseEvent)    { h.moved() }
func (h *cursorHider) MouseMoved(*desktop.MouseEvent) { h.moved() }
func (h *cursorHider) MouseOut()                      {}

func (h *cursorHider) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(h.content)
}
