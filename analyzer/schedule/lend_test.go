package schedule_test

import (
	"context"
	"sync/atomic"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
)

// reading is a local analyzer that notes whether it read the caller's own
// pixels, and finishes when released.
type reading struct {
	own     gocv.Mat
	same    atomic.Bool
	release chan struct{}
}

func (r *reading) Analyze(_ context.Context, img analyzer.Image, _ analyzer.Request) (*analyzer.Analysis, error) {
	r.same.Store(img.Mat.Ptr() == r.own.Ptr())
	<-r.release
	return &analyzer.Analysis{Objects: []analyzer.Object{}}, nil
}
func (*reading) Supports(analyzer.Feature) bool { return true }
func (*reading) Name() string                   { return "local" }

// A frame whose owner lends its pixels is analysed on them, not on a copy,
// borrowed once for all the analyses that take it and given back once,
// when the last of them is done.
func TestLentFrameIsReadInPlaceAndGivenBackOnce(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	tests := []struct {
		name  string
		cloud bool
	}{{"local", false}, {"local and cloud", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := frames(t, 1)[0]
			local := &reading{own: f, release: make(chan struct{})}
			o := schedule.Options{Local: local, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects},
				CacheTTL: -1, Clock: clock.NewFake(clockStart)}
			if tt.cloud {
				o.Cloud, o.Mode = cloudClient(t, srv), schedule.ModeAuto
				o.Features = append(o.Features, analyzer.FeatureCaption)
			}
			s := schedule.New(context.Background(), o)
			defer s.Close()
			var lent, given atomic.Int32
			lend := func() func() {
				lent.Add(1)
				return func() { given.Add(1) }
			}
			got := s.Offer(schedule.Frame{Mat: f, Lend: lend})
			if !got.Local || got.Cloud != tt.cloud {
				t.Fatalf("Offer = %+v", got)
			}
			if tt.cloud {
				waitFor(t, func() bool { return s.Stats().Cloud.LatencyP50 > 0 }) // the cloud is done
			}
			if n := given.Load(); n != 0 {
				t.Fatalf("given back %d times while the local analysis reads the pixels", n)
			}
			close(local.release)
			s.Wait()
			if lent.Load() != 1 || given.Load() != 1 || !local.same.Load() {
				t.Errorf("lent %d times, given back %d times, read in place %v; want 1, 1, true",
					lent.Load(), given.Load(), local.same.Load())
			}
		})
	}
}
