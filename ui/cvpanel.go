package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/contract"
	"github.com/sightline/sightline/internal/text"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/overlay"
)

const (
	cvLocal = "Local export"
	cvCloud = "Cloud project"
	// maxBars is how many predictions get a bar; maxRecent predictions are listed.
	maxBars       = 5
	maxRecentPred = 20
)

// cvPanel runs a Custom Vision model, a local export or a cloud project,
// on the current frame or a dragged region.
type cvPanel struct {
	content fyne.CanvasObject
	win     fyne.Window
	ctx     context.Context
	frames  snapshotSource
	keys    *keyStore
	region  image.Rectangle

	kind                         *widget.RadioGroup
	dir, endpoint, project, name *widget.Entry
	detect                       *widget.Check
	thresh                       *widget.Slider
	threshText                   *widget.Label
	verdict                      *widget.Label
	bars                         *fyne.Container
	img                          *canvas.Image
	recent                       *widget.List
	predictBtn                   *widget.Button
	progress                     *widget.ProgressBarInfinite

	recentItems []string
	mat         gocv.Mat // the frame predicted, owned by the UI thread
	preds       []analyzer.Prediction
	busy        bool

	// privacy, when it gives a face finder, blurs faces before the cloud
	// sees the frame.
	privacy func() analyzer.FaceFinder

	predictor analyzer.Predictor
	predKey   string

	onChange func(dir, endpoint, project, published string)
}

func newCVPanel(ctx context.Context, win fyne.Window, frames snapshotSource, keys *keyStore, s settings) *cvPanel {
	c := &cvPanel{ctx: ctx, win: win, frames: frames, keys: keys}
	c.dir = entry(s.CVModelDir, "folder with model.onnx and labels.txt")
	endpoint := s.CVEndpoint
	if endpoint == "" {
		endpoint = os.Getenv("CUSTOM_VISION_PREDICTION_ENDPOINT")
	}
	c.endpoint = entry(endpoint, "https://<resource>.cognitiveservices.azure.com")
	c.project = entry(s.CVProject, "project id (UUID)")
	c.name = entry(s.CVPublished, "published iteration name")
	browse := widget.NewButton("…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				c.dir.SetText(u.Path())
			}
		}, win)
	})
	localForm := widget.NewForm(widget.NewFormItem("Folder", container.NewBorder(nil, nil, nil, browse, c.dir)))
	cloudForm := widget.NewForm(
		widget.NewFormItem("Endpoint", c.endpoint),
		widget.NewFormItem("Project", c.project),
		widget.NewFormItem("Published as", c.name))
	cloudForm.Hide()
	c.kind = widget.NewRadioGroup([]string{cvLocal, cvCloud}, func(k string) {
		localForm.Hidden, cloudForm.Hidden = k != cvLocal, k != cvCloud
		localForm.Refresh()
		cloudForm.Refresh()
	})
	c.kind.Horizontal = true
	c.kind.Required = true
	c.kind.SetSelected(cvLocal)
	if s.CVModelDir == "" && s.CVProject != "" {
		c.kind.SetSelected(cvCloud)
	}
	c.detect = widget.NewCheck("Detect objects (object detection models)", nil)

	c.threshText = widget.NewLabel("")
	c.thresh = widget.NewSlider(0.05, 1)
	c.thresh.Step = 0.01
	c.thresh.SetValue(analyzer.DefaultReviewThreshold)
	c.threshText.SetText(fmt.Sprintf("%.2f", c.thresh.Value))
	c.thresh.OnChanged = func(v float64) {
		c.threshText.SetText(fmt.Sprintf("%.2f", v))
		c.render() // the verdict and boxes change, not the predictions
	}

	c.predictBtn = widget.NewButtonWithIcon("Predict frame", theme.SearchIcon(), c.predict)
	c.predictBtn.Importance = widget.HighImportance
	c.progress = widget.NewProgressBarInfinite()
	c.progress.Stop()
	c.progress.Hide()
	c.verdict = widget.NewLabel("Press P or “Predict frame”.")
	c.verdict.Wrapping = fyne.TextWrapWord
	c.verdict.TextStyle = fyne.TextStyle{Bold: true}
	c.bars = container.NewVBox()
	c.img = canvas.NewImageFromImage(placeholder())
	c.img.FillMode = canvas.ImageFillContain
	c.img.SetMinSize(fyne.NewSize(200, 140))
	c.recent = widget.NewList(
		func() int { return len(c.recentItems) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle = fyne.TextStyle{Monospace: true}
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(c.recentItems[i]) })

	top := container.NewVBox(
		c.kind, localForm, cloudForm, c.detect,
		container.NewBorder(nil, nil, widget.NewLabel("Review under"), c.threshText, c.thresh),
		c.predictBtn, c.progress, c.verdict, c.bars)
	split := container.NewVSplit(c.img, container.NewBorder(heading("Recent"), nil, nil, nil, c.recent))
	split.Offset = 0.6
	c.content = container.NewBorder(top, nil, nil, nil, split)
	return c
}

// setRegion is told about the region dragged on the video.
func (c *cvPanel) setRegion(r image.Rectangle) {
	c.region = r
	c.predictBtn.SetText(actionOn("Predict", r))
}

// model returns the chosen predictor, loading it when the choice changed.
func (c *cvPanel) model() (analyzer.Predictor, error) {
	var key string
	switch c.kind.Selected {
	case cvLocal:
		key = "local:" + strings.TrimSpace(c.dir.Text)
	default:
		key = strings.Join([]string{"cloud", c.endpoint.Text, c.project.Text, c.name.Text}, "|")
		if c.privacy != nil && c.privacy() != nil {
			key += "|private" // switching privacy on rebuilds the client wrapped
		}
	}
	if c.predictor != nil && key == c.predKey {
		return c.predictor, nil
	}
	var p analyzer.Predictor
	if c.kind.Selected == cvLocal {
		dir := strings.TrimSpace(c.dir.Text)
		if dir == "" {
			return nil, errors.New("choose the folder of a Custom Vision ONNX export")
		}
		cv, err := local.NewCustomVision(dir)
		if err != nil {
			return nil, err
		}
		c.detect.SetChecked(cv.IsDetector())
		p = analyzer.NewSwappablePredictor(cv) // a training swaps its export in (useExport)
	} else {
		k, _ := c.keys.Get(keyPrediction)
		if k == "" {
			return nil, errors.New("set the Custom Vision key in Settings (or CUSTOM_VISION_PREDICTION_KEY)")
		}
		pc, err := backend.Prediction(backend.Azure{Endpoint: strings.TrimSpace(c.endpoint.Text), Key: k, Retries: 3},
			strings.TrimSpace(c.project.Text), strings.TrimSpace(c.name.Text), false)
		if err != nil {
			return nil, err
		}
		p = pc
		if c.privacy != nil {
			if ff := c.privacy(); ff != nil {
				p = analyzer.PredictorWithPrivacy(pc, ff)
			}
		}
	}
	c.closePredictor()
	c.predictor, c.predKey = p, key
	if c.onChange != nil {
		c.onChange(c.dir.Text, c.endpoint.Text, c.project.Text, c.name.Text)
	}
	return p, nil
}

func (c *cvPanel) closePredictor() {
	p := c.predictor
	if sp, ok := p.(*analyzer.SwappablePredictor); ok {
		p = sp.Swap(nil) // after the predictions in flight
	}
	if cl, ok := p.(io.Closer); ok {
		cl.Close()
	}
	c.predictor = nil
}

// predict freezes the frame and runs the model on a goroutine.
func (c *cvPanel) predict() {
	if c.busy {
		return
	}
	p, err := c.model()
	if err != nil {
		c.verdict.Importance = widget.DangerImportance
		c.verdict.SetText(text.OneLine(err.Error(), 90))
		return
	}
	m, _, ok := c.frames.Frame(c.region)
	if !ok {
		c.verdict.SetText("No picture yet.")
		return
	}
	c.busy = true
	c.predictBtn.Disable()
	c.progress.Show()
	c.progress.Start()
	detect := c.detect.Checked
	go func() {
		preds, err := p.Predict(c.ctx, analyzer.Image{Mat: m}, detect)
		onUI(func() {
			defer func() { c.busy = false }() // last: tests wait on it
			c.predictBtn.Enable()
			c.progress.Stop()
			c.progress.Hide()
			if err != nil {
				m.Close()
				c.verdict.Importance = widget.DangerImportance
				c.verdict.SetText("Prediction failed: " + text.OneLine(err.Error(), 90))
				return
			}
			c.show(m, preds)
		})
	}()
}

// show displays predictions of m, taking ownership of m; UI thread.
func (c *cvPanel) show(m gocv.Mat, preds []analyzer.Prediction) {
	if c.mat.Ptr() != nil {
		c.mat.Close()
	}
	c.mat, c.preds = m, preds
	r := contract.NewPredictionResult(preds, c.thresh.Value)
	item := time.Now().Format("15:04:05") + "  —"
	if r.TopPrediction != nil {
		mark := "✓"
		if !r.ConfidenceThresholdMet {
			mark = "⚠ review"
		}
		item = fmt.Sprintf("%s  %-16s %.2f %s", time.Now().Format("15:04:05"), r.TopPrediction.Tag, r.TopPrediction.Probability, mark)
	}
	c.recentItems = append([]string{item}, c.recentItems...)
	c.recentItems = c.recentItems[:min(len(c.recentItems), maxRecentPred)]
	c.recent.Refresh()
	c.render()
}

// distinct formats two probabilities with as many decimals as it takes to
// tell them apart (0.996 and 1.00 are not both "1.00").
func distinct(a, b float64) (string, string) {
	for _, prec := range []int{2, 3, 4} {
		x, y := strconv.FormatFloat(a, 'f', prec, 64), strconv.FormatFloat(b, 'f', prec, 64)
		if x != y || prec == 4 {
			return x, y
		}
	}
	return "", ""
}

// render shows the verdict, the bars and the frame with detection boxes
// for the current threshold.
func (c *cvPanel) render() {
	if c.mat.Ptr() == nil || c.mat.Empty() {
		return
	}
	r := contract.NewPredictionResult(c.preds, c.thresh.Value)
	switch {
	case r.TopPrediction == nil:
		c.verdict.Importance = widget.WarningImportance
		c.verdict.SetText("Review required — the model found nothing")
	case !r.ConfidenceThresholdMet:
		c.verdict.Importance = widget.WarningImportance
		top, threshold := distinct(r.TopPrediction.Probability, c.thresh.Value)
		c.verdict.SetText(fmt.Sprintf("⚠ Review required — top “%s” %s is not above %s", r.TopPrediction.Tag, top, threshold))
	default:
		c.verdict.Importance = widget.SuccessImportance
		c.verdict.SetText(fmt.Sprintf("✓ %s %.2f", r.TopPrediction.Tag, r.TopPrediction.Probability))
	}
	c.bars.RemoveAll()
	for _, p := range r.AllPredictions[:min(len(r.AllPredictions), maxBars)] {
		bar := widget.NewProgressBar()
		prob := p.Probability
		bar.TextFormatter = func() string { return fmt.Sprintf("%.2f", prob) }
		bar.SetValue(p.Probability)
		name := widget.NewLabel(p.Tag)
		name.Truncation = fyne.TextTruncateEllipsis
		c.bars.Add(container.NewGridWithColumns(2, name, bar))
	}
	draw := c.mat.Clone()
	defer draw.Close()
	overlay.Draw(&draw, detections(r.AllPredictions, draw.Cols(), draw.Rows()), overlay.Filter{Threshold: c.thresh.Value, Dimmed: true})
	c.img.Image = toRGBA(draw, nil, nil)
	c.img.Refresh()
}

// minDrawn is the probability under which detections are not drawn at all,
// even dimmed: detectors return dozens of near-zero boxes.
const minDrawn = 0.15

// detections turns Custom Vision boxes (fractions of the image) into
// objects in pixels, so the shared overlay draws them.
func detections(preds []analyzer.Prediction, w, h int) *analyzer.Analysis {
	a := &analyzer.Analysis{}
	for _, p := range preds {
		if p.BoundingBox == nil || p.Probability < minDrawn {
			continue
		}
		b := p.BoundingBox
		a.Objects = append(a.Objects, analyzer.Object{Name: p.Tag, Confidence: p.Probability, BoundingBox: analyzer.BoundingBox{
			X: int(b.Left * float64(w)), Y: int(b.Top * float64(h)), W: int(b.Width * float64(w)), H: int(b.Height * float64(h)),
		}})
	}
	return a
}

func (c *cvPanel) close() {
	c.closePredictor()
	if c.mat.Ptr() != nil {
		c.mat.Close()
		c.mat = gocv.Mat{}
	}
}
