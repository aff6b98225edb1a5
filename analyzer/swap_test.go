package analyzer

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowModel answers its tag after a pause, and fails the test if it is
// asked anything once closed.
type slowModel struct {
	t      *testing.T
	tag    string
	closed atomic.Bool
}

func (m *slowModel) Predict(context.Context, Image, bool) ([]Prediction, error) {
	if m.closed.Load() {
		m.t.Errorf("model %s used after it was closed", m.tag)
	}
	time.Sleep(time.Millisecond)
	if m.closed.Load() {
		m.t.Errorf("model %s closed during a prediction", m.tag)
	}
	return []Prediction{{Tag: m.tag, Probability: 1}}, nil
}

func (m *slowModel) Name() string { return "local" }

// TestSwappablePredictor swaps models while predictions run: no prediction
// ever runs on a closed model, and after a swap every prediction is the
// new model's.
func TestSwappablePredictor(t *testing.T) {
	first := &slowModel{t: t, tag: "v1"}
	s := NewSwappablePredictor(first)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := s.Predict(ctx, Image{}, false); err != nil {
					t.Error(err)
				}
			}
		})
	}
	prev := Predictor(first)
	for i := 2; i <= 20; i++ {
		time.Sleep(2 * time.Millisecond)
		next := &slowModel{t: t, tag: "v" + string(rune('0'+i%10))}
		old := s.Swap(next)
		if old != prev {
			t.Fatalf("Swap returned %v, want the previous model", old)
		}
		old.(*slowModel).closed.Store(true)
		if got, _ := s.Predict(ctx, Image{}, false); got[0].Tag != next.tag {
			t.Errorf("after the swap: %s, want %s", got[0].Tag, next.tag)
		}
		prev = next
	}
	stop()
	wg.Wait()
	if s.Name() != "local" {
		t.Errorf("name %q", s.Name())
	}
}

// Current is the model in use, before and after a swap.
func TestSwappablePredictorCurrent(t *testing.T) {
	a, b := &slowModel{t: t, tag: "a"}, &slowModel{t: t, tag: "b"}
	s := NewSwappablePredictor(a)
	if s.Current() != Predictor(a) {
		t.Error("Current is not the first model")
	}
	s.Swap(b)
	if s.Current() != Predictor(b) {
		t.Error("Current is not the swapped-in model")
	}
}
