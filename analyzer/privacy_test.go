package analyzer

import (
	"context"
	"errors"
	"image"
	"os"
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

type fixedFaces []Face

func (f fixedFaces) Faces(gocv.Mat) ([]Face, error) { return f, nil }

// seenDocument records what a document analyzer was given.
type seenDocument struct {
	calls  int
	region gocv.Mat
}

func (s *seenDocument) AnalyzeDocument(_ context.Context, img Image, _ DocumentRequest) (*Document, error) {
	s.calls++
	if img.Bytes != nil || img.URL != "" || !img.HasMat() {
		return nil, errors.New("given something other than pixels")
	}
	roi := img.Mat.Region(image.Rect(221, 96, 258, 133))
	defer roi.Close()
	s.region = roi.Clone()
	return NewDocument(ModelIDDocument), nil
}

func (s *seenDocument) Name() string { return "azure" }

func TestDocumentAnalyzerWithPrivacy(t *testing.T) {
	jpeg, err := os.ReadFile("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
	if err != nil {
		t.Fatal(err)
	}
	seen := &seenDocument{}
	d := DocumentAnalyzerWithPrivacy(seen, fixedFaces{{BoundingBox: BoundingBox{X: 221, Y: 96, W: 37, H: 37}}})
	if _, err := d.AnalyzeDocument(context.Background(), Image{Bytes: jpeg}, DocumentRequest{Model: ModelIDDocument}); err != nil {
		t.Fatal(err)
	}
	defer seen.region.Close()
	if v := seen.region; v.GetVecbAt(0, 0) == nil || v.GetVecbAt(0, 0)[0] != v.GetVecbAt(0, 1)[0] {
		t.Error("the face reached the analyzer unpixelated")
	}
	for _, img := range []Image{{URL: "https://example.com/id.jpg"}, {Bytes: []byte("%PDF-1.7 ...")}} {
		if _, err := d.AnalyzeDocument(context.Background(), img, DocumentRequest{Model: ModelIDDocument}); err == nil {
			t.Errorf("%v: privacy let through what it cannot blur", img)
		}
	}
	if seen.calls != 1 {
		t.Errorf("the analyzer was called %d times, want once", seen.calls)
	}
}
