package ui

import (
	"image"

	"gocv.io/x/gocv"
)

// setFit bounds the pictures shown to size pixels, keeping their aspect
// ratio: a wall's tiles take frames scaled down before they are converted
// and uploaded, so many tiles cost the UI thread little. nil shows frames
// at their own size; an empty size shows none (the camera is off screen),
// and they are not even drawn.
func (d *display) setFit(size *image.Point) { d.fit.Store(size) }

// fitted is the frame drawn and scaled down to the display's bound (or
// as it is when it fits); ok is false when nothing is to be shown. The
// pipeline's goroutine only.
func (d *display) fitted(f interface{ Drawn() gocv.Mat }) (m gocv.Mat, ok bool) {
	fit := d.fit.Load()
	if fit != nil && (fit.X <= 0 || fit.Y <= 0) {
		return gocv.Mat{}, false
	}
	m = f.Drawn()
	w, h := m.Cols(), m.Rows()
	if fit == nil || w == 0 || h == 0 {
		return m, true
	}
	scale := min(float64(fit.X)/float64(w), float64(fit.Y)/float64(h))
	if scale >= 1 {
		return m, true
	}
	if d.small.Ptr() == nil {
		d.small = gocv.NewMat()
	}
	size := image.Pt(max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5)))
	// Area averaging keeps the boxes' thin lines visible when shrunk.
	gocv.Resize(m, &d.small, size, 0, 0, gocv.InterpolationArea)
	return d.small, true
}
