package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/internal/train"
)

// keyTraining is the Custom Vision training key's name in the key store
// (and the environment variable that wins over it).
const keyTraining = "CUSTOM_VISION_TRAINING_KEY"

// trainStages are the steps of a training, in order, as the panel names
// them.
var trainStages = []struct{ stage, label string }{
	{train.StageProject, "Project"}, {train.StageTags, "Tags"}, {train.StageUpload, "Uploading"},
	{train.StageTrain, "Training"}, {train.StagePublish, "Publishing"}, {train.StageExport, "Exporting"},
	{train.StageDownload, "Downloading"},
}

// trainPanel trains a Custom Vision model on the reviewed dataset, then
// publishes it for the cloud backend and exports it, and swaps the export
// in as the Custom Vision panel's local model without a restart.
type trainPanel struct {
	content fyne.CanvasObject
	ctx     context.Context
	keys    *keyStore
	prefs   fyne.Preferences
	rv      *reviewPanel
	cv      *cvPanel

	endpoint, key, project, publish, resourceID, exportDir *widget.Entry
	trainBtn                                               *widget.Button
	stage                                                  *widget.Label
	progress                                               *widget.ProgressBar
	result                                                 *widget.Label
	busy                                                   bool
	// done are the steps finished in this training, shown before the
	// one running.
	done []string
}

func newTrainPanel(ctx context.Context, keys *keyStore, prefs fyne.Preferences, rv *reviewPanel, cv *cvPanel) *trainPanel {
	t := &trainPanel{ctx: ctx, keys: keys, prefs: prefs, rv: rv, cv: cv}
	pref := func(name, env string) string {
		if v := prefs.String(name); v != "" {
			return v
		}
		return os.Getenv(env)
	}
	t.endpoint = entry(pref("trainEndpoint", "CUSTOM_VISION_TRAINING_ENDPOINT"), "https://<resource>.cognitiveservices.azure.com")
	t.key = widget.NewPasswordEntry()
	t.key.SetPlaceHolder(t.keyPlaceholder())
	t.project = entry(prefs.String("trainProject"), "project name: used if it exists, created if not")
	t.publish = entry(prefs.String("trainPublish"), "optional: publish for the cloud backend as")
	t.resourceID = entry(pref("trainResourceID", "CUSTOM_VISION_PREDICTION_RESOURCE_ID"), "/subscriptions/…/accounts/<prediction resource>")
	t.exportDir = entry(prefs.String("trainExportDir"), "default: models/<project> beside the dataset")
	form := widget.NewForm(
		widget.NewFormItem("Training endpoint", t.endpoint),
		widget.NewFormItem("Training key", t.key),
		widget.NewFormItem("Project", t.project),
		widget.NewFormItem("Publish as", t.publish),
		widget.NewFormItem("Prediction resource", t.resourceID),
		widget.NewFormItem("Export to", t.exportDir))
	t.trainBtn = widget.NewButtonWithIcon("Train, export and use", theme.UploadIcon(), t.train)
	t.trainBtn.Importance = widget.HighImportance
	t.stage = wrapped("")
	t.progress = widget.NewProgressBar()
	t.progress.Hide()
	t.result = wrapped("Trains on the accepted frames (object detection, a compact domain so it can run here), " +
		"then the Custom Vision tab runs the new model at once.")
	t.content = container.NewVScroll(container.NewVBox(heading("Custom Vision training"), form,
		container.NewHBox(t.trainBtn), t.stage, t.progress, t.result))
	return t
}

// keyPlaceholder says whether a key is set and where from, never the key.
func (t *trainPanel) keyPlaceholder() string {
	if _, from := t.keys.Get(keyTraining); from != "" {
		return "set (" + from + "); type to replace"
	}
	return "training key (kept in the OS keyring)"
}

// trainRequest is what a training needs, read from the form.
type trainRequest struct {
	azure     backend.Azure
	opts      train.Options
	imagesDir string
}

// request reads and checks the form; a key typed is stored and cleared.
func (t *trainPanel) request() (trainRequest, error) {
	var q trainRequest
	endpoint := strings.TrimSpace(t.endpoint.Text)
	if err := checkEndpoint("Training endpoint", endpoint); err != nil || endpoint == "" {
		return q, errors.Join(err, errorIf(endpoint == "", "set the Custom Vision training endpoint"))
	}
	if k := t.key.Text; k != "" {
		_ = t.keys.Set(keyTraining, k) // falls back to memory; never fails
		t.key.SetText("")
		t.key.SetPlaceHolder(t.keyPlaceholder())
	}
	key, _ := t.keys.Get(keyTraining)
	project := strings.TrimSpace(t.project.Text)
	switch {
	case key == "":
		return q, errors.New("set the training key (or CUSTOM_VISION_TRAINING_KEY)")
	case project == "":
		return q, errors.New("name the project")
	case t.rv.s == nil:
		return q, errors.New("open a folder in Review and accept some frames first")
	}
	q.azure = backend.Azure{Endpoint: endpoint, Key: key, Retries: 3}
	q.imagesDir = t.rv.s.ImagesDir()
	exportDir := strings.TrimSpace(t.exportDir.Text)
	if exportDir == "" {
		exportDir = filepath.Join(filepath.Dir(t.rv.s.DatasetPath()), "models", safeName(project))
	}
	q.opts = train.Options{Project: project, PublishName: strings.TrimSpace(t.publish.Text),
		PredictionResourceID: strings.TrimSpace(t.resourceID.Text), ExportDir: exportDir, Verify: backend.LoadsExport}
	for name, e := range map[string]*widget.Entry{"trainEndpoint": t.endpoint, "trainProject": t.project,
		"trainPublish": t.publish, "trainResourceID": t.resourceID, "trainExportDir": t.exportDir} {
		t.prefs.SetString(name, strings.TrimSpace(e.Text))
	}
	return q, nil
}

func errorIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}

// safeName makes a project name a folder name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, s)
}

// train runs the training on a goroutine, showing each step.
func (t *trainPanel) train() {
	if t.busy {
		return
	}
	q, err := t.request()
	var ds *dataset.Dataset
	if err == nil {
		ds, err = t.dataset()
	}
	if err != nil {
		t.say(err, widget.DangerImportance)
		return
	}
	t.busy, t.done = true, nil
	t.trainBtn.Disable()
	t.progress.SetValue(0)
	t.progress.Show()
	t.say(nil, widget.MediumImportance)
	q.opts.OnProgress = func(p train.Progress) { onUI(func() { t.showProgress(p) }) }
	go func() {
		res, err := t.run(q, ds)
		onUI(func() {
			defer func() { t.busy = false }() // last: tests wait on it
			t.trainBtn.Enable()
			t.progress.Hide()
			t.finished(res, err)
		})
	}()
}

// dataset is the dataset as written, for the training's goroutine.
func (t *trainPanel) dataset() (*dataset.Dataset, error) {
	ds, err := t.rv.s.Dataset()
	if err == nil && ds == nil {
		err = errors.New("no frame is accepted yet: accept some in Review")
	}
	return ds, err
}

func (t *trainPanel) run(q trainRequest, ds *dataset.Dataset) (*train.Result, error) {
	client, err := backend.Training(q.azure)
	if err != nil {
		return nil, err
	}
	return train.New(client).Run(t.ctx, ds, q.imagesDir, q.opts)
}

// showProgress shows a step: its name, and the images uploaded.
func (t *trainPanel) showProgress(p train.Progress) {
	for i, s := range trainStages {
		if s.stage != p.Stage {
			continue
		}
		if n := len(t.done); n == 0 || t.done[n-1] != s.label {
			t.done = append(t.done, s.label)
		}
		frac := 0.0
		label := s.label
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
			label += fmt.Sprintf(" %d/%d images", p.Done, p.Total)
		} else if p.Detail != "" {
			label += ": " + p.Detail
		}
		t.stage.SetText(strings.Join(append(t.done[:len(t.done)-1:len(t.done)-1], label+" …"), " ✓ · "))
		t.progress.SetValue((float64(i) + frac) / float64(len(trainStages)))
	}
}

// finished says how the training ended and swaps the export in.
func (t *trainPanel) finished(res *train.Result, err error) {
	if res == nil {
		t.stage.SetText("")
		t.say(err, widget.DangerImportance)
		return
	}
	lines := []string{fmt.Sprintf("Project %s, %s: %s. %d images uploaded, %d already there, %d failed, %d without boxes.",
		res.Project, cmpOr(res.Iteration, "no iteration"), cmpOr(res.Status, "not trained"),
		res.Images.Uploaded, res.Images.Duplicates, res.Images.Failed, res.Images.Skipped)}
	for _, f := range res.Failures {
		lines = append(lines, f.File+": "+text.OneLine(f.Error, 80))
	}
	if res.PublishedName != "" {
		lines = append(lines, "Published for the cloud backend as “"+res.PublishedName+"”.")
	}
	if err != nil {
		t.stage.SetText(strings.Join(t.done, " ✓ · ") + " — stopped.")
		t.say(errors.New(strings.Join(append(lines, text.OneLine(err.Error(), 120)), "\n")), widget.DangerImportance)
		return
	}
	t.stage.SetText(strings.Join(t.done, " ✓ · ") + " ✓")
	if res.ExportDir != "" {
		if err := t.cv.useExport(res.ExportDir); err != nil {
			lines = append(lines, "The export could not be loaded: "+text.OneLine(err.Error(), 100))
		} else {
			lines = append(lines, "The Custom Vision tab now runs "+res.Iteration+" from "+res.ExportDir+", swapped in without a restart.")
		}
	}
	t.say(errors.New(strings.Join(lines, "\n")), widget.SuccessImportance)
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// say shows a message (err's text) in the result line.
func (t *trainPanel) say(err error, imp widget.Importance) {
	t.result.Importance = imp
	if err == nil {
		t.result.SetText("")
		return
	}
	t.result.SetText(err.Error())
}

// useExport makes the export in dir the Custom Vision panel's local
// model. When the panel already runs a model from dir (a retraining into
// the same folder), the new one is swapped in under it: predictions in
// flight finish on the old model, which is then closed; nothing restarts.
// UI thread.
func (c *cvPanel) useExport(dir string) error {
	cv, err := local.NewCustomVision(dir)
	if err != nil {
		return err
	}
	c.kind.SetSelected(cvLocal)
	c.dir.SetText(dir)
	c.detect.SetChecked(cv.IsDetector())
	key := "local:" + dir
	if sp, ok := c.predictor.(*analyzer.SwappablePredictor); ok && c.predKey == key {
		if old, ok := sp.Swap(cv).(io.Closer); ok {
			old.Close()
		}
	} else {
		c.closePredictor()
		c.predictor, c.predKey = analyzer.NewSwappablePredictor(cv), key
	}
	if c.onChange != nil {
		c.onChange(c.dir.Text, c.endpoint.Text, c.project.Text, c.name.Text)
	}
	c.verdict.Importance = widget.MediumImportance
	c.verdict.SetText("New model loaded: " + filepath.Base(dir) + ". Press P or “Predict frame”.")
	return nil
}
