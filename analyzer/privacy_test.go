package analyzer

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

func TestPixelateHidesDetail(t *testing.T) {
	img := gocv.IMRead("/usr/share/doc/opencv-doc/examples/data/messi5.jpg", gocv.IMReadColor)
	defer img.Close()
	before := img.Clone()
	defer before.Close()
	r := image.Rect(221, 96, 258, 133) // Messi's face
	Pixelate(&img, r)
	roi, orig := img.Region(r), before.Region(r)
	defer roi.Close()
	defer orig.Close()
	if gocv.NormWithMats(roi, orig, gocv.NormL1) == 0 {
		t.Fatal("pixelation changed nothing")
	}
	// Neighbouring pixels inside a cell are equal.
	if roi.GetVecbAt(0, 0)[0] != roi.GetVecbAt(0, 1)[0] || roi.GetVecbAt(5, 5)[1] != roi.GetVecbAt(6, 6)[1] {
		t.Error("region is not pixelated")
	}
	// Outside the region nothing changed.
	if img.GetVecbAt(10, 10)[0] != before.GetVecbAt(10, 10)[0] || img.GetVecbAt(95, 220)[2] != before.GetVecbAt(95, 220)[2] {
		t.Error("pixelation leaked outside the face")
	}
	// Regions off the image are clipped, not a crash.
	Pixelate(&img, image.Rect(-50, -50, 10, 10))
	Pixelate(&img, image.Rect(5000, 5000, 6000, 6000))
}
