package local

/*
#cgo CFLAGS: -O3
#include <stddef.h>
#include <stdint.h>

// slPlanes writes rows×cols packed 8-bit BGR pixels (stride bytes a row)
// into the top-left corner of three float planes of planeW×planeH at
// dst: B, then G, then R. One pass, which GCC vectorises for AVX2 (a
// third of the time of the plain x86-64 build, chosen at load time where
// the CPU has it).
__attribute__((target_clones("avx2", "default")))
static void slPlanes(const uint8_t *src, int stride, int rows, int cols, float *dst, int planeW, int planeH) {
	size_t plane = (size_t)planeW * planeH;
	for (int y = 0; y < rows; y++) {
		const uint8_t *restrict p = src + (size_t)y * stride;
		float *restrict b = dst + (size_t)y * planeW;
		float *restrict g = b + plane;
		float *restrict r = g + plane;
		for (int x = 0; x < cols; x++) {
			b[x] = p[3 * x];
			g[x] = p[3 * x + 1];
			r[x] = p[3 * x + 2];
		}
	}
}
*/
import "C"

import (
	"image"
	"unsafe"

	"gocv.io/x/gocv"
)

// letterboxPad is YOLOX's padding value.
const letterboxPad = 114

// letterbox fills a W×H NCHW float32 tensor (BGR, 0–255) with an image
// resized into its top-left corner, aspect kept, and padded with
// letterboxPad, as YOLOX's preproc does. An image already of the resized
// size (a frame decoded at the model's size) goes straight into the
// tensor; a larger one is resized first.
type letterbox struct {
	w, h    int
	resized gocv.Mat // reused by the resize
	// lastSize is the resized size of the previous frame: the pad only
	// needs writing again when it changes.
	lastSize image.Point
}

func newLetterbox(w, h int) *letterbox {
	return &letterbox{w: w, h: h, resized: gocv.NewMat()}
}

// scaleFor is the letterbox scale for a src of w×h.
func (l *letterbox) scaleFor(w, h int) float32 {
	return min(float32(l.w)/float32(w), float32(l.h)/float32(h))
}

// sizeFor is the size a src of w×h is resized to: the part of the tensor
// the picture covers.
func (l *letterbox) sizeFor(w, h int) image.Point {
	r := l.scaleFor(w, h)
	return image.Pt(max(1, int(float32(w)*r)), max(1, int(float32(h)*r)))
}

// fill letterboxes src (BGR, 8-bit, 3 channels) into dst, which holds
// what the previous fill wrote, and returns the scale applied.
func (l *letterbox) fill(src gocv.Mat, dst []float32) float32 {
	size := l.sizeFor(src.Cols(), src.Rows())
	if size != l.lastSize {
		for i := range dst {
			dst[i] = letterboxPad
		}
		l.lastSize = size
	}
	img := src
	if size != image.Pt(src.Cols(), src.Rows()) || !src.IsContinuous() {
		gocv.Resize(src, &l.resized, size, 0, 0, gocv.InterpolationLinear)
		img = l.resized
	}
	pix, _ := img.DataPtrUint8()
	_ = dst[3*l.w*l.h-1] // the planes are all there
	C.slPlanes((*C.uint8_t)(unsafe.Pointer(&pix[0])), C.int(img.Step()), C.int(size.Y), C.int(size.X),
		(*C.float)(unsafe.Pointer(&dst[0])), C.int(l.w), C.int(l.h))
	return l.scaleFor(src.Cols(), src.Rows())
}

func (l *letterbox) Close() error { return l.resized.Close() }
