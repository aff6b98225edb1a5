package ui

import (
	"image"

	"gocv.io/x/gocv"
)

// setFit bounds the pictures shown to size pixels, keeping their aspect
// ratio: a wall's tiles take frames scaled down before they are converted
// and uploaded, so many tiles cost the UI thread little. nil shows frames
// at the live view's size (fitTo); an empty size shows none (the camera
// is off screen), and they are not even drawn.
func (d *display) setFit(size *image.Point) { d.fit.Store(size) }

// fitTo bounds the pictures to the live view's size in pixels when no
// fit is set (zero: the frames' own size); the view's layout calls it.
func (d *display) fitTo(size image.Point) {
	d.view.Store(uint64(max(size.X, 0))<<32 | uint64(max(size.Y, 0)))
}

// fitted is the frame drawn and scaled down to the display's bound (or
// as it is when it fits), and the frame's own size; ok is false when
// nothing is to be shown. The pipeline's goroutine only.
func (d *display) fitted(f interface{ Drawn() gocv.Mat }) (m gocv.Mat, frame image.Point, ok bool) {
	fit := d.fit.Load()
	if fit != nil && (fit.X <= 0 || fit.Y <= 0) {
		return gocv.Mat{}, image.Point{}, false
	}
	// Area averaging keeps the boxes' thin lines visible in a small tile;
	// the live view scales linearly, as the GPU did before (area costs
	// 15 ms a 1080p frame here).
	v := d.view.Load()
	bound, interp := image.Pt(int(v>>32), int(v&0xffffffff)), gocv.InterpolationLinear
	if fit != nil {
		bound, interp = *fit, gocv.InterpolationArea
	}
	m = f.Drawn()
	frame = image.Pt(m.Cols(), m.Rows())
	if frame.X == 0 || frame.Y == 0 {
		return gocv.Mat{}, frame, false
	}
	size := fitWithin(frame, bound)
	if size == frame {
		return m, frame, true
	}
	if d.small.Ptr() == nil {
		d.small = gocv.NewMat()
	}
	gocv.Resize(m, &d.small, size, 0, 0, interp)
	return d.small, frame, true
}

// fitWithin is the size a frame of src pixels is shown at in a bound of
// view pixels: scaled down to fit, keeping its shape, never up (the GPU
// scales up for free); a zero bound keeps src.
func fitWithin(src, view image.Point) image.Point {
	if view.X <= 0 || view.Y <= 0 || (src.X <= view.X && src.Y <= view.Y) {
		return src
	}
	scale := min(float64(view.X)/float64(src.X), float64(view.Y)/float64(src.Y))
	return image.Pt(max(1, int(float64(src.X)*scale+0.5)), max(1, int(float64(src.Y)*scale+0.5)))
}
