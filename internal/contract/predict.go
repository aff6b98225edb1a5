package contract

import (
	"sort"

	"github.com/sightline/sightline/analyzer"
)

// PredictionResult is the `predict` command's data.
type PredictionResult struct {
	TopPrediction          *analyzer.Prediction  `json:"top_prediction"`
	AllPredictions         []analyzer.Prediction `json:"all_predictions"`
	ConfidenceThresholdMet bool                  `json:"confidence_threshold_met"`
}

// NewPredictionResult sorts preds (highest first) and summarises them.
func NewPredictionResult(preds []analyzer.Prediction, threshold float64) PredictionResult {
	sorted := append([]analyzer.Prediction{}, preds...)
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
