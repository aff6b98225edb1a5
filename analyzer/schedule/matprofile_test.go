//go:build matprofile

package schedule_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
)

// TestSchedulerFrameCopiesFreed: the scheduler's pooled frame copies stay
// few however many frames pass, live or with parallel workers, and Close
// frees every one.
// Run with: go test -tags matprofile -run TestSchedulerFrameCopiesFreed ./analyzer/
func TestSchedulerFrameCopiesFreed(t *testing.T) {
	fs := frames(t, 40)
	b := local.New(local.Options{Threads: 1, Detectors: 2})
	defer b.Close()
	// The first pass loads both detectors, whose buffers live as long as
	// the backend; the next ones are measured.
	for pass, wait := range []bool{true, false, true} {
		base := gocv.MatProfile.Count()
		s := schedule.New(context.Background(), schedule.Options{
			Local: b, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects},
			WaitForLocal: wait, LocalWorkers: 2,
		})
		most := 0
		for i, f := range fs {
			s.Offer(schedule.Frame{Seq: int64(i), PTS: time.Duration(i) * 40 * time.Millisecond, Mat: f})
			most = max(most, gocv.MatProfile.Count()-base)
		}
		s.Wait()
		s.Close()
		if pass == 0 {
			continue
		}
		// The fingerprinter's thumbnails aside, at most two copies in
		// analysis, one being offered and the pool's idle ones.
		if most > 8 {
			t.Errorf("wait=%v: %d Mats alive at once for %d frames", wait, most, len(fs))
		}
		if n := gocv.MatProfile.Count(); n != base {
			var buf bytes.Buffer
			gocv.MatProfile.WriteTo(&buf, 1)
			t.Errorf("wait=%v: %d Mats not closed:\n%s", wait, n-base, buf.String())
		}
	}
}
