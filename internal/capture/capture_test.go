package capture

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
)

var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// rig drives a Capture as the pipeline and the bus do.
type rig struct {
	t   *testing.T
	c   *Capture
	clk *clock.Fake
	img gocv.Mat
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	clk := clock.NewFake(start)
	opts.Clock = clk
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Sample == 0 {
		opts.Sample = -1 // only the reason under test
	}
	c, err := New(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 120, 150, 0), 120, 160, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { c.Close(); img.Close() })
	return &rig{t: t, c: c, clk: clk, img: img}
}

var live = overlay.Filter{Threshold: 0.5}

// frame hands frame seq to the capture, analysed by the backends in o.
func (r *rig) frame(seq int64, o schedule.Offered, view *analyzer.Analysis) error {
	return r.c.WriteFrame(&pipeline.Frame{Seq: seq, PTS: time.Duration(seq) * 100 * time.Millisecond, Clean: r.img,
		Filter: live, Offered: o, View: pipeline.View{Merged: analyzer.Merged{Analysis: view}}})
}

// result is the analysis event of frame seq from source.
func (r *rig) result(seq int64, source string, objs ...analyzer.Object) {
	r.c.Publish(&event.Analysis{At: event.At{Frame: seq}, Source: source,
		Data: &analyzer.Analysis{Objects: objs, Metadata: analyzer.Metadata{Width: 160, Height: 120}, ModelVersion: "yolox_nano.onnx@test"}})
}

// written waits until the frames decided on are on disk.
func (r *rig) written() {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.c.mu.Lock()
		n := r.c.queued
		r.c.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatal("the writer did not finish")
		}
		time.Sleep(time.Millisecond)
	}
}

// records closes the capture and reads what it saved.
func (r *rig) records() []*Record {
	r.t.Helper()
	if err := r.c.Close(); err != nil {
		r.t.Fatalf("Close: %v", err)
	}
	return readAll(r.t, r.c.Dir())
}

func readAll(t *testing.T, dir string) []*Record {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*"+SidecarExt))
	var out []*Record
	for _, p := range paths {
		rec, err := ReadRecord(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, rec.Image)); err != nil {
			t.Errorf("record %s names a missing image: %v", p, err)
		}
		out = append(out, rec)
	}
	return out
}

func obj(name string, conf float64, x, y, w, h int) analyzer.Object {
	return analyzer.Object{Name: name, Confidence: conf, BoundingBox: analyzer.BoundingBox{X: x, Y: y, W: w, H: h}}
}

var (
	localOnly = schedule.Offered{Local: true}
	both      = schedule.Offered{Local: true, Cloud: true}
)

// Each reason saves the frame it holds on, with the predictions of that
// frame beside it; frames without one are not saved.
func TestReasons(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		drive func(r *rig)
		want  []string // the reasons of the one frame saved; nil: none
	}{
		{"a box near the threshold", Options{}, func(r *rig) {
			r.frame(1, localOnly, nil)
			r.result(1, "local", obj("car", 0.55, 10, 10, 40, 30), obj("person", 0.95, 80, 20, 30, 80))
		}, []string{ReasonUncertain}},
		{"every box far from it", Options{}, func(r *rig) {
			r.frame(1, localOnly, nil)
			r.result(1, "local", obj("car", 0.20, 10, 10, 40, 30), obj("person", 0.95, 80, 20, 30, 80))
		}, nil},
		{"the cloud finds a car the local model missed", Options{}, func(r *rig) {
			r.result(0, "local", obj("car", 0.9, 0, 0, 10, 10)) // the local model knows cars
			r.frame(1, both, nil)
			r.result(1, "local", obj("person", 0.95, 80, 20, 30, 80))
			r.result(1, "azure", obj("person", 0.9, 82, 22, 30, 78), obj("car", 0.8, 10, 10, 40, 30))
		}, []string{ReasonDisagreement}},
		{"the cloud names a class the local model never did", Options{}, func(r *rig) {
			r.frame(1, both, nil)
			r.result(1, "local", obj("person", 0.95, 80, 20, 30, 80))
			r.result(1, "azure", obj("person", 0.9, 82, 22, 30, 78), obj("Laptop", 0.8, 10, 10, 40, 30))
		}, nil},
		{"the two agree", Options{}, func(r *rig) {
			r.frame(1, both, nil)
			r.result(1, "azure", obj("person", 0.9, 82, 22, 30, 78)) // the cloud first: order does not matter
			r.result(1, "local", obj("person", 0.95, 80, 20, 30, 80))
		}, nil},
		{"the user marks a frame nobody analyses", Options{}, func(r *rig) {
			r.c.Mark()
			r.frame(1, schedule.Offered{}, &analyzer.Analysis{Objects: []analyzer.Object{obj("person", 0.95, 80, 20, 30, 80)}})
		}, []string{ReasonMarked}},
		{"a random sample", Options{Sample: 1}, func(r *rig) {
			r.frame(1, localOnly, nil)
			r.result(1, "local", obj("person", 0.95, 80, 20, 30, 80))
		}, []string{ReasonSample}},
		{"the result came before its frame", Options{}, func(r *rig) {
			r.result(1, "local", obj("car", 0.45, 10, 10, 40, 30))
			r.frame(1, localOnly, nil)
		}, []string{ReasonUncertain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.opts)
			tt.drive(r)
			recs := r.records()
			if tt.want == nil {
				if len(recs) != 0 {
					t.Fatalf("saved %d frames (%v), want none", len(recs), recs[0].Reasons)
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("saved %d frames, want 1", len(recs))
			}
			rec := recs[0]
			if !slices.Equal(rec.Reasons, tt.want) || rec.Frame != 1 || rec.Width != 160 || rec.Height != 120 || len(rec.Predictions) == 0 {
				t.Errorf("record %+v, want frame 1 of 160x120 for %v with its predictions", rec, tt.want)
			}
		})
	}
}

// The record carries what Review starts from: the frame's own boxes (the
// local ones), the cloud's beside them, the thresholds, the model.
func TestRecordHoldsThePredictions(t *testing.T) {
	r := newRig(t, Options{})
	r.result(0, "local", obj("car", 0.9, 0, 0, 10, 10))
	r.frame(7, both, nil)
	r.result(7, "local", obj("car", 0.42, 10, 10, 40, 30), obj("dog", 0.2, 5, 5, 10, 10))
	r.result(7, "azure", obj("car", 0.7, 100, 60, 40, 30))
	recs := r.records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	rec := recs[0]
	want := Record{Image: rec.Image, Frame: 7, PTSMS: 700, CapturedAt: start, Width: 160, Height: 120,
		Reasons: []string{ReasonUncertain, ReasonDisagreement}, Threshold: 0.5, Band: 0.1, Model: "yolox_nano.onnx@test",
		Predictions: []Box{{"car", 0.42, [4]float64{10, 10, 40, 30}}, {"dog", 0.2, [4]float64{5, 5, 10, 10}}},
		Cloud:       []Box{{"car", 0.7, [4]float64{100, 60, 40, 30}}}}
	if !recordsEqual(*rec, want) {
		t.Errorf("record\n%+v\nwant\n%+v", *rec, want)
	}
	if got := rec.Proposed(); len(got) != 1 || got[0].Name != "car" {
		t.Errorf("proposed %+v, want the car only (the dog is below the band)", got)
	}
	if !strings.HasPrefix(rec.Image, "20261126-090000.000-f000007") {
		t.Errorf("image name %q", rec.Image)
	}
}

func recordsEqual(a, b Record) bool {
	return a.Image == b.Image && a.Frame == b.Frame && a.PTSMS == b.PTSMS && a.CapturedAt.Equal(b.CapturedAt) &&
		a.Width == b.Width && a.Height == b.Height && slices.Equal(a.Reasons, b.Reasons) && a.Threshold == b.Threshold &&
		a.Band == b.Band && a.Model == b.Model && slices.Equal(a.Predictions, b.Predictions) && slices.Equal(a.Cloud, b.Cloud)
}

// At most PerMinute frames a minute and one every MinGap; a marked frame
// passes both.
func TestLimitsAMinute(t *testing.T) {
	r := newRig(t, Options{PerMinute: 3, MinGap: 2 * time.Second})
	doubtful := obj("car", 0.5, 10, 10, 40, 30)
	seq := int64(0)
	next := func(advance time.Duration) {
		r.clk.Advance(advance)
		seq++
		r.frame(seq, localOnly, nil)
		r.result(seq, "local", doubtful)
		r.written()
	}
	next(0)               // 0 s: saved
	next(time.Second)     // 1 s: within the gap, not even kept
	next(time.Second)     // 2 s: saved
	next(2 * time.Second) // 4 s: saved, the third this minute
	next(2 * time.Second) // 6 s: the minute is full
	r.c.Mark()
	next(time.Second)      // 7 s: marked, saved all the same
	next(54 * time.Second) // 61 s: the minute from 1 s holds 2, 4 and 7 s
	next(2 * time.Second)  // 63 s: it holds 4 and 7 s: saved
	// Two frames kept before either's result is in: the second finds the
	// minute full once the first is saved.
	r.clk.Advance(3 * time.Second)
	r.frame(9, localOnly, nil)
	r.frame(10, localOnly, nil)
	r.result(9, "local", doubtful)
	r.result(10, "local", doubtful)
	st := r.c.Stats()
	recs := r.records()
	if len(recs) != 6 || st.Limited != 1 {
		t.Errorf("saved %d, limited %d; want 6 and 1", len(recs), st.Limited)
	}
	marked := slices.IndexFunc(recs, func(rec *Record) bool { return slices.Contains(rec.Reasons, ReasonMarked) })
	if marked < 0 || recs[marked].Frame != 6 {
		t.Errorf("the marked frame (6) was not saved")
	}
}

// Past MaxBytes nothing more is saved; captures already in the folder
// count.
func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	first, err := New(dir, Options{Clock: clock.NewFake(start), Sample: -1, MinGap: -1})
	if err != nil {
		t.Fatal(err)
	}
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 120, 150, 0), 120, 160, gocv.MatTypeCV8UC3)
	defer img.Close()
	r := &rig{t: t, c: first, img: img}
	r.frame(1, localOnly, nil)
	r.result(1, "local", obj("car", 0.5, 10, 10, 40, 30))
	one := r.records()
	if len(one) != 1 {
		t.Fatalf("%d saved", len(one))
	}
	size := first.Stats().Bytes
	again, err := New(dir, Options{Clock: clock.NewFake(start.Add(time.Hour)), Sample: -1, MinGap: -1, MaxBytes: size + 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Stats().Bytes; got != size {
		t.Errorf("a new capture counts %d bytes in the folder, want %d", got, size)
	}
	r.c = again
	r.frame(2, localOnly, nil)
	r.result(2, "local", obj("car", 0.5, 10, 10, 40, 30))
	n := len(r.records())
	if st := again.Stats(); n != 1 || st.Full != 1 {
		t.Errorf("%d frames in the folder, %d left out as full; want 1 and 1", n, st.Full)
	}
}

// fullDisk fails writes after `room` bytes, as a full disk does.
type fullDisk struct {
	f    *os.File
	room *int
}

func (d fullDisk) Write(b []byte) (int, error) {
	if len(b) > *d.room {
		n, _ := d.f.Write(b[:*d.room])
		*d.room = 0
		return n, &os.PathError{Op: "write", Path: d.f.Name(), Err: syscall.ENOSPC}
	}
	*d.room -= len(b)
	return d.f.Write(b)
}
func (d fullDisk) Close() error { return d.f.Close() }

// A full disk stops the capture: the pipeline hears it once (and detaches
// the output), no half-written frame is left, nothing more is written.
func TestDiskFull(t *testing.T) {
	r := newRig(t, Options{MinGap: -1})
	room := 1000 // less than one JPEG
	r.c.create = func(path string) (file, error) {
		f, err := os.Create(path)
		return fullDisk{f, &room}, err
	}
	r.frame(1, localOnly, nil)
	r.result(1, "local", obj("car", 0.5, 10, 10, 40, 30))
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for seq := int64(2); err == nil && time.Now().Before(deadline); seq++ {
		time.Sleep(time.Millisecond)
		err = r.frame(seq, localOnly, nil)
	}
	if !errors.Is(err, syscall.ENOSPC) || strings.Count(err.Error(), "\n") > 0 {
		t.Fatalf("WriteFrame returned %v, want one line saying the disk is full", err)
	}
	if again := r.frame(100, localOnly, nil); again != nil {
		t.Errorf("the error was returned twice: %v", again)
	}
	if err := r.c.Close(); err != nil {
		t.Errorf("Close returned %v after the pipeline was told", err)
	}
	entries, _ := os.ReadDir(r.c.Dir())
	if len(entries) != 0 {
		t.Errorf("the folder holds %v after the failed write, want nothing", entries)
	}
	if st := r.c.Stats(); st.Saved != 0 || !errors.Is(st.Err, syscall.ENOSPC) {
		t.Errorf("stats %+v", st)
	}
}

// Frames whose results never come are let go: a failed analysis, a lost
// one (a later frame's result came first), a source that started again.
func TestPendingFramesAreLetGo(t *testing.T) {
	r := newRig(t, Options{MinGap: -1})
	r.frame(1, localOnly, nil)
	r.c.Publish(&event.AnalysisError{Frame: 1, Source: "local", Error: "crashed"})
	r.frame(2, localOnly, nil)
	r.frame(3, localOnly, nil)
	r.result(3, "local", obj("person", 0.95, 80, 20, 30, 80)) // 2's never came
	r.frame(4, both, nil)
	r.result(4, "local", obj("person", 0.95, 80, 20, 30, 80))
	r.frame(1, localOnly, nil) // the file started again: 4 waits for the cloud no more
	r.c.mu.Lock()
	left := len(r.c.pending)
	r.c.mu.Unlock()
	if left != 1 {
		t.Errorf("%d frames still kept, want only the newest", left)
	}
	if n := len(r.records()); n != 0 {
		t.Errorf("%d saved", n)
	}
}
