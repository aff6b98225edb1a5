package inspect

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

func TestJudge(t *testing.T) {
	pass := []string{"cap_ok", "Hemlock"}
	p := func(tag string, prob float64) analyzer.Prediction {
		return analyzer.Prediction{Tag: tag, Probability: prob}
	}
	tests := []struct {
		name     string
		detector bool
		preds    []analyzer.Prediction
		want     Verdict
	}{
		{"top is a pass tag", false, []analyzer.Prediction{p("cap_ok", 0.93), p("no_cap", 0.07)}, Verdict{State: "pass", Tag: "cap_ok", Probability: 0.93}},
		{"pass tags match in any case", false, []analyzer.Prediction{p("hemlock", 0.8)}, Verdict{State: "pass", Tag: "hemlock", Probability: 0.8}},
		{"top is another tag", false, []analyzer.Prediction{p("no_cap", 0.9), p("cap_ok", 0.1)}, Verdict{State: "fail", Tag: "no_cap", Probability: 0.9}},
		{"under the threshold", false, []analyzer.Prediction{p("cap_ok", 0.69), p("no_cap", 0.31)}, Verdict{State: "review", Tag: "cap_ok", Probability: 0.69}},
		{"at the threshold is not under it", false, []analyzer.Prediction{p("cap_ok", 0.7)}, Verdict{State: "pass", Tag: "cap_ok", Probability: 0.7}},
		{"unsorted predictions", false, []analyzer.Prediction{p("cap_ok", 0.2), p("no_cap", 0.8)}, Verdict{State: "fail", Tag: "no_cap", Probability: 0.8}},
		{"detector: a confident pass object", true, []analyzer.Prediction{p("cap_ok", 0.9), p("no_cap", 0.4)}, Verdict{State: "pass", Tag: "cap_ok", Probability: 0.9}},
		{"detector: a confident other object fails", true, []analyzer.Prediction{p("cap_ok", 0.95), p("no_cap", 0.75)}, Verdict{State: "fail", Tag: "no_cap", Probability: 0.75}},
		{"detector: only unsure candidates", true, []analyzer.Prediction{p("cap_ok", 0.5), p("no_cap", 0.2)}, Verdict{State: "review", Tag: "cap_ok", Probability: 0.5}},
		{"detector: nothing near", true, []analyzer.Prediction{p("cap_ok", 0.2)}, Verdict{State: "fail", Probability: 0.2}},
		{"detector: nothing at all", true, nil, Verdict{State: "fail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := judge(tt.preds, tt.detector, pass, 0.7)
			if err != nil || got != tt.want {
				t.Errorf("judge = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := judge(nil, false, pass, 0.7); !errors.Is(err, errNoPredictions) {
		t.Errorf("a classifier without predictions: %v", err)
	}
}

// A Custom Vision detector export counts objects: a confident pass tag
// passes the region.
func TestLocalDetectorPoint(t *testing.T) {
	dir := onnxtest.Export(t, onnxtest.S1Detector([]float32{0.1, 0.1, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9}, []int64{0, 1}, []float32{0.92, 0.3}), "cap", "dent")
	pt := scene.Inspection{Name: "cap", Rect: insetRegion, Model: scene.InspectionModel{Dir: dir}, Pass: []string{"cap"}}
	in := newInspector(t, []scene.Inspection{pt}, Options{})
	got := verdicts(in.Inspect(context.Background(), frameAt(0, grey(t)), nil))
	if len(got) != 1 || got[0].State != "pass" || got[0].Tag != "cap" || got[0].Probability < 0.91 {
		t.Fatalf("verdicts %+v, want a pass on the confident cap", got)
	}
}

// New fails clearly, naming the point, on a model that does not load, a
// cloud point without a cloud, an invalid point and a log it cannot open.
func TestNewErrors(t *testing.T) {
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "model.onnx"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "labels.txt"), []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileNotDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(fileNotDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	good := hemlockPoint(t, "cap", "")
	withModel := func(m scene.InspectionModel) []scene.Inspection {
		p := good
		p.Model = m
		return []scene.Inspection{p}
	}
	tests := []struct {
		name   string
		points []scene.Inspection
		opts   Options
		want   []string
	}{
		{"missing folder", withModel(scene.InspectionModel{Dir: "/no/such/export"}), Options{}, []string{`inspection "cap"`, "/no/such/export"}},
		{"broken model", withModel(scene.InspectionModel{Dir: broken}), Options{}, []string{`inspection "cap"`, broken, "does not load"}},
		{"cloud without a cloud", []scene.Inspection{cloudPoint("seal", "")}, Options{}, []string{`inspection "seal"`, "no Custom Vision prediction resource"}},
		{"invalid point", []scene.Inspection{{Name: "x", Rect: []float64{0, 0, 2, 1}, Model: good.Model, Pass: []string{"a"}}}, Options{}, []string{"outside the frame"}},
		{"log folder is a file", []scene.Inspection{good}, Options{LogDir: fileNotDir}, []string{"inspection log", fileNotDir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := New(tt.points, tt.opts)
			if err == nil {
				in.Close()
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// A region too small on the frame, or a frame without pixels, gives no
// verdict: the region's problem is said once, and inspection goes on.
func TestCropNotOnFrame(t *testing.T) {
	tiny := hemlockPoint(t, "tiny", "")
	tiny.Rect = []float64{0.99, 0.99, 0.01, 0.01} // 7×5 pixels of 640×480
	in := newInspector(t, []scene.Inspection{tiny, hemlockPoint(t, "leaf", "")}, Options{})
	m := grey(t)
	var events []event.Event
	for k := range 3 {
		events = in.Inspect(context.Background(), frameAt(k, m), events)
	}
	events = in.Inspect(context.Background(), Frame{T: time.Second}, events) // no Mat
	var errs []string
	for _, e := range events {
		if ae, ok := e.(*event.AnalysisError); ok {
			errs = append(errs, ae.Error)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "inspection tiny: the region is 7×5 pixels of the 640×480 frame") {
		t.Errorf("errors %q, want one saying the region is too small", errs)
	}
	if v := verdicts(events); len(v) != 1 || v[0].Point != "leaf" {
		t.Errorf("verdicts %+v, want leaf's only", v)
	}
	var v View
	in.View(&v)
	if v.Points[0].Verdict.State != "" || !v.Points[0].Stale || v.Points[0].Err == "" {
		t.Errorf("tiny's view %+v", v.Points[0])
	}
}

// A disk that fails (inspections.csv on /dev/full: no space left) stops
// the log, said once; inspection and counting go on, and Close returns the
// error.
func TestLogDiskFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/dev/full", filepath.Join(dir, LogCSV)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var told []error
	in := newInspector(t, []scene.Inspection{hemlockPoint(t, "leaf", scene.ModePerTrack)}, Options{LogDir: dir,
		OnLogError: func(err error) { mu.Lock(); told = append(told, err); mu.Unlock() }})
	m := grey(t)
	var events []event.Event
	for k := range 40 { // a new part settles every 10 frames
		events = in.Inspect(context.Background(), frameAt(k, m, TrackPos{ID: 1 + k/10, Box: insetRect}), events)
	}
	if got := verdicts(events); len(got) != 4 {
		t.Fatalf("%d verdicts, want 4: inspection goes on", len(got))
	}
	err := in.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close: %v, want the disk's error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 || !errors.Is(told[0], syscall.ENOSPC) || !strings.Contains(told[0].Error(), "inspection log") {
		t.Errorf("told %v, want one inspection log error", told)
	}
}

func TestTallyWindow(t *testing.T) {
	var tl tally
	at := func(m, s int) time.Duration { return time.Duration(m)*time.Minute + time.Duration(s)*time.Second }
	for _, v := range []struct {
		state string
		t     time.Duration
	}{
		{"pass", at(0, 10)}, {"fail", at(0, 50)}, // minute 0: falls out of the window by minute 10
		{"pass", at(8, 0)}, {"pass", at(8, 30)}, {"review", at(9, 0)}, {"fail", at(10, 5)}, {"pass", at(10, 40)},
	} {
		tl.add(v.state, v.t)
	}
	var v PointView
	tl.window(at(10, 59), &v)
	if tl.total != (event.InspectionCount{Pass: 4, Fail: 2, Review: 1}) {
		t.Errorf("total %+v", tl.total)
	}
	if v.Minutes[0] != (event.InspectionCount{Pass: 1, Fail: 1}) || v.Minutes[1] != (event.InspectionCount{Review: 1}) ||
		v.Minutes[2] != (event.InspectionCount{Pass: 2}) || v.Minutes[RateMinutes-1] != (event.InspectionCount{}) {
		t.Errorf("minutes %+v", v.Minutes)
	}
	// Minutes 1–10: 5 verdicts over 10 minutes; 3 passes of 4 judged.
	if v.PerMinute != 0.5 || !v.HasYield || v.Yield != 75 {
		t.Errorf("rate %v a minute, yield %v (%v), want 0.5 and 75", v.PerMinute, v.Yield, v.HasYield)
	}
	var early tally
	early.add("review", at(0, 10))
	early.window(at(0, 20), &v)
	if v.PerMinute != 1 || v.HasYield {
		t.Errorf("after one review in 10 s: rate %v, yield known %v; want 1 a minute (a minute at least) and none", v.PerMinute, v.HasYield)
	}
}

func TestMarkAlarms(t *testing.T) {
	v := View{Points: []PointView{{Name: "cap"}, {Name: "seal", Alarm: true}}}
	rules := []scene.Rule{{Name: "caps failing", Point: "cap"}, {Name: "bay full", Zone: "bay"}}
	v.MarkAlarms([]scene.AlertView{{Rule: "caps failing"}, {Rule: "bay full"}}, rules)
	if !v.Points[0].Alarm || v.Points[1].Alarm {
		t.Errorf("alarms %v %v, want cap only", v.Points[0].Alarm, v.Points[1].Alarm)
	}
}

// View reuses its slices: drawing a frame allocates nothing.
func TestViewAllocatesNothing(t *testing.T) {
	in := newInspector(t, []scene.Inspection{hemlockPoint(t, "leaf", "")}, Options{})
	in.Inspect(context.Background(), frameAt(0, grey(t)), nil)
	var v View
	in.View(&v)
	if n := testing.AllocsPerRun(20, func() { in.View(&v) }); n != 0 {
		t.Errorf("View allocates %v times", n)
	}
}

// Tracks come in the analysed frame's pixels (Width×Height), which may not
// be the Mat's: a per_track point places them by fraction.
func TestTracksInAnalysedPixels(t *testing.T) {
	in := newInspector(t, []scene.Inspection{hemlockPoint(t, "leaf", scene.ModePerTrack)}, Options{})
	m := grey(t) // 640×480; the analysis saw 1280×960, where (600, 480) is in the region
	sv := scene.View{Tracks: []scene.TrackView{{ID: 3, Name: "bottle", Box: image.Rect(560, 440, 640, 520)}}}
	var events []event.Event
	for k := range 4 {
		f := frameAt(k, m, TracksOf(&sv, nil)...)
		f.Width, f.Height = 1280, 960
		events = in.Inspect(context.Background(), f, events)
	}
	if v := verdicts(events); len(v) != 1 || v[0].TrackID == nil || *v[0].TrackID != 3 || v[0].Frame != 2 {
		t.Fatalf("verdicts %+v, want track 3's on frame 2", v)
	}
}
