package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/overlay"
)

// Environment of the labels scenario: the folder to review, where to
// capture, where the screenshots go.
const (
	labelsDirEnv   = "SIGHTLINE_TEST_LABELS_DIR"
	captureDirEnv  = "SIGHTLINE_TEST_CAPTURE_DIR"
	labelsShotsEnv = "SIGHTLINE_TEST_SHOTS_DIR"
)

// The four sample photos that come as captures, with what the model
// proposed on them: a spurious box to delete, a fork missed (drawn), a
// pair of scissors named fork (relabelled), and one to reject.
var labelsCaptures = []labelsCapture{
	{"fork/fork_1.jpg", func(gt [4]float64) []capture.Box {
		return []capture.Box{{Name: "fork", Confidence: 0.55, BBox: gt}, {Name: "scissors", Confidence: 0.52, BBox: [4]float64{620, 40, 150, 200}}}
	}},
	{"fork/fork_2.jpg", func([4]float64) []capture.Box { return []capture.Box{} }},
	{"scissors/scissors_1.jpg", func(gt [4]float64) []capture.Box { return []capture.Box{{Name: "fork", Confidence: 0.48, BBox: gt}} }},
	{"scissors/scissors_2.jpg", func(gt [4]float64) []capture.Box {
		return []capture.Box{{Name: "scissors", Confidence: 0.62, BBox: gt}}
	}},
}

type labelsCapture struct {
	file  string
	preds func(gt [4]float64) []capture.Box
}

// captureName is the name a sample photo has as a capture.
func captureName(file string) string { return "cap-" + filepath.Base(file) }

// labelsWorkspace is a review folder: the 40 labelled sample photos, 36
// in its dataset and 4 as captures with their proposals; it returns the
// ground truth of the captures.
func labelsWorkspace(t *testing.T, samplesDir string) (dir string, gt map[string][4]float64) {
	t.Helper()
	ds, err := dataset.Read("../internal/dataset/testdata/samples.coco.json")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	gt = map[string][4]float64{}
	byImage := ds.AnnotationsByImage()
	var kept dataset.Dataset
	kept.Categories = ds.Categories
	for _, im := range ds.Images {
		i := slices.IndexFunc(labelsCaptures, func(c labelsCapture) bool { return c.file == im.FileName })
		if i < 0 {
			copyFile(t, filepath.Join(samplesDir, im.FileName), filepath.Join(dir, im.FileName))
			id := kept.AddImage(im.FileName, im.Width, im.Height)
			for _, a := range byImage[im.ID] {
				kept.AddBox(id, ds.Categories[a.CategoryID-1].Name, a.BBox)
			}
			continue
		}
		name := captureName(im.FileName)
		box := byImage[im.ID][0].BBox
		gt[name] = box
		copyFile(t, filepath.Join(samplesDir, im.FileName), filepath.Join(dir, name))
		rec := capture.Record{Image: name, Width: im.Width, Height: im.Height, Threshold: 0.5, Band: 0.1,
			Reasons: []string{capture.ReasonUncertain}, Predictions: labelsCaptures[i].preds(box), CapturedAt: time.Now().UTC()}
		b, _ := json.Marshal(rec)
		if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(name, ".jpg")+capture.SidecarExt), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := kept.WriteFile(filepath.Join(dir, "dataset.json")); err != nil {
		t.Fatal(err)
	}
	return dir, gt
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

// labelsReport is what the scenario saw, step by step.
type labelsReport struct {
	Captured      int            `json:"captured"`
	CaptureReason map[string]int `json:"capture_reasons"`
	Accepted      int            `json:"accepted"`
	Rejected      int            `json:"rejected"`
	ToReview      int            `json:"to_review"`
	DatasetImages int            `json:"dataset_images"`
	Drawn         [4]float64     `json:"drawn"`
	MAP50         float64        `json:"map50"`
	MAP5095       float64        `json:"map50_95"`
	Best          map[string]float64
	PR            map[string][3]float64 // class → precision, recall, F1 at its F1-best
	Live          map[string]float64    // the live thresholds after "use F1-best"
	Mistakes      int
	MistakeOpened string
	TrainResult   string
	CVDir         string
	CVTag         string
}

// The real app's labelling loop under X: a frame marked and captured from
// the live view; four captures reviewed with the keyboard into the dataset
// of the 36 other sample photos; YOLOX evaluated on it, its F1-best
// thresholds taken into the live view, a mistake opened in Review; a
// Custom Vision model trained, published and exported on the local
// training service and swapped in as the Custom Vision tab's model, which
// then predicts on the live frame. Screenshots of the review screen and of
// the precision–recall plot are kept.
func TestAppLabelsLoop(t *testing.T) {
	display := xDisplay(t)
	export := onnxtest.Export(t, onnxtest.S1Detector([]float32{0.1, 0.2, 0.5, 0.7}, []int64{0}, []float32{0.91}), "fork", "scissors")
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{Polls: 1, ExportZip: azuretest.ExportArchive(t, export)}))
	dir, gt := labelsWorkspace(t, filepath.Join(srv.Data.Dir, "customvision-training", "samples", "object-detection"))
	shots := os.Getenv("SIGHTLINE_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	shots, _ = filepath.Abs(shots)
	capDir := t.TempDir()
	logPath, exited := startApp(t, display, "labels",
		labelsDirEnv+"="+dir, captureDirEnv+"="+capDir, labelsShotsEnv+"="+shots,
		"CUSTOM_VISION_TRAINING_ENDPOINT="+srv.URL, "CUSTOM_VISION_TRAINING_KEY="+srv.Key,
		"CUSTOM_VISION_PREDICTION_RESOURCE_ID="+azuretest.PredictionResourceID)
	var rep labelsReport
	pollApp(t, exited, logPath, 240*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(logPath)
		if i := strings.Index(string(b), "SCENARIO labels-failed"); i >= 0 {
			t.Fatalf("the scenario failed: %s\napp log:\n%s", strings.SplitN(string(b[i:]), "\n", 2)[0], b)
		}
		line := scenarioLine(b, "labels-done")
		if line == "" {
			return false, "the labels scenario did not finish"
		}
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			t.Fatalf("report %s: %v", line, err)
		}
		return true, ""
	})
	t.Logf("report: %+v", rep)

	if rep.Captured < 1 || rep.CaptureReason[capture.ReasonMarked] != 1 {
		t.Errorf("captured %d frames (%v), want the marked one among them", rep.Captured, rep.CaptureReason)
	}
	if rep.Accepted != 39 || rep.Rejected != 1 || rep.ToReview != 0 || rep.DatasetImages != 39 {
		t.Errorf("review: %d accepted, %d rejected, %d left, %d in the dataset; want 39, 1, 0, 39", rep.Accepted, rep.Rejected, rep.ToReview, rep.DatasetImages)
	}
	ds, err := dataset.Read(filepath.Join(dir, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	labels := labelsOf(ds)
	want := map[string][]string{
		"cap-fork_1.jpg":     {"fork " + bboxText(gt["cap-fork_1.jpg"])},
		"cap-fork_2.jpg":     {"fork " + bboxText(rep.Drawn)},
		"cap-scissors_1.jpg": {"scissors " + bboxText(gt["cap-scissors_1.jpg"])},
	}
	for file, w := range want {
		if !slices.Equal(labels[file], w) {
			t.Errorf("%s labelled %v, want %v", file, labels[file], w)
		}
	}
	if _, ok := labels["cap-scissors_2.jpg"]; ok {
		t.Error("the rejected capture is in the dataset")
	}
	if d := rep.Drawn; overlapOf(d, gt["cap-fork_2.jpg"]) < 0.95 {
		t.Errorf("the fork drawn %v is not the one on the photo %v", d, gt["cap-fork_2.jpg"])
	}
	for _, class := range []string{"fork", "scissors"} {
		if rep.Best[class] <= 0 || rep.Live[class] != max(rep.Best[class], analysisThreshold) {
			t.Errorf("%s: F1-best %v, live threshold %v after using it", class, rep.Best[class], rep.Live[class])
		}
	}
	if rep.MAP50 <= 0 || rep.MistakeOpened == "" {
		t.Errorf("eval: mAP@0.5 %v, mistake opened %q", rep.MAP50, rep.MistakeOpened)
	}
	if !strings.Contains(rep.TrainResult, "swapped in without a restart") || rep.CVTag != "fork" ||
		rep.CVDir != filepath.Join(dir, "models", "kitchen") {
		t.Errorf("training: %q; the Custom Vision tab runs %q and found %q", rep.TrainResult, rep.CVDir, rep.CVTag)
	}
	if _, err := os.Stat(filepath.Join(dir, "models", "kitchen", "model.onnx")); err != nil {
		t.Errorf("no export: %v", err)
	}
	// The screenshots show what they should: the review screen the
	// classes' colours in its boxes, the plot its curve and marks.
	for _, s := range []struct {
		name   string
		colour color.RGBA
		least  int
	}{
		{"screenshot-review.png", overlay.ClassColor("fork"), 1500},
		{"screenshot-eval.png", rgba(curveF1), 300},
		{"screenshot-eval.png", rgba(markNow), 40},
		{"screenshot-eval.png", rgba(markBest), 40},
	} {
		img := readPNG(t, filepath.Join(shots, s.name))
		if n := countColour(img, s.colour); n < s.least {
			t.Errorf("%s: %d pixels of %v, want at least %d", s.name, n, s.colour, s.least)
		}
	}
	t.Logf("screenshots in %s", shots)
}

// scenarioLine is the JSON after "SCENARIO name " in the app's log.
func scenarioLine(log []byte, name string) string {
	sc := bufio.NewScanner(strings.NewReader(string(log)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "SCENARIO "+name+" "); ok {
			return rest
		}
	}
	return ""
}

func overlapOf(a, b [4]float64) float64 {
	w := min(a[0]+a[2], b[0]+b[2]) - max(a[0], b[0])
	h := min(a[1]+a[3], b[1]+b[3]) - max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h / (a[2]*a[3] + b[2]*b[3] - w*h)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func rgba(c color.NRGBA) color.RGBA { return color.RGBA{c.R, c.G, c.B, 255} }

func init() { scenarios["labels"] = labelsScenario }

// labelsScenario drives the app through the loop, as a reviewer would,
// and prints what it saw (SCENARIO labels-done {…}).
func labelsScenario(w *mainWindow) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Printf("SCENARIO labels-failed panic: %v\n", r)
		}
	}()
	if err := runLabelsScenario(w); err != nil {
		fmt.Println("SCENARIO labels-failed", err)
	}
}

func runLabelsScenario(w *mainWindow) error {
	w.waitFirstFrame()
	var rep labelsReport
	l := w.labels
	do := onUIWait
	// Capture from the live view, with a frame marked.
	do(func() {
		w.tabs.SelectIndex(slices.IndexFunc(w.tabs.Items, func(t *container.TabItem) bool { return t.Content == l.content }))
		l.captureDir.SetText(os.Getenv(captureDirEnv))
		l.captureOn.SetChecked(true)
	})
	time.Sleep(time.Second)
	do(func() { w.typedRune('m') })
	if !waitUntil(20*time.Second, func() bool { return captureCount(l) > 0 && markedCount(l) > 0 }) {
		return fmt.Errorf("no marked frame captured: %s", l.captureState.Text)
	}
	var st capture.Stats
	do(func() {
		st = l.capture.Stats()
		l.captureOn.SetChecked(false)
	})
	rep.Captured, rep.CaptureReason = st.Saved, st.ByReason

	if err := reviewWithKeys(w, &rep); err != nil {
		return err
	}
	if err := evaluate(w, &rep); err != nil {
		return err
	}
	if err := trainAndSwap(w, &rep); err != nil {
		return err
	}
	b, _ := json.Marshal(rep)
	fmt.Printf("SCENARIO labels-done %s\n", b)
	return nil
}

func captureCount(l *labelsPanel) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.capture == nil {
		return 0
	}
	return l.capture.Stats().Saved
}

func markedCount(l *labelsPanel) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.capture == nil {
		return 0
	}
	return l.capture.Stats().ByReason[capture.ReasonMarked]
}

func waitUntil(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var ok bool
		onUIWait(func() { ok = cond() })
		if ok {
			return true
		}
	}
	return false
}

// press types on what has the keyboard, as the panel test does.
func press(w *mainWindow, strokes ...any) error {
	var err error
	onUIWait(func() { err = typeKeys(w.win.Canvas(), strokes...) })
	time.Sleep(150 * time.Millisecond) // a frame to paint, for the eye
	return err
}

// reviewWithKeys reviews the four captures of the workspace.
func reviewWithKeys(w *mainWindow, rep *labelsReport) error {
	l, dir := w.labels, os.Getenv(labelsDirEnv)
	var err error
	onUIWait(func() {
		l.tabs.SelectIndex(0)
		l.review.datasetPath.SetText(filepath.Join(dir, "dataset.json"))
		l.review.imagesDir.SetText(dir)
		l.review.openEntered()
		if l.review.item() == nil || l.review.item().File != "cap-fork_1.jpg" {
			err = fmt.Errorf("the review opened on %+v, want cap-fork_1.jpg", l.review.item())
		}
	})
	if err != nil {
		return err
	}
	// fork_1: the fork is right, the scissors spurious.
	if err := press(w, fyne.KeyDown); err != nil {
		return err
	}
	time.Sleep(time.Second)
	if err := importScreen("", filepath.Join(os.Getenv(labelsShotsEnv), "screenshot-review.png"), "1280x800+0+0"); err != nil {
		return err
	}
	if err := press(w, fyne.KeyDown, fyne.KeyDelete, fyne.KeyReturn); err != nil {
		return err
	}
	// fork_2: the model missed the fork: 1 (fork), then draw it.
	if err := press(w, "1"); err != nil {
		return err
	}
	onUIWait(func() {
		c := l.review.canvas
		from, to := c.toWidget(240, 132.77), c.toWidget(240+436, 132.77+366)
		c.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: to}, Dragged: fyne.Delta{DX: to.X - from.X, DY: to.Y - from.Y}})
		c.DragEnd()
		if n := len(l.review.boxes()); n == 1 {
			rep.Drawn = l.review.boxes()[0].BBox
		}
	})
	// scissors_1: named fork: 2 (scissors). scissors_2: rejected.
	if err := press(w, fyne.KeyReturn, fyne.KeyDown, "2", fyne.KeyReturn, "r"); err != nil {
		return err
	}
	onUIWait(func() {
		u, a, r := l.review.s.Counts()
		rep.ToReview, rep.Accepted, rep.Rejected = u, a, r
		if ds, _ := l.review.s.Dataset(); ds != nil {
			rep.DatasetImages = len(ds.Images)
		}
	})
	return nil
}

// evaluate scores YOLOX on the dataset, shows the fork's plots, takes the
// F1-best thresholds and opens a mistake.
func evaluate(w *mainWindow, rep *labelsReport) error {
	l := w.labels
	onUIWait(func() {
		l.tabs.SelectIndex(1)
		l.eval.model.SetSelected(evalYOLOX)
		l.eval.run()
	})
	if !waitUntil(120*time.Second, func() bool { return !l.eval.busy }) {
		return fmt.Errorf("the evaluation did not finish")
	}
	var err error
	onUIWait(func() {
		e := l.eval
		if e.res == nil {
			err = fmt.Errorf("no evaluation: %s", e.summary.Text)
			return
		}
		rep.MAP50, rep.MAP5095 = e.res.MAP50, e.res.MAP5095
		rep.Best, rep.PR = map[string]float64{}, map[string][3]float64{}
		for name, c := range e.res.Classes {
			rep.Best[name] = c.BestThreshold
			rep.PR[name] = [3]float64{c.Precision, c.Recall, c.F1}
		}
		// Scissors: YOLOX finds them confidently; its forks score under 0.05.
		e.classSel.SetSelected("scissors")
	})
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	if err := importScreen("", filepath.Join(os.Getenv(labelsShotsEnv), "screenshot-eval.png"), "1280x800+0+0"); err != nil {
		return err
	}
	onUIWait(func() {
		e := l.eval
		e.best.OnTapped()
		rep.Live = map[string]float64{}
		for name := range e.res.Classes {
			rep.Live[name] = w.p.Filter().ThresholdFor(name)
		}
		rep.Mistakes = len(e.mistakeItems)
		if len(l.eval.mistakeItems) > 0 {
			l.eval.mistakes.Select(0)
			if it := l.review.item(); it != nil && l.review.marked != nil {
				rep.MistakeOpened = it.File
			}
		}
	})
	return nil
}

// trainAndSwap trains on the dataset, then predicts on the live frame with
// the model swapped in.
func trainAndSwap(w *mainWindow, rep *labelsReport) error {
	l := w.labels
	onUIWait(func() {
		l.tabs.SelectIndex(2)
		l.train.project.SetText("kitchen")
		l.train.publish.SetText("detectModel")
		l.train.train()
	})
	if !waitUntil(120*time.Second, func() bool { return !l.train.busy }) {
		return fmt.Errorf("the training did not finish")
	}
	onUIWait(func() {
		rep.TrainResult = l.train.result.Text
		rep.CVDir = w.cv.dir.Text
		w.tabs.SelectIndex(2)
		w.cv.predict()
	})
	if !waitUntil(30*time.Second, func() bool { return !w.cv.busy }) {
		return fmt.Errorf("the prediction did not finish")
	}
	onUIWait(func() {
		if len(w.cv.preds) > 0 {
			rep.CVTag = w.cv.preds[0].Tag
		}
	})
	return nil
}
