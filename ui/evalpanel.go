package ui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/eval"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/overlay"
)

// The detectors the Eval panel scores.
const (
	evalYOLOX = "YOLOX (the live view's model)"
	evalCV    = "Custom Vision export"
)

// Colours of the curves and marks.
var (
	curveF1  = color.NRGBA{0x29, 0xb6, 0xf6, 0xff}
	curveP   = color.NRGBA{0x00, 0xe6, 0x76, 0xc0}
	curveR   = color.NRGBA{0xff, 0x98, 0x00, 0xc0}
	markNow  = color.NRGBA{0xff, 0xeb, 0x3b, 0xff}
	markBest = color.NRGBA{0xff, 0x40, 0x81, 0xff}
)

// thresholdSetter is the live view's filter.
type thresholdSetter interface {
	Filter() overlay.Filter
	SetFilter(change func(*overlay.Filter))
}

// evalPanel scores a detector on the reviewed dataset: a precision–recall
// and an F1-against-threshold plot a class with the live threshold marked,
// buttons that set the live thresholds from the evidence, and the
// mistakes at the live threshold, each opening its frame in Review.
type evalPanel struct {
	content fyne.CanvasObject
	ctx     context.Context
	live    thresholdSetter
	rv      *reviewPanel
	// exportDir is the Custom Vision export to score (the Custom Vision
	// panel's folder).
	exportDir func() string
	// detector builds what is scored; tests give their own.
	detector func(kind string) (eval.Detector, func(), error)
	// showReview brings the Review tab forward.
	showReview func()

	model         *widget.RadioGroup
	runBtn        *widget.Button
	progress      *widget.ProgressBar
	summary       *widget.Label
	classSel      *widget.Select
	classLine     *widget.Label
	pr, f1        *curvePlot
	target        *widget.Entry
	best, forPrec *widget.Button
	note          *widget.Label
	mistakes      *widget.List
	mistakeItems  []mistake
	res           *eval.Result
	ds            *dataset.Dataset // the dataset res is of
	busy          bool
}

// mistake is a line of the mistakes list: a frame to open, and where.
type mistake struct {
	text, file, note string
	bbox             [4]float64
}

func newEvalPanel(ctx context.Context, live thresholdSetter, rv *reviewPanel) *evalPanel {
	e := &evalPanel{ctx: ctx, live: live, rv: rv, exportDir: func() string { return "" }}
	e.detector = e.buildDetector
	e.model = widget.NewRadioGroup([]string{evalYOLOX, evalCV}, nil)
	e.model.Horizontal = true
	e.model.Required = true
	e.model.SetSelected(evalYOLOX)
	e.runBtn = widget.NewButtonWithIcon("Evaluate the dataset", theme.MediaPlayIcon(), e.run)
	e.runBtn.Importance = widget.HighImportance
	e.progress = widget.NewProgressBar()
	e.progress.Hide()
	e.summary = wrapped("Accept frames in Review, then evaluate: each class's precision and recall at every threshold.")
	e.classSel = widget.NewSelect(nil, func(string) { e.showClass() })
	e.classSel.PlaceHolder = "class…"
	e.classLine = wrapped("")
	e.pr = newCurvePlot("Precision (up) against recall", "recall")
	e.f1 = newCurvePlot("F1 against threshold", "threshold")
	e.target = entry("0.90", "precision")
	e.best = widget.NewButton("Live thresholds: F1-best", e.applyBest)
	e.forPrec = widget.NewButton("Live thresholds: precision ≥", e.applyPrecision)
	e.best.Disable()
	e.forPrec.Disable()
	e.note = wrapped("")
	e.mistakes = widget.NewList(
		func() int { return len(e.mistakeItems) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(e.mistakeItems[i].text) })
	e.mistakes.OnSelected = e.openMistake

	top := container.NewVBox(e.model, container.NewBorder(nil, nil, nil, e.runBtn, e.progress), e.summary,
		container.NewBorder(nil, nil, widget.NewLabel("Class"), nil, e.classSel), e.classLine)
	plots := container.NewGridWithColumns(2, e.pr, e.f1)
	buttons := container.NewVBox(
		container.NewHBox(e.best, e.forPrec, container.NewGridWrap(fyne.NewSize(70, e.target.MinSize().Height), e.target)),
		e.note, heading("Mistakes at the live threshold (select one to open it)"))
	lower := container.NewBorder(buttons, nil, nil, nil, e.mistakes)
	split := container.NewVSplit(plots, lower)
	split.Offset = 0.55
	e.content = container.NewBorder(top, nil, nil, nil, split)
	return e
}

// buildDetector makes the detector to score: YOLOX in sessions of its own
// (the live view's keep running), or the Custom Vision export.
func (e *evalPanel) buildDetector(kind string) (eval.Detector, func(), error) {
	if kind == evalYOLOX {
		return backend.LocalDetector(1)
	}
	dir := e.exportDir()
	if dir == "" {
		return nil, nil, errors.New("choose a Custom Vision export in the Custom Vision tab (or train one)")
	}
	cv, err := local.NewCustomVision(dir)
	if err != nil {
		return nil, nil, err
	}
	if !cv.IsDetector() {
		cv.Close()
		return nil, nil, fmt.Errorf("%s is a classifier export; eval scores object detectors", dir)
	}
	return backend.PredictorDetector(cv), func() { cv.Close() }, nil
}

// run evaluates the dataset as written, on a goroutine.
func (e *evalPanel) run() {
	if e.busy {
		return
	}
	ds, err := e.dataset()
	if err != nil {
		e.fail(err)
		return
	}
	detect, closeFn, err := e.detector(e.model.Selected)
	if err != nil {
		e.fail(err)
		return
	}
	e.busy = true
	e.runBtn.Disable()
	e.progress.SetValue(0)
	e.progress.Show()
	images := e.rv.s.ImagesDir()
	opts := eval.RunOptions{Workers: 1, Progress: func(done, total int) {
		onUI(func() { e.progress.SetValue(float64(done) / float64(total)) })
	}}
	go func() {
		defer closeFn()
		began := time.Now()
		res, failures, _, err := eval.Run(e.ctx, ds, images, detect, opts)
		took := time.Since(began)
		onUI(func() {
			defer func() { e.busy = false }() // last: tests wait on it
			e.runBtn.Enable()
			e.progress.Hide()
			if err != nil {
				e.fail(err)
				return
			}
			e.show(res, ds, failures, took)
		})
	}()
}

func (e *evalPanel) dataset() (*dataset.Dataset, error) {
	if e.rv.s == nil {
		return nil, errors.New("open a folder in Review first")
	}
	ds, err := e.rv.s.Dataset()
	if err == nil && ds == nil {
		err = errors.New("no frame is accepted yet: accept some in Review")
	}
	return ds, err
}

func (e *evalPanel) fail(err error) {
	e.summary.Importance = widget.DangerImportance
	e.summary.SetText(text.OneLine(err.Error(), 120))
}

// show takes a finished evaluation; UI thread.
func (e *evalPanel) show(res *eval.Result, ds *dataset.Dataset, failures []eval.ImageFailure, took time.Duration) {
	e.res, e.ds = res, ds
	e.summary.Importance = widget.MediumImportance
	s := fmt.Sprintf("%s on %d images (%.1f s): mAP@0.5 %.3f · mAP@0.5:0.95 %.3f", e.model.Selected, res.Images, took.Seconds(), res.MAP50, res.MAP5095)
	if len(failures) > 0 {
		s += fmt.Sprintf(" · %d images could not be read (%s: %s)", len(failures), failures[0].Image.FileName, text.OneLine(failures[0].Err.Error(), 60))
	}
	e.summary.SetText(s)
	names := make([]string, 0, len(res.Classes))
	for name := range res.Classes {
		names = append(names, name)
	}
	slices.Sort(names)
	e.classSel.Options = names
	e.best.Enable()
	e.forPrec.Enable()
	if !slices.Contains(names, e.classSel.Selected) && len(names) > 0 {
		e.classSel.SetSelected(names[0]) // shows it
		return
	}
	e.showClass()
}

// showClass draws the selected class's curves with the live threshold
// and the F1-best one marked, and lists its mistakes at the live one.
func (e *evalPanel) showClass() {
	name := e.classSel.Selected
	if e.res == nil {
		return
	}
	cr, ok := e.res.Classes[name]
	if !ok {
		return
	}
	c := cr.Curve
	now := e.live.Filter().ThresholdFor(name)
	p, r, f1, found := c.At(now)
	e.classLine.SetText(fmt.Sprintf("%s: AP@0.5 %.3f · AP %.3f · %d boxes · F1-best at %.2f (precision %.2f, recall %.2f) · live %.2f: precision %.2f, recall %.2f",
		name, cr.AP50, cr.AP5095, cr.GroundTruth, cr.BestThreshold, cr.Precision, cr.Recall, now, p, r))
	nowLabel := fmt.Sprintf("live %.2f", now)
	bestLabel := fmt.Sprintf("F1-best %.2f", cr.BestThreshold)
	if math.Abs(now-cr.BestThreshold) < 0.005 { // one point: one label
		nowLabel, bestLabel = "", "live = F1-best "+fmt.Sprintf("%.2f", now)
	}
	var prMarks, f1Marks []plotMark
	if found {
		prMarks = append(prMarks, plotMark{x: r, y: p, colour: markNow, label: nowLabel})
	}
	f1Marks = append(f1Marks, plotMark{x: now, y: f1, line: true, colour: markNow, label: nowLabel})
	if cr.F1 > 0 {
		prMarks = append(prMarks, plotMark{x: cr.Recall, y: cr.Precision, colour: markBest, label: bestLabel})
		f1Marks = append(f1Marks, plotMark{x: cr.BestThreshold, y: cr.F1, line: true, colour: markBest, label: bestLabel})
	}
	e.pr.set([]plotSeries{{name: name, colour: curveF1, x: c.Recall, y: c.Precision}}, prMarks)
	e.f1.set([]plotSeries{
		{name: "precision", colour: curveP, x: c.Threshold, y: c.Precision, width: 1},
		{name: "recall", colour: curveR, x: c.Threshold, y: c.Recall, width: 1},
		{name: "F1", colour: curveF1, x: c.Threshold, y: c.F1},
	}, f1Marks)
	e.listMistakes(name, now)
}

// listMistakes lists the class's false positives and misses at threshold.
func (e *evalPanel) listMistakes(name string, threshold float64) {
	files := map[int64]string{}
	for _, im := range e.ds.Images {
		files[im.ID] = im.FileName
	}
	m := e.res.Mistakes(name, threshold)
	e.mistakeItems = e.mistakeItems[:0]
	for _, d := range m.FalsePositives {
		note := fmt.Sprintf("false positive: %s %.2f, where no %s is labelled", name, d.Score, name)
		e.mistakeItems = append(e.mistakeItems, mistake{text: fmt.Sprintf("False positive  %.2f  %s", d.Score, files[d.ImageID]),
			file: files[d.ImageID], bbox: d.BBox, note: note})
	}
	for _, a := range m.Misses {
		note := fmt.Sprintf("missed: no %s found at %.2f or more", name, threshold)
		e.mistakeItems = append(e.mistakeItems, mistake{text: "Missed  " + files[a.ImageID], file: files[a.ImageID], bbox: a.BBox, note: note})
	}
	e.mistakes.UnselectAll()
	e.mistakes.Refresh()
	e.note.SetText(fmt.Sprintf("%d false positives and %d misses of %s at the live threshold %.2f.", len(m.FalsePositives), len(m.Misses), name, threshold))
}

// openMistake shows the mistake's frame in Review, the box marked.
func (e *evalPanel) openMistake(i widget.ListItemID) {
	m := e.mistakeItems[i]
	bb := m.bbox
	if !e.rv.openFile(m.file, &bb, m.note) {
		e.note.SetText(m.file + " is no longer in the review folder.")
		return
	}
	if e.showReview != nil {
		e.showReview()
	}
}

// applyBest sets every class's live threshold to its F1-best.
func (e *evalPanel) applyBest() {
	e.apply(func(cr eval.ClassResult) (float64, bool) { return cr.BestThreshold, cr.F1 > 0 }, "F1-best")
}

// applyPrecision sets every class's live threshold to the lowest that
// keeps precision at the target.
func (e *evalPanel) applyPrecision() {
	target, err := strconv.ParseFloat(strings.TrimSpace(e.target.Text), 64)
	if err != nil || target <= 0 || target > 1 {
		e.note.SetText(fmt.Sprintf("%q is not a precision: give a number from 0 to 1, such as 0.9.", e.target.Text))
		return
	}
	e.apply(func(cr eval.ClassResult) (float64, bool) {
		t, _, _, ok := cr.Curve.ForPrecision(target)
		return t, ok
	}, fmt.Sprintf("precision ≥ %.2f", target))
}

// apply sets the live per-class thresholds that pick gives, never under
// what the live view analyses at, and says what it did.
func (e *evalPanel) apply(pick func(eval.ClassResult) (float64, bool), why string) {
	if e.res == nil {
		return
	}
	set := map[string]float64{}
	var done, missed, raised []string
	for _, name := range e.classSel.Options {
		t, ok := pick(e.res.Classes[name])
		if !ok {
			missed = append(missed, name)
			continue
		}
		if t < analysisThreshold {
			raised = append(raised, fmt.Sprintf("%s (%.3f)", name, t))
		}
		set[strings.ToLower(name)] = max(t, analysisThreshold)
		done = append(done, fmt.Sprintf("%s %.2f", name, set[strings.ToLower(name)]))
	}
	e.live.SetFilter(func(f *overlay.Filter) {
		f.PerClass = cloneMap(f.PerClass)
		for k, v := range set {
			f.PerClass[k] = v
		}
	})
	msg := "Live thresholds set (" + why + "): " + strings.Join(done, ", ") + "."
	if len(raised) > 0 {
		msg += fmt.Sprintf(" Raised to %.2f, the lowest the live view analyses at: %s.", analysisThreshold, strings.Join(raised, ", "))
	}
	if len(missed) > 0 {
		msg += " Unchanged, as no threshold reaches it: " + strings.Join(missed, ", ") + "."
	}
	e.showClass()
	e.note.SetText(msg)
}
