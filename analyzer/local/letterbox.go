package local

import (
	"image"

	"gocv.io/x/gocv"
)

// letterboxPad is YOLOX's padding value.
const letterboxPad = 114

// letterbox resizes images into a reused W×H canvas, top-left aligned and
// padded with letterboxPad, as YOLOX's preproc does, and fills an NCHW
// float32 tensor (BGR, 0–255) from it.
type letterbox struct {
	w, h   int
	canvas gocv.Mat
	// lastSize is the resized size of the previous frame: the pad only needs
	// repainting when it changes.
	lastSize image.Point
}

func newLetterbox(w, h int) *letterbox {
	return &letterbox{w: w, h: h, canvas: gocv.NewMatWithSizeFromScalar(gocv.NewScalar(letterboxPad, letterboxPad, letterboxPad, 0), h, w, gocv.MatTypeCV8UC3)}
}

// scaleFor is the letterbox scale for a src of w×h.
func (l *letterbox) scaleFor(w, h int) float32 {
	return min(float32(l.w)/float32(w), float32(l.h)/float32(h))
}

// fill letterboxes src (BGR, 8-bit, 3 channels) into dst as NCHW float32 and
// returns the scale applied.
func (l *letterbox) fill(src gocv.Mat, dst []float32) float32 {
	r := l.scaleFor(src.Cols(), src.Rows())
	size := image.Pt(max(1, int(float32(src.Cols())*r)), max(1, int(float32(src.Rows())*r)))
	if size != l.lastSize {
		l.canvas.SetTo(gocv.NewScalar(letterboxPad, letterboxPad, letterboxPad, 0))
		l.lastSize = size
	}
	// Resizing straight into the canvas region saves a copy: OpenCV writes
	// into a destination of the right size and type in place.
	roi := l.canvas.Region(image.Rect(0, 0, size.X, size.Y))
	gocv.Resize(src, &roi, size, 0, 0, gocv.InterpolationLinear)
	roi.Close()

	pix, _ := l.canvas.DataPtrUint8()
	plane := l.w * l.h
	// HWC bytes to CHW floats. Slicing everything to the same length up
	// front lets the compiler drop the bounds checks from the loop.
	pix = pix[:3*plane]
	b, g, rr := dst[:plane:plane], dst[plane:2*plane:2*plane], dst[2*plane:3*plane:3*plane]
	for i := range b {
		px := pix[3*i : 3*i+3 : 3*i+3]
		b[i], g[i], rr[i] = float32(px[0]), float32(px[1]), float32(px[2])
	}
	return r
}

func (l *letterbox) Close() error { return l.canvas.Close() }
