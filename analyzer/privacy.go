package analyzer

import (
	"context"
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/imagefile"
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

// errPrivacyURL: an image given by URL would reach the service unblurred,
// since Sightline never sees it.
var errPrivacyURL = errors.New("privacy is on: an image given by URL cannot be blurred first; download it and pass the file")

// blurred returns img's pixels with the faces pixelated, as a Mat the
// caller closes.
func blurred(img Image, ff FaceFinder) (gocv.Mat, error) {
	var m gocv.Mat
	switch {
	case img.URL != "":
		return gocv.Mat{}, errPrivacyURL
	case img.HasMat():
		m = img.Mat.Clone()
	default:
		var err error
		if m, _, err = imagefile.Decode(img.Bytes); err != nil {
			return gocv.Mat{}, err
		}
	}
	if _, err := BlurFaces(&m, ff); err != nil {
		m.Close()
		return gocv.Mat{}, err
	}
	return m, nil
}

// WithPrivacy returns an analyzer that hands a only images whose faces ff
// has pixelated: for cloud backends when privacy is on.
func WithPrivacy(a Analyzer, ff FaceFinder) Analyzer { return privateAnalyzer{a, ff} }

type privateAnalyzer struct {
	Analyzer
	faces FaceFinder
}

func (p privateAnalyzer) Analyze(ctx context.Context, img Image, req Request) (*Analysis, error) {
	m, err := blurred(img, p.faces)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return p.Analyzer.Analyze(ctx, Image{Mat: m}, req)
}

// PredictorWithPrivacy is WithPrivacy for Custom Vision predictors.
func PredictorWithPrivacy(p Predictor, ff FaceFinder) Predictor { return privatePredictor{p, ff} }

type privatePredictor struct {
	Predictor
	faces FaceFinder
}

func (p privatePredictor) Predict(ctx context.Context, img Image, detect bool) ([]Prediction, error) {
	m, err := blurred(img, p.faces)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return p.Predictor.Predict(ctx, Image{Mat: m}, detect)
}

// DocumentAnalyzerWithPrivacy is WithPrivacy for document analyzers: a
// PDF, which cannot be blurred, is refused.
func DocumentAnalyzerWithPrivacy(d DocumentAnalyzer, ff FaceFinder) DocumentAnalyzer {
	return privateDocumentAnalyzer{d, ff}
}

type privateDocumentAnalyzer struct {
	DocumentAnalyzer
	faces FaceFinder
}

func (p privateDocumentAnalyzer) AnalyzeDocument(ctx context.Context, img Image, req DocumentRequest) (*Document, error) {
	m, err := blurred(img, p.faces)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return p.DocumentAnalyzer.AnalyzeDocument(ctx, Image{Mat: m}, req)
}
