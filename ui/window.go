package ui

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// mainWindow is the app: the live view with its HUD and transport bar on
// the left, the panels in tabs on the right.
type mainWindow struct {
	cfg   Config
	app   fyne.App
	win   fyne.Window
	ctx   context.Context
	p     *player
	keys  *keyStore
	st    settings
	panel analyzer.Analyzer // local backend of the OCR panel
	faces analyzer.FaceFinder
	// envCloud is the cloud the command line built from the environment;
	// it wins over saved settings.
	envCloud analyzer.Analyzer

	live     *liveView
	hud      *hud
	banner   *banner
	controls *controls
	ocr      *ocrPanel
	cv       *cvPanel
	scene    *scenePanel
	stats    *statsPanel
	settings *settingsPanel
	tabs     *container.AppTabs
	pauseBtn *widget.Button
	recBtn   *widget.Button
	message  *widget.Label

	wg sync.WaitGroup
}

// deps are what the window needs besides the Config; tests pass their own.
type deps struct {
	keys       *keyStore
	panelLocal analyzer.Analyzer // reads for the OCR panel; nil: none
	// faces finds the faces privacy blurs; nil: privacy cannot be on.
	faces analyzer.FaceFinder
}

func newMainWindow(ctx context.Context, a fyne.App, cfg Config, d deps) *mainWindow {
	w := &mainWindow{cfg: cfg, app: a, ctx: ctx, win: a.NewWindow("Sightline"), keys: d.keys, panel: d.panelLocal, faces: d.faces}
	w.st = loadSettings(a.Preferences())
	w.envCloud = cfg.Cloud
	if cfg.Cloud == nil {
		cfg.Cloud = w.cloudFromSettings()
		w.cfg.Cloud = cfg.Cloud
	}
	w.p = newPlayer(cfg)
	w.p.budget = budgetOptions{perMinute: w.st.CloudPerMinute, perDay: w.st.CloudPerDay, cacheTTL: w.st.CacheTTL}
	if w.st.BlurFaces {
		w.p.filter.BlurFaces = true
		w.p.features = append(w.p.features, analyzer.FeatureFaces)
		w.p.privacy = w.faces
	}

	w.live = newLiveView()
	w.hud = newHUD()
	w.banner = newBanner()
	w.p.schedule = fyne.Do
	w.p.show = func(img *image.RGBA) { w.live.setImage(img) }
	w.p.onStatus = func(st video.Status) {
		fyne.Do(func() {
			w.banner.set(bannerText(st), st.State)
			if st.State == video.StatePlaying {
				w.win.SetTitle("Sightline — " + filepath.Base(w.p.Source()))
			}
		})
	}

	w.controls = newControls(w.win, w.p, w.st.Recent)
	w.controls.onSource = func(uri string) {
		w.st.Recent = addRecent(w.st.Recent, uri)
		w.st.save(a.Preferences())
	}
	w.ocr = newOCRPanel(ctx, w.win, w.p, w.pickBackend, w.st.Keywords, cfg.Cloud != nil)
	w.ocr.onKeywords = func(k []string) {
		w.st.Keywords = k
		w.st.save(a.Preferences())
	}
	w.cv = newCVPanel(ctx, w.win, w.p, w.keys, w.st)
	w.cv.privacy = w.privacy
	w.cv.onChange = func(dir, endpoint, project, published string) {
		w.st.CVModelDir, w.st.CVEndpoint, w.st.CVProject, w.st.CVPublished = dir, endpoint, project, published
		w.st.save(a.Preferences())
	}
	w.live.onRegion = func(r image.Rectangle) {
		w.ocr.setRegion(r)
		w.cv.setRegion(r)
	}
	w.scene = newScenePanel()
	w.stats = newStatsPanel()
	w.settings = newSettingsPanel(w.win, w.st, w.keys, w.applySettings)

	w.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Live", theme.MediaVideoIcon(), w.controls.content),
		container.NewTabItemWithIcon("OCR", theme.DocumentIcon(), w.ocr.content),
		container.NewTabItemWithIcon("Custom Vision", theme.SearchIcon(), w.cv.content),
		container.NewTabItemWithIcon("Scene", theme.InfoIcon(), w.scene.content),
		container.NewTabItemWithIcon("Stats", theme.GridIcon(), w.stats.content),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), w.settings.content),
	)

	w.pauseBtn = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), w.togglePause)
	step := widget.NewButtonWithIcon("Step", theme.MediaSkipNextIcon(), w.p.Step)
	snap := widget.NewButtonWithIcon("Snapshot", theme.MediaPhotoIcon(), w.snapshot)
	w.recBtn = widget.NewButtonWithIcon("Record", theme.MediaRecordIcon(), w.toggleRecord)
	full := widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), w.toggleFullScreen)
	w.message = widget.NewLabel("Space pause · S snapshot · O read text · P predict · +/− threshold · F full screen · drag to select a region")
	w.message.Importance = widget.LowImportance
	w.message.Truncation = fyne.TextTruncateEllipsis
	transport := container.NewBorder(nil, nil, container.NewHBox(w.pauseBtn, step, snap, w.recBtn), full, w.message)

	video := container.NewStack(w.live, container.NewBorder(w.banner.content, nil, nil, nil, layout.NewSpacer()))
	left := container.NewBorder(w.hud.content, transport, nil, nil, video)
	split := container.NewHSplit(left, w.tabs)
	split.Offset = 0.68
	w.win.SetContent(split)
	w.win.Resize(fyne.NewSize(1280, 800))
	w.win.Canvas().SetOnTypedRune(w.typedRune)
	return w
}

// cloudFromSettings builds the Azure client from saved settings and keys,
// when the command line did not (the environment comes first).
func (w *mainWindow) cloudFromSettings() analyzer.Analyzer {
	endpoint := w.st.VisionEndpoint
	if endpoint == "" {
		endpoint = os.Getenv("VISION_ENDPOINT")
	}
	key, _ := w.keys.Get(keyVision)
	if endpoint == "" || key == "" {
		return nil
	}
	c, err := azure.NewVisionClient(endpoint, key, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Retries: azure.NoRetries}})
	if err != nil {
		w.say("Azure: " + oneLine(err.Error()))
		return nil
	}
	return c
}

// applySettings takes saved settings into use.
func (w *mainWindow) applySettings(s settings) {
	w.st = s
	s.save(w.app.Preferences())
	cloud := w.envCloud
	if cloud == nil {
		cloud = w.cloudFromSettings()
	}
	w.p.SetCloud(cloud, budgetOptions{perMinute: s.CloudPerMinute, perDay: s.CloudPerDay, cacheTTL: s.CacheTTL})
	w.p.SetFilter(func(f *overlay.Filter) { f.BlurFaces = s.BlurFaces })
	if s.BlurFaces {
		w.p.Want(analyzer.FeatureFaces)
		w.p.SetPrivacy(w.faces)
	} else {
		w.p.SetPrivacy(nil)
	}
	w.controls.refreshCloud()
	w.say("Settings saved.")
}

// privacy is the face finder to blur with before anything goes to the
// cloud, nil when privacy is off.
func (w *mainWindow) privacy() analyzer.FaceFinder {
	if !w.st.BlurFaces {
		return nil
	}
	if w.faces == nil {
		return noFaceFinder{}
	}
	return w.faces
}

// noFaceFinder fails closed: with privacy on and no face model, nothing is
// sent.
type noFaceFinder struct{}

func (noFaceFinder) Faces(gocv.Mat) ([]analyzer.Face, error) {
	return nil, errors.New("no local face model to blur with")
}

// pickBackend is the OCR panel's backend choice.
func (w *mainWindow) pickBackend(label string) (analyzer.Analyzer, error) {
	if label == "Azure" {
		if c := w.p.Cloud(); c != nil {
			if ff := w.privacy(); ff != nil {
				return analyzer.WithPrivacy(c, ff), nil
			}
			return c, nil
		}
		return nil, errors.New("azure is not configured: set the Vision endpoint and key in Settings")
	}
	if w.panel == nil {
		return nil, errors.New("no local backend in this configuration")
	}
	return w.panel, nil
}

func (w *mainWindow) say(msg string) {
	if w.message != nil {
		w.message.SetText(msg)
	}
}

func (w *mainWindow) togglePause() {
	paused := !w.p.Paused()
	w.p.SetPaused(paused)
	if paused {
		w.pauseBtn.SetText("Resume")
		w.pauseBtn.SetIcon(theme.MediaPlayIcon())
	} else {
		w.pauseBtn.SetText("Pause")
		w.pauseBtn.SetIcon(theme.MediaPauseIcon())
	}
}

func (w *mainWindow) toggleFullScreen() { w.win.SetFullScreen(!w.win.FullScreen()) }

// snapshot saves the current frame, clean and annotated, off the UI thread.
func (w *mainWindow) snapshot() {
	clean, seq, ok := w.p.Frame(image.Rectangle{})
	if !ok {
		w.say("No picture to save yet.")
		return
	}
	annotated := w.p.Annotated(clean)
	dir := w.st.SnapshotDir
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer clean.Close()
		defer annotated.Close()
		_, path, err := video.SaveSnapshot(dir, seq, clean, annotated)
		fyne.Do(func() {
			if err != nil {
				w.say("Snapshot failed: " + err.Error())
				return
			}
			w.say("Snapshot saved: " + path + " (and -clean.png)")
		})
	}()
}

func (w *mainWindow) toggleRecord() {
	if w.p.Recording() {
		path := w.p.StopRecording()
		w.recBtn.SetText("Record")
		w.recBtn.Importance = widget.MediumImportance
		w.recBtn.Refresh()
		w.say("Recording saved: " + path)
		return
	}
	if err := os.MkdirAll(w.st.SnapshotDir, 0o755); err != nil {
		w.say("Recording: " + err.Error())
		return
	}
	path := filepath.Join(w.st.SnapshotDir, "sightline-"+stamp(time.Now())+".mp4")
	if err := w.p.StartRecording(path); err != nil {
		w.say("Recording failed: " + oneLine(err.Error()))
		return
	}
	w.recBtn.SetText("Stop")
	w.recBtn.Importance = widget.DangerImportance
	w.recBtn.Refresh()
	w.say("Recording to " + path)
}

// typedRune handles the keyboard shortcuts (runes reach the canvas only
// when no entry has the focus, so typing a URL never pauses the video).
func (w *mainWindow) typedRune(r rune) {
	switch r {
	case ' ':
		w.togglePause()
	case 's', 'S':
		w.snapshot()
	case 'o', 'O':
		w.tabs.SelectIndex(1)
		w.ocr.read()
	case 'p', 'P':
		w.tabs.SelectIndex(2)
		w.cv.predict()
	case '+', '=':
		w.controls.nudgeThreshold(threshStep)
	case '-', '_':
		w.controls.nudgeThreshold(-threshStep)
	case 'f', 'F':
		w.toggleFullScreen()
	}
}

// start runs the player and the meters until ctx ends.
func (w *mainWindow) start(ctx context.Context) {
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		w.p.run(ctx)
	}()
	go func() {
		defer w.wg.Done()
		w.sampleLoop(ctx)
	}()
}

// sampleLoop reads the meters once a second and updates the HUD, the
// stats, the scene and the class list.
func (w *mainWindow) sampleLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	prev := w.sample()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := w.sample()
		m := rates(prev, cur)
		prev = cur
		st, paused, cloud := w.p.Status(), w.p.Paused(), w.p.Cloud() != nil
		threshold := w.p.Filter().Threshold
		var classes []string
		if cur.merged != nil {
			classes = seenClasses(cur.merged.Analysis)
		}
		fyne.Do(func() {
			w.hud.update(m, cur, st, paused, cloud)
			w.stats.update(m, cur.stats)
			w.scene.update(cur.merged, cloud, threshold)
			w.controls.setClasses(classes)
		})
	}
}

func (w *mainWindow) sample() sample {
	s := sample{at: time.Now(), read: w.p.framesRead.Load(), shown: w.p.framesShown.Load()}
	if sc := w.p.Scheduler(); sc != nil {
		s.stats, s.merged = sc.Stats(), sc.Merged()
	}
	return s
}

// stop waits for the goroutines and frees what the window holds.
func (w *mainWindow) stop() {
	w.wg.Wait()
	w.p.close()
	w.ocr.close()
	w.cv.close()
}
