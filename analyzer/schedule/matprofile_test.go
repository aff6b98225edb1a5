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
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/video"
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

// TestSchedulerLentFramesNoLeak: frames a source lends to the scheduler
// (and releases at once, as the pipeline does when the next one comes)
// are freed exactly once, after their analyses, and no copy is made.
// Run with: go test -tags matprofile -run TestSchedulerLentFramesNoLeak ./analyzer/schedule/
func TestSchedulerLentFramesNoLeak(t *testing.T) {
	base := gocv.MatProfile.Count()
	b := local.New(local.Options{Threads: 1, Detectors: 2})
	src, err := video.Open(context.Background(), deps.DemoVideo, video.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := schedule.New(context.Background(), schedule.Options{
		Local: b, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects},
		WaitForLocal: true, LocalWorkers: 2,
	})
	most := 0
	for range 40 {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.Offer(schedule.Frame{Seq: f.Seq, PTS: f.PTS, Mat: f.Mat, Lend: f.Lend})
		f.Release()
		most = max(most, gocv.MatProfile.Count()-base)
	}
	s.Wait()
	s.Close()
	src.Close()
	b.Close()
	// Two detectors' buffers and the fingerprinter's thumbnails aside: two
	// frames in analysis, the source's decoded ahead and its pool's idle
	// ones.
	if most > 10 {
		t.Errorf("%d Mats alive at once", most)
	}
	if n := gocv.MatProfile.Count(); n != base {
		var buf bytes.Buffer
		gocv.MatProfile.WriteTo(&buf, 1)
		t.Errorf("%d Mats not closed:\n%s", n-base, buf.String())
	}
}
