package analyzer

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// FaceFinder finds faces; the local backend is one.
type FaceFinder interface {
	Faces(img gocv.Mat) ([]Face, error)
}

// Pixelate coarsens r in img until a face in it cannot be recognised: at
// most 8×8 cells, whatever the region's size.
func Pixelate(img *gocv.Mat, r image.Rectangle) {
	r = r.Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if r.Dx() < 2 || r.Dy() < 2 {
		return
	}
	roi := img.Region(r)
	defer roi.Close()
	small := gocv.NewMat()
	defer small.Close()
	cells := image.Pt(min(8, max(1, r.Dx()/12)), min(8, max(1, r.Dy()/12)))
	gocv.Resize(roi, &small, cells, 0, 0, gocv.InterpolationArea)
	gocv.Resize(small, &roi, r.Size(), 0, 0, gocv.InterpolationNearestNeighbor)
}

// BlurFaces finds the faces in img and pixelates them, with a margin so
// hair and chin go too. It fails closed: when faces cannot be looked for,
// the caller must not send the image anywhere.
func BlurFaces(img *gocv.Mat, ff FaceFinder) (int, error) {
	faces, err := ff.Faces(*img)
	if err != nil {
		return 0, fmt.Errorf("privacy: looking for faces: %w", err)
	}
	for _, f := range faces {
		b := f.BoundingBox
		m := max(b.W, b.H) / 4
		Pixelate(img, image.Rect(b.X-m, b.Y-m, b.X+b.W+m, b.Y+b.H+m))
	}
	return len(faces), nil
}
