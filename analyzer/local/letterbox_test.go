package local

import (
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// referenceFill is YOLOX's preproc as the letterbox first did it: resize
// into a canvas padded with 114, then every pixel into the planes.
func referenceFill(src gocv.Mat, w, h int) []float32 {
	canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(letterboxPad, letterboxPad, letterboxPad, 0), h, w, gocv.MatTypeCV8UC3)
	defer canvas.Close()
	r := min(float32(w)/float32(src.Cols()), float32(h)/float32(src.Rows()))
	size := image.Pt(max(1, int(float32(src.Cols())*r)), max(1, int(float32(src.Rows())*r)))
	roi := canvas.Region(image.Rect(0, 0, size.X, size.Y))
	gocv.Resize(src, &roi, size, 0, 0, gocv.InterpolationLinear)
	roi.Close()
	pix, _ := canvas.DataPtrUint8()
	out := make([]float32, 3*w*h)
	for i := range w * h {
		for c := range 3 {
			out[c*w*h+i] = float32(pix[3*i+c])
		}
	}
	return out
}

// noise is a w×h BGR picture of pseudo-random pixels.
func noise(w, h int, seed byte) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	pix, _ := m.DataPtrUint8()
	for i := range pix {
		pix[i] = byte(i*7) ^ seed
	}
	return m
}

// The one-pass fill writes exactly the tensor the resize-into-a-canvas
// letterbox wrote, for pictures larger, smaller and already of the
// letterbox's size, a region of a larger picture, and sizes that change
// from call to call (the pad is written again) or stay (it is kept).
func TestLetterboxFillMatchesReference(t *testing.T) {
	const w, h = 416, 416
	big := noise(1000, 800, 3)
	defer big.Close()
	region := big.Region(image.Rect(10, 20, 778, 596))
	defer region.Close()
	pictures := []struct {
		name string
		img  gocv.Mat
	}{
		{"768x576, resized", noise(768, 576, 1)},
		{"416x312, as it is", noise(416, 312, 2)},
		{"416x312 again, pad kept", noise(416, 312, 9)},
		{"300x500, tall: pad on the right", noise(300, 500, 4)},
		{"200x100, enlarged", noise(200, 100, 5)},
		{"a region of a larger picture", region},
		{"416x416, no pad", noise(416, 416, 6)},
		{"768x576 after no pad", noise(768, 576, 7)},
	}
	lb := newLetterbox(w, h)
	defer lb.Close()
	tensor := make([]float32, 3*w*h)
	for _, p := range pictures {
		t.Run(p.name, func(t *testing.T) {
			if p.img.Ptr() != region.Ptr() {
				defer p.img.Close()
			}
			scale := lb.fill(p.img, tensor)
			want := referenceFill(p.img, w, h)
			for i := range want {
				if tensor[i] != want[i] {
					t.Fatalf("value %d (plane %d, row %d, column %d) is %v, want %v", i, i/(w*h), i%(w*h)/w, i%w, tensor[i], want[i])
				}
			}
			if want := lb.scaleFor(p.img.Cols(), p.img.Rows()); scale != want {
				t.Errorf("scale %v, want %v", scale, want)
			}
		})
	}
}

// BenchmarkLetterboxFill fills YOLOX-nano's input from a 768×576 frame
// and from one already of its letterbox size.
//
//	go test -run - -bench LetterboxFill ./analyzer/local/
func BenchmarkLetterboxFill(b *testing.B) {
	for _, size := range []image.Point{{768, 576}, {416, 312}} {
		b.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(b *testing.B) {
			img := noise(size.X, size.Y, 1)
			defer img.Close()
			lb := newLetterbox(416, 416)
			defer lb.Close()
			tensor := make([]float32, 3*416*416)
			for b.Loop() {
				lb.fill(img, tensor)
			}
		})
	}
}
