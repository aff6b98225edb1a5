package cli

import (
	"context"
	"errors"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

// errPrivacyURL: an image given by URL would leave unblurred, since local
// backends fetch nothing.
var errPrivacyURL = errors.New("--privacy cannot blur an image given by URL; download it and pass the file")

// blurred returns img with its faces pixelated, as a Mat the caller closes.
func blurred(img analyzer.Image, ff analyzer.FaceFinder) (gocv.Mat, error) {
	switch {
	case img.URL != "":
		return gocv.Mat{}, errPrivacyURL
	case img.HasMat():
		m := img.Mat.Clone()
		if _, err := analyzer.BlurFaces(&m, ff); err != nil {
			m.Close()
			return gocv.Mat{}, err
		}
		return m, nil
	}
	m, err := gocv.IMDecode(img.Bytes, gocv.IMReadColor)
	if err != nil || m.Empty() {
		m.Close()
		return gocv.Mat{}, errors.New("not a readable image (OpenCV could not decode it)")
	}
	if _, err := analyzer.BlurFaces(&m, ff); err != nil {
		m.Close()
		return gocv.Mat{}, err
	}
	return m, nil
}

// privateAnalyzer blurs faces before its cloud analyzer sees the image.
type privateAnalyzer struct {
	analyzer.Analyzer
	faces analyzer.FaceFinder
}

func (p privateAnalyzer) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	m, err := blurred(img, p.faces)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return p.Analyzer.Analyze(ctx, analyzer.Image{Mat: m}, req)
}

// privatePredictor blurs faces before its cloud predictor sees the image.
type privatePredictor struct {
	analyzer.Predictor
	faces analyzer.FaceFinder
}

func (p privatePredictor) Predict(ctx context.Context, img analyzer.Image, detect bool) ([]analyzer.Prediction, error) {
	m, err := blurred(img, p.faces)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return p.Predictor.Predict(ctx, analyzer.Image{Mat: m}, detect)
}
