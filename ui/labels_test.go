package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/eval"
	"github.com/sightline/sightline/internal/review"
	"github.com/sightline/sightline/overlay"
)

// captureFolder writes captures of 320×240 frames, each with its
// predictions, as a capture saves them (threshold 0.5, band 0.1).
func captureFolder(t *testing.T, preds ...[]capture.Box) string {
	t.Helper()
	dir := t.TempDir()
	for i, p := range preds {
		name := fmt.Sprintf("cap-%d.jpg", i+1)
		img := image.NewRGBA(image.Rect(0, 0, 320, 240))
		for j := range img.Pix {
			img.Pix[j] = uint8(j*7 + i*40)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		jpeg.Encode(f, img, nil)
		f.Close()
		rec := capture.Record{Image: name, Frame: int64(i), Width: 320, Height: 240, Threshold: 0.5, Band: 0.1,
			Reasons: []string{capture.ReasonUncertain}, Predictions: p}
		b, _ := json.Marshal(rec)
		if err := os.WriteFile(capture.SidecarOf(filepath.Join(dir, name)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func cbox(name string, conf float64, x, y, w, h float64) capture.Box {
	return capture.Box{Name: name, Confidence: conf, BBox: [4]float64{x, y, w, h}}
}

// reviewWindow shows a review panel opened on dir in a test window.
func reviewWindow(t *testing.T, dir string) (*reviewPanel, fyne.Window) {
	t.Helper()
	newTestApp(t)
	win := test.NewWindow(nil)
	r := newReviewPanel(win, filepath.Join(dir, "dataset.json"), dir)
	win.SetContent(r.content)
	win.Resize(fyne.NewSize(1100, 760))
	if err := r.open(filepath.Join(dir, "dataset.json"), dir); err != nil {
		t.Fatal(err)
	}
	return r, win
}

// keys types on whatever has the keyboard, as a reviewer does: a name is
// a key, a string its runes.
func keys(t *testing.T, win fyne.Window, strokes ...any) {
	t.Helper()
	if err := typeKeys(win.Canvas(), strokes...); err != nil {
		t.Fatal(err)
	}
}

func typeKeys(c fyne.Canvas, strokes ...any) error {
	for _, s := range strokes {
		f := c.Focused()
		if f == nil {
			return fmt.Errorf("nothing has the keyboard before %v", s)
		}
		switch s := s.(type) {
		case fyne.KeyName:
			f.TypedKey(&fyne.KeyEvent{Name: s})
		case string:
			for _, r := range s {
				f.TypedRune(r)
			}
		}
	}
	return nil
}

// A review done with the keyboard (and one drag): boxes relabelled,
// deleted and drawn, frames accepted and rejected, each written at once;
// the dataset reads back as reviewed and a new session sees the same.
func TestReviewKeyboardFlow(t *testing.T) {
	dir := captureFolder(t,
		[]capture.Box{cbox("car", 0.55, 20, 30, 80, 50), cbox("person", 0.9, 200, 40, 40, 120)},
		[]capture.Box{cbox("person", 0.45, 100, 20, 50, 150)},
		[]capture.Box{cbox("car", 0.6, 150, 100, 100, 60)},
	)
	r, win := reviewWindow(t, dir)
	if r.cur != 0 || win.Canvas().Focused() != r.canvas {
		t.Fatalf("opened on frame %d with %v focused; want the first frame to review, the picture focused", r.cur, win.Canvas().Focused())
	}
	if got := r.classes; !slices.Equal(got, []string{"car", "person"}) {
		t.Fatalf("classes %v", got)
	}
	// Frame 1: the car is a person (2), the person is wrong (Delete),
	// and a car was missed: 1 for cars, then drag it.
	keys(t, win, fyne.KeyDown, "2", fyne.KeyDown, fyne.KeyDelete, fyne.KeyEscape, "1")
	// A drag ends where the pointer is, having moved by the delta.
	end := fyne.CurrentApp().Driver().AbsolutePositionForObject(r.canvas).Add(r.canvas.toWidget(300, 220))
	moved := r.canvas.toWidget(300, 220).Subtract(r.canvas.toWidget(240, 150))
	test.Drag(win.Canvas(), end, moved.X, moved.Y)
	if n := len(r.boxes()); n != 2 || r.sel != 1 {
		t.Fatalf("%d boxes, box %d selected after the drag; want 2, the new one", n, r.sel)
	}
	drawn := r.boxes()[1]
	keys(t, win, fyne.KeyReturn) // accept: on to frame 2
	if r.cur != 1 {
		t.Fatalf("after Enter on frame %d, want 2", r.cur+1)
	}
	keys(t, win, "r") // frame 2 is rejected: on to 3
	if r.cur != 2 {
		t.Fatalf("after R on frame %d, want 3", r.cur+1)
	}
	keys(t, win, fyne.KeyReturn) // frame 3 as proposed
	if u, a, rj := r.s.Counts(); u != 0 || a != 2 || rj != 1 {
		t.Errorf("counts %d to review, %d accepted, %d rejected", u, a, rj)
	}
	if !strings.Contains(r.info.Text, "Every frame is reviewed") {
		t.Errorf("info %q does not say the review is done", r.info.Text)
	}

	ds, err := dataset.Read(filepath.Join(dir, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := labelsOf(ds)
	want := map[string][]string{
		"cap-1.jpg": {"person [20 30 80 50]", "car " + bboxText(drawn.BBox)},
		"cap-3.jpg": {"car [150 100 100 60]"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dataset labels %v\nwant %v", got, want)
	}
	if math.Abs(drawn.BBox[0]-240) > 2 || math.Abs(drawn.BBox[1]-150) > 2 || math.Abs(drawn.BBox[2]-60) > 2 || math.Abs(drawn.BBox[3]-70) > 2 {
		t.Errorf("drawn box %v, want about [240 150 60 70]", drawn.BBox)
	}
	again, err := review.Open(filepath.Join(dir, "dataset.json"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if s := []review.Status{again.Item(0).Status, again.Item(1).Status, again.Item(2).Status}; !slices.Equal(s, []review.Status{review.Accepted, review.Rejected, review.Accepted}) {
		t.Errorf("statuses read back %v", s)
	}
	// Back (←) to frame 1: the boxes shown are the accepted ones.
	keys(t, win, fyne.KeyLeft, fyne.KeyLeft)
	if r.cur != 0 || len(r.canvas.boxes) != 2 || r.canvas.boxes[0].Name != "person" {
		t.Errorf("frame %d shows %+v", r.cur+1, r.canvas.boxes)
	}
}

func bboxText(b [4]float64) string { return fmt.Sprint(b) }

// labelsOf lists each image's boxes as "class [x y w h]".
func labelsOf(ds *dataset.Dataset) map[string][]string {
	names := map[int64]string{}
	for _, c := range ds.Categories {
		names[c.ID] = c.Name
	}
	files := map[int64]string{}
	for _, im := range ds.Images {
		files[im.ID] = im.FileName
	}
	out := map[string][]string{}
	for _, a := range ds.Annotations {
		out[files[a.ImageID]] = append(out[files[a.ImageID]], names[a.CategoryID]+" "+bboxText(a.BBox))
	}
	return out
}

// liveFilter stands for the live view's filter.
type liveFilter struct{ f overlay.Filter }

func (l *liveFilter) Filter() overlay.Filter                 { return l.f }
func (l *liveFilter) SetFilter(change func(*overlay.Filter)) { change(&l.f) }

// evalCase is four frames labelled with cars, and what a detector finds
// on them: a hit at 0.9, a false positive at 0.7 (where a car is missed),
// a hit at 0.6, a false positive at 0.3 on an empty frame.
func evalCase(t *testing.T) (*reviewPanel, fyne.Window, eval.Detector) {
	dir := captureFolder(t, nil, nil, nil, nil)
	r, win := reviewWindow(t, dir)
	labels := [][]review.Box{
		{{Name: "car", BBox: [4]float64{10, 10, 100, 80}}},
		{{Name: "car", BBox: [4]float64{50, 50, 120, 90}}},
		{{Name: "car", BBox: [4]float64{200, 100, 100, 100}}},
		{},
	}
	for i, l := range labels {
		if err := r.s.Accept(i, l); err != nil {
			t.Fatal(err)
		}
	}
	found := map[string][]eval.Box{
		"cap-1.jpg": {{Name: "car", Score: 0.9, BBox: [4]float64{12, 10, 100, 80}}},
		"cap-2.jpg": {{Name: "car", Score: 0.6, BBox: [4]float64{50, 52, 118, 90}}},
		"cap-3.jpg": {{Name: "car", Score: 0.7, BBox: [4]float64{0, 150, 60, 60}}},
		"cap-4.jpg": {{Name: "car", Score: 0.3, BBox: [4]float64{100, 100, 50, 50}}},
	}
	detect := func(_ context.Context, im dataset.Image, _ []byte) ([]eval.Box, error) {
		return found[im.FileName], nil
	}
	return r, win, detect
}

// The Eval panel on a case worked out by hand: the curves plotted are the
// class's, the live threshold and the F1-best are marked where they fall,
// the mistakes at the live threshold open their frame in Review, and the
// buttons set the live thresholds.
func TestEvalPanelPlotsAndThresholds(t *testing.T) {
	r, _, detect := evalCase(t)
	live := &liveFilter{f: overlay.Filter{Threshold: 0.5}}
	e := newEvalPanel(context.Background(), live, r)
	e.detector = func(string) (eval.Detector, func(), error) { return detect, func() {}, nil }
	reviewShown := false
	e.showReview = func() { reviewShown = true }
	e.run()
	waitFor(t, "the evaluation", func() bool {
		var busy bool
		onUIWait(func() { busy = e.busy })
		return !busy
	})
	if e.res == nil {
		t.Fatalf("no result: %s", e.summary.Text)
	}
	// Thresholds 0.9 ✓, 0.7 ✗, 0.6 ✓, 0.3 ✗ against 3 cars.
	wantCurve := eval.Curve{Threshold: []float64{0.9, 0.7, 0.6, 0.3}, Precision: []float64{1, 0.5, 2.0 / 3, 0.5},
		Recall: []float64{1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3}}
	pr := e.pr.series[0]
	if !nearAll(pr.x, wantCurve.Recall) || !nearAll(pr.y, wantCurve.Precision) {
		t.Errorf("PR plot x %v y %v, want %v %v", pr.x, pr.y, wantCurve.Recall, wantCurve.Precision)
	}
	f1 := e.f1.series[2]
	if !nearAll(f1.x, wantCurve.Threshold) || !nearAll(f1.y, []float64{0.5, 0.4, 2.0 / 3, 4.0 / 7}) {
		t.Errorf("F1 plot x %v y %v", f1.x, f1.y)
	}
	// Live 0.5 keeps 0.9, 0.7 and 0.6: precision and recall 2/3. F1-best is 0.6.
	marks := e.pr.marks
	if len(marks) != 2 || !nearAll([]float64{marks[0].x, marks[0].y, marks[1].x, marks[1].y}, []float64{2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3}) ||
		marks[0].label != "live 0.50" || marks[1].label != "F1-best 0.60" {
		t.Errorf("PR marks %+v", marks)
	}
	if m := e.f1.marks; len(m) != 2 || m[0].x != 0.5 || !m[0].line || m[1].x != 0.6 {
		t.Errorf("F1 marks %+v", m)
	}
	var lines []string
	for _, m := range e.mistakeItems {
		lines = append(lines, m.text)
	}
	if want := []string{"False positive  0.70  cap-3.jpg", "Missed  cap-3.jpg"}; !slices.Equal(lines, want) {
		t.Errorf("mistakes %q, want %q", lines, want)
	}
	e.mistakes.Select(1)
	if !reviewShown || r.cur != 2 || r.marked == nil || *r.marked != [4]float64{200, 100, 100, 100} || !strings.Contains(r.info.Text, "missed") {
		t.Errorf("the miss opened frame %d marked %v (review shown %v), info %q", r.cur+1, r.marked, reviewShown, r.info.Text)
	}

	e.best.OnTapped()
	if got := live.f.ThresholdFor("car"); got != 0.6 {
		t.Errorf("F1-best set the car's threshold to %v, want 0.6", got)
	}
	e.target.SetText("0.9")
	e.forPrec.OnTapped()
	if got := live.f.ThresholdFor("car"); got != 0.9 {
		t.Errorf("precision ≥ 0.9 set the car's threshold to %v, want 0.9", got)
	}
	if lines := e.mistakeItems; len(lines) != 2 || e.f1.marks[0].x != 0.9 {
		t.Errorf("at 0.9 the marks are %+v and the mistakes %+v (want the two misses)", e.f1.marks, lines)
	}
	e.target.SetText("nine")
	e.forPrec.OnTapped()
	if !strings.Contains(e.note.Text, "not a precision") || live.f.ThresholdFor("car") != 0.9 {
		t.Errorf("a bad target: %q, threshold %v", e.note.Text, live.f.ThresholdFor("car"))
	}
}

func nearAll(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// s1Export is a Custom Vision S1 detector export that finds one box of
// class name, wrapped as the training stand-in's export.
func s1Export(t *testing.T, name string) []byte {
	m := onnxtest.S1Detector([]float32{0.1, 0.2, 0.5, 0.6}, []int64{0}, []float32{0.93})
	return azuretest.ExportArchive(t, onnxtest.Export(t, m, name))
}

// Training from the reviewed dataset: progress to the end, the export
// loaded in the Custom Vision panel, and a second training into the same
// folder swapped in under the same predictor, without a restart.
func TestTrainPanelExportsAndHotSwaps(t *testing.T) {
	r, _, _ := evalCase(t)
	first := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{Polls: 1, ExportZip: s1Export(t, "car")}))
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 80, 120, 0), 240, 320, gocv.MatTypeCV8UC3)
	defer frame.Close()
	env := map[string]string{keyTraining: first.Key}
	keys := newKeyStore(failingRing{}, func(k string) string { return env[k] })
	cv := newCVPanel(context.Background(), test.NewWindow(nil), fixedFrame{frame}, keys, settings{})
	defer cv.close()
	tp := newTrainPanel(context.Background(), keys, fyne.CurrentApp().Preferences(), r, cv)
	tp.endpoint.SetText(first.URL)
	tp.project.SetText("line 1")
	exportDir := filepath.Join(t.TempDir(), "line-1")
	tp.exportDir.SetText(exportDir)
	predict := func() string {
		tp.train()
		waitFor(t, "the training", func() bool {
			var busy bool
			onUIWait(func() { busy = tp.busy })
			return !busy
		})
		if !strings.Contains(tp.result.Text, "swapped in without a restart") {
			t.Fatalf("training: %s", tp.result.Text)
		}
		p, err := cv.model()
		if err != nil {
			t.Fatal(err)
		}
		preds, err := p.Predict(context.Background(), analyzer.Image{Mat: frame}, true)
		if err != nil || len(preds) == 0 {
			t.Fatalf("predicting with the export: %v %v", preds, err)
		}
		return preds[0].Tag
	}
	if tag := predict(); tag != "car" || cv.dir.Text != exportDir || !cv.detect.Checked {
		t.Errorf("after the first training the panel runs %q from %q (detect %v)", tag, cv.dir.Text, cv.detect.Checked)
	}
	if want := []string{"Project", "Tags", "Uploading", "Training", "Exporting", "Downloading"}; !slices.Equal(tp.done, want) ||
		!strings.Contains(tp.result.Text, "3 images uploaded, 0 already there, 0 failed, 1 without boxes") {
		t.Errorf("steps %v, want %v; result %q", tp.done, want, tp.result.Text)
	}
	swappable := cv.predictor
	second := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{Polls: 1, ExportZip: s1Export(t, "truck")}))
	tp.endpoint.SetText(second.URL)
	if tag := predict(); tag != "truck" || cv.predictor != swappable {
		t.Errorf("after the second training the panel runs %q (same predictor: %v)", tag, cv.predictor == swappable)
	}
	if tp.key.Text != "" || strings.Contains(tp.result.Text, first.Key) {
		t.Error("the key shows")
	}
}
