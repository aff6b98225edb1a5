package analyzer

import (
	"context"
)

// RelativeBox is a Custom Vision box, as fractions of the image size.
type RelativeBox struct {
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Prediction is one Custom Vision prediction (classification or detection).
type Prediction struct {
	Tag         string       `json:"tag"`
	Probability float64      `json:"probability"`
	BoundingBox *RelativeBox `json:"bounding_box,omitempty"`
}

// Predictor is a Custom Vision model: a cloud project or a local ONNX export.
type Predictor interface {
	// Predict classifies img, or detects objects in it when detect is set.
	// Predictions are sorted by probability, highest first.
	Predict(ctx context.Context, img Image, detect bool) ([]Prediction, error)
	Name() string
}

// DefaultReviewThreshold is the probability under which a prediction needs
// human review.
const DefaultReviewThreshold = 0.7
