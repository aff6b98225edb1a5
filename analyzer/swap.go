package analyzer

import (
	"context"
	"sync"
)

// SwappablePredictor serves predictions from a model that can be replaced
// while it serves, as the app does when a training exports a new model:
// Swap waits for the predictions in flight, so the model it hands back is
// no longer in use and the caller may close it.
type SwappablePredictor struct {
	mu sync.RWMutex
	p  Predictor
}

// NewSwappablePredictor serves p until the first Swap.
func NewSwappablePredictor(p Predictor) *SwappablePredictor { return &SwappablePredictor{p: p} }

// Predict implements Predictor with the current model.
func (s *SwappablePredictor) Predict(ctx context.Context, img Image, detect bool) ([]Prediction, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.p.Predict(ctx, img, detect)
}

// Name implements Predictor: the current model's.
func (s *SwappablePredictor) Name() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.p.Name()
}

// Swap makes p the model and returns the previous one once no prediction
// uses it any more.
func (s *SwappablePredictor) Swap(p Predictor) (old Predictor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, s.p = s.p, p
	return old
}

// Current is the model serving now, for what describes it (its class
// names); predictions go through Predict, which a Swap waits for.
func (s *SwappablePredictor) Current() Predictor {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.p
}
