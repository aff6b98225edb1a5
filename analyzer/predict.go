package analyzer

import (
	"context"
	"sort"
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

// PredictionResult is the `predict` command's data.
type PredictionResult struct {
	TopPrediction          *Prediction  `json:"top_prediction"`
	AllPredictions         []Prediction `json:"all_predictions"`
	ConfidenceThresholdMet bool         `json:"confidence_threshold_met"`
}

// DefaultReviewThreshold is the probability under which a prediction needs
// human review.
const DefaultReviewThreshold = 0.7

// NewPredictionResult sorts preds (highest first) and summarises them.
func NewPredictionResult(preds []Prediction, threshold float64) PredictionResult {
	sorted := append([]Prediction{}, preds...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Probability > sorted[j].Probability })
	r := PredictionResult{AllPredictions: sorted}
	if len(sorted) > 0 {
		top := sorted[0]
		top.BoundingBox = nil
		r.TopPrediction = &top
		r.ConfidenceThresholdMet = top.Probability > threshold
	}
	return r
}
