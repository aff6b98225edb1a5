package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
)

// gated is a local analyzer whose analyses finish only when released.
type gated struct{ release chan struct{} }

func (g gated) Analyze(ctx context.Context, _ analyzer.Image, _ analyzer.Request) (*analyzer.Analysis, error) {
	<-g.release
	return &analyzer.Analysis{Objects: []analyzer.Object{}}, nil
}
func (gated) Supports(analyzer.Feature) bool { return true }
func (gated) Name() string                   { return "local" }

// Offer says which backends took the frame, so that an output can keep
// the frames whose results are coming (the capture of frames to label).
func TestOfferSaysWhichBackendsTookTheFrame(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	clk := clock.NewFake(clockStart)
	g := gated{release: make(chan struct{})}
	s := schedule.New(context.Background(), schedule.Options{
		Local: g, Cloud: cloudClient(t, srv), Mode: schedule.ModeAuto,
		Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeatureCaption}, CacheTTL: -1, Clock: clk,
	})
	defer s.Close()
	f := frames(t, 1)[0]
	steps := []struct {
		name    string
		advance time.Duration
		release bool
		want    schedule.Offered
	}{
		{"first frame: both backends", 0, false, schedule.Offered{Local: true, Cloud: true}},
		{"local busy, cloud not due", 10 * time.Millisecond, false, schedule.Offered{}},
		{"local free again, cloud not due", 10 * time.Millisecond, true, schedule.Offered{Local: true}},
		{"the cloud's turn (3 s at 20 a minute)", 3 * time.Second, true, schedule.Offered{Local: true, Cloud: true}},
	}
	for i, st := range steps {
		if st.release {
			g.release <- struct{}{}
			waitFor(t, func() bool { return s.Stats().Local.Calls >= int64(i-1) })
		}
		if i == 3 {
			waitFor(t, func() bool { st := s.Stats(); return st.Cloud.Calls == 1 && st.Cloud.LatencyP50 > 0 })
		}
		clk.Advance(st.advance)
		if got := s.Offer(schedule.Frame{Seq: int64(i), Mat: f}); got != st.want {
			t.Errorf("%s: Offer = %+v, want %+v", st.name, got, st.want)
		}
	}
	close(g.release)
	s.Wait()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
