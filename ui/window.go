package ui

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clip"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/text"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
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
	bus   *event.Bus
	snaps *pipeline.Snapshots
	keys  *keyStore
	st    *settings         // shared by the cameras of a wall
	panel analyzer.Analyzer // local backend of the OCR panel
	faces analyzer.FaceFinder

	live       *liveView
	hud        *hud
	banner     *banner
	controls   *controls
	ocr        *ocrPanel
	cv         *cvPanel
	caption    *captionPanel
	scenes     *scenePanel
	stats      *statsPanel
	settings   *settingsPanel
	labels     *labelsPanel // capture, review, eval, training (labels.go)
	tabs       *container.AppTabs
	pauseBtn   *widget.Button
	recBtn     *widget.Button
	openFolder *widget.Button // opens the folder of the file just saved
	transport  fyne.CanvasObject
	message    *widget.Label
	// content is the camera's view: the video beside the panels.
	content fyne.CanvasObject
	// extra holds buttons a wall adds beside the message.
	extra *fyne.Container
	// shell hosts the window among others (a wall's cameras); nil: alone.
	shell *shell
	// onSample hears the HUD's meters once a second; UI thread.
	onSample func(m meters, s sample)

	// The plant's outputs (Settings › Connections), the shell's when it
	// has cameras, and the clips around alerts and C.
	plant    *plantOutputs
	clips    *clip.Clips
	clipsErr error // why there are no clips

	wg     sync.WaitGroup
	cancel context.CancelFunc // stops the pipeline and the meters
}

// windowDeps are what the window needs besides the Config; tests pass their own.
type windowDeps struct {
	keys       *keyStore
	panelLocal analyzer.Analyzer // reads for the OCR panel; nil: none
	// faces finds the faces privacy blurs; nil: privacy cannot be on.
	faces analyzer.FaceFinder
	// build makes the live view's scheduler options (backend.Schedule
	// with the app's local models).
	build builder
	// settings are shared with the other cameras; nil: loaded.
	settings *settings
	// shell hosts the window among others; nil: it is the window's content.
	shell *shell
}

func newMainWindow(ctx context.Context, a fyne.App, cfg Config, d windowDeps) *mainWindow {
	w := &mainWindow{cfg: cfg, app: a, ctx: ctx, keys: d.keys, panel: d.panelLocal, faces: d.faces, st: d.settings, shell: d.shell}
	if w.shell != nil {
		w.win, w.plant = w.shell.win, w.shell.plant
	} else {
		w.win = a.NewWindow("Sightline")
		w.plant = &plantOutputs{ctx: ctx, keys: d.keys, version: cfg.Version}
	}
	if w.st == nil {
		st := loadSettings(a.Preferences())
		w.st = &st
	}
	w.startPipeline(d)
	w.newPanels(ctx, d)
	w.content = w.layOut()
	if w.shell == nil {
		w.install()
		w.win.Resize(fyne.NewSize(1280, 800))
	}
	return w
}

// startPipeline builds the camera's pipeline with its outputs (snapshots,
// clips) and events.
func (w *mainWindow) startPipeline(d windowDeps) {
	w.bus = event.NewBus(clock.Real{}, w.cfg.Camera)
	w.clips = w.newClips()
	w.p = newPlayer(w.cfg, w.backendConfig(), d.build, w.bus, w.clips, inspect.Options{
		LogDir: filepath.Join(w.st.SnapshotDir, "inspections"),
		Cloud: func(project, published string) (analyzer.Predictor, error) {
			key, _ := w.keys.Get(keyPrediction)
			return backend.Prediction(backend.Azure{Endpoint: w.st.CVEndpoint, Key: key}, project, published, false)
		},
	})
	if w.st.BlurFaces {
		w.p.SetFilter(func(f *overlay.Filter) { f.BlurFaces = true })
	}
	w.snaps = pipeline.NewSnapshots(w.st.SnapshotDir, 0, w.bus)
	w.p.Attach("snapshots", w.snaps)
	if w.clips != nil {
		w.p.Attach("clips", w.clips.Output(false)) // alerts name their clip through it
	}
}

// newPanels builds the live view and the side panels, wired to the
// pipeline and the settings.
func (w *mainWindow) newPanels(ctx context.Context, d windowDeps) {
	a := w.app
	w.live = newLiveView()
	w.hud = newHUD()
	w.banner = newBanner()
	w.p.display.schedule = func(f func()) { onUI(f) }
	w.live.follow(w.p.display)
	w.bus.Attach(event.SinkFunc(w.onEvent))

	w.controls = newControls(w.win, w.p, w.st.Recent)
	w.controls.onSource = func(uri string) {
		w.st.Recent = addRecent(w.st.Recent, uri)
		w.st.save(a.Preferences())
		// The picture, the selection and the classes were the old source's.
		w.live.clear(text.OneLine("Opening "+uri+" …", 90))
		w.controls.resetClasses()
		w.loadScene(uri, nil)
		if w.shell != nil {
			w.shell.sourceChanged(w, uri)
		}
	}
	w.controls.onError = func(err error) { w.say(text.OneLine(err.Error(), 90)) }
	w.ocr = newOCRPanel(ctx, w.win, w.p, w.pickBackend, w.st.Keywords, w.p.Cloud())
	w.ocr.onKeywords = func(k []string) {
		w.st.Keywords = k
		w.st.save(a.Preferences())
	}
	w.ocr.withDocuments(newDocPanel(ctx, w.win, w.p, d.panelLocal, w.documentCloud))
	w.cv = newCVPanel(ctx, w.win, w.p, w.keys, *w.st)
	w.cv.privacy = w.privacy
	w.cv.onChange = func(dir, endpoint, project, published string) {
		w.st.CVModelDir, w.st.CVEndpoint, w.st.CVProject, w.st.CVPublished = dir, endpoint, project, published
		w.st.save(a.Preferences())
	}
	w.live.onRegion = func(r image.Rectangle) {
		w.ocr.setRegion(r)
		w.cv.setRegion(r)
	}
	w.caption = newCaptionPanel()
	w.scenes = newScenePanel(w.win)
	newSceneEditor(w.live, w.scenes)
	w.scenes.filter = w.p.SetFilter
	w.scenes.apply = w.applyScene
	w.scenes.defaultModel = func() string { return w.st.CVModelDir }
	w.scenes.clips.open = w.openFile
	if w.clipsErr != nil {
		w.scenes.clips.unavailable(w.clipsErr)
	}
	w.loadScene(w.p.Source(), w.cfg.Scene)
	w.stats = newStatsPanel()
	w.stats.documents = w.ocr.doc.spent
	w.settings = newSettingsPanel(w.win, *w.st, w.keys, w.applySettings)
	w.settings.base = func() settings { return *w.st }
	w.labels = newLabelsPanel(ctx, w.win, w.p, w.bus, w.keys, a.Preferences(), w.cv)
}

// layOut arranges the video, its transport and the tabs.
func (w *mainWindow) layOut() fyne.CanvasObject {
	w.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Live", theme.MediaVideoIcon(), w.controls.content),
		container.NewTabItemWithIcon("OCR", theme.DocumentIcon(), w.ocr.content),
		container.NewTabItemWithIcon("Custom Vision", theme.SearchIcon(), w.cv.content),
		container.NewTabItemWithIcon("Scene", theme.ListIcon(), w.scenes.content),
		container.NewTabItemWithIcon("Caption", theme.InfoIcon(), w.caption.content),
		container.NewTabItemWithIcon("Stats", theme.GridIcon(), w.stats.content),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), w.settings.content),
		container.NewTabItemWithIcon("Labels", theme.DocumentCreateIcon(), w.labels.content),
	)
	w.tabs.SetTabLocation(container.TabLocationLeading)

	w.pauseBtn = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), w.togglePause)
	step := widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), w.p.Step) // one frame on, paused
	snap := widget.NewButtonWithIcon("Snapshot", theme.MediaPhotoIcon(), w.snapshot)
	w.recBtn = widget.NewButtonWithIcon("Record", theme.MediaRecordIcon(), w.toggleRecord)
	full := widget.NewButtonWithIcon("", theme.ViewFullScreenIcon(), w.toggleFullScreen)
	w.extra = container.NewHBox()
	w.message = widget.NewLabel("Space pause · S snapshot · O read text · P predict · M mark to label · C clip · +/− threshold · F full screen · drag to select a region")
	w.message.Importance = widget.LowImportance
	w.message.Truncation = fyne.TextTruncateEllipsis
	// The message has a row of its own, so a long one never widens the
	// window (it must fit an 800×600 line-side panel).
	w.openFolder = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), nil)
	w.openFolder.Hide()
	w.transport = container.NewVBox(
		container.NewBorder(nil, nil, container.NewHBox(w.pauseBtn, step, snap, w.recBtn), full),
		container.NewBorder(nil, nil, nil, container.NewHBox(w.openFolder, w.extra), w.message))

	video := container.NewStack(w.live, container.NewBorder(w.banner.content, nil, nil, nil, layout.NewSpacer()))
	left := container.NewBorder(w.hud.content, w.transport, nil, nil, video)
	split := container.NewHSplit(left, w.tabs)
	split.Offset = 0.68
	// The Labels tab takes most of the window while it is shown.
	w.tabs.OnSelected = func(ti *container.TabItem) { w.labels.shown(split, ti.Content == w.labels.content) }
	return split
}

// install shows the camera's view in the window, with its shortcuts.
func (w *mainWindow) install() {
	w.win.SetContent(w.content)
	w.win.Canvas().SetOnTypedRune(w.typedRune)
	w.win.Canvas().SetOnTypedKey(w.typedKey)
}

// typedKey: Esc cancels a scene edit, else leaves full screen.
func (w *mainWindow) typedKey(e *fyne.KeyEvent) {
	switch {
	case e.Name != fyne.KeyEscape:
	case w.scenes.edit.adding != "":
		w.scenes.edit.cancel()
	case w.win.FullScreen():
		w.setFullScreen(false)
	}
}

// backendConfig is the live view's backends as the command line and the
// saved settings say: the environment's Azure resource wins over the
// saved one.
func (w *mainWindow) backendConfig() backend.Config {
	return backend.Config{
		Mode:           w.cfg.Mode,
		Options:        analyzer.Options{Threshold: analysisThreshold},
		Vision:         w.vision(),
		Privacy:        w.st.BlurFaces && w.faces != nil,
		LocalFPS:       w.cfg.FPSLimit,
		CloudPerMinute: w.st.CloudPerMinute,
		CloudPerDay:    w.st.CloudPerDay,
		CacheTTL:       w.st.CacheTTL,
	}
}

// vision is the Image Analysis resource: the environment's, else the
// saved endpoint with the key from the key store.
func (w *mainWindow) vision() backend.Azure {
	if w.cfg.Vision.Configured() {
		return w.cfg.Vision
	}
	endpoint := w.st.VisionEndpoint
	if endpoint == "" {
		endpoint = w.cfg.Vision.Endpoint
	}
	key, _ := w.keys.Get(keyVision)
	return backend.Azure{Endpoint: endpoint, Key: key}
}

// applySettings takes saved settings into use.
func (w *mainWindow) applySettings(s settings) {
	*w.st = s
	s.save(w.app.Preferences())
	w.snaps.SetDir(s.SnapshotDir)
	if w.clips != nil {
		_ = w.clips.SetDir(clipDir(s)) // a folder that cannot be made fails the next clip, said then
	}
	if w.shell == nil {
		w.startPlant() // the shell restarts them once for all its cameras
	}
	w.p.SetFilter(func(f *overlay.Filter) { f.BlurFaces = s.BlurFaces })
	err := errors.Join(
		w.p.SetCloud(w.vision(), s.CloudPerMinute, s.CloudPerDay, s.CacheTTL),
		w.p.SetPrivacy(s.BlurFaces && w.faces != nil))
	w.controls.refreshCloud()
	if w.shell != nil {
		w.shell.settingsApplied(w, s)
	}
	if err != nil {
		w.say("Settings saved, but not applied: " + text.OneLine(err.Error(), 90))
		return
	}
	w.say("Settings saved.")
}

// onEvent hears the pipeline's events (on the bus's goroutine).
func (w *mainWindow) onEvent(e event.Event) {
	switch e := e.(type) {
	case *event.Snapshot:
		onUI(func() { w.saved("Snapshot saved (and -clean.png)", e.Path) })
	case *event.Clip:
		at := time.Now()
		onUI(func() {
			w.scenes.clips.add(e, at)
			w.saved("Clip saved", e.File)
		})
	case *event.Alert:
		at := time.Now()
		onUI(func() {
			w.scenes.alert(e, at)
			w.banner.alarm("⚠ "+e.Rule+": "+e.Detail, 8*time.Second)
		})
	case *event.OutputError:
		if e.Output == "recording" {
			w.p.recordingFailed()
		}
		onUI(func() {
			w.say("The " + e.Output + " stopped: " + text.OneLine(e.Error, 90))
			w.refreshRecordButton()
		})
	case *event.Status:
		st := video.Status{State: video.State(e.State), Detail: e.Detail}
		onUI(func() {
			w.banner.set(bannerText(st), st.State)
			if noSignal(st) {
				w.live.say(text.OneLine("No signal — "+st.Detail, 90))
			}
			if st.State == video.StatePlaying && (w.shell == nil || w.shell.shows(w)) {
				w.win.SetTitle("Sightline — " + filepath.Base(w.p.Source()))
			}
		})
	}
}

// loadScene shows and follows the scene of source: from the command line
// (given), else the one saved for the source, else none.
func (w *mainWindow) loadScene(source string, given *scene.Config) {
	var cfg scene.Config
	switch saved, ok := w.st.Scenes[source]; {
	case given != nil:
		cfg = *given
	case ok:
		if c, err := scene.Parse([]byte(saved)); err == nil {
			cfg = c
		}
	}
	w.scenes.set(cfg)
	if err := w.p.SetScene(sceneOrNil(cfg)); err != nil {
		w.say("Scene: " + text.OneLine(err.Error(), 90))
	}
}

// applyScene follows an edited scene and keeps it for the source.
func (w *mainWindow) applyScene(cfg scene.Config) error {
	if err := w.p.SetScene(sceneOrNil(cfg)); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	w.st.Scenes[w.p.Source()] = string(b)
	w.st.save(w.app.Preferences())
	return nil
}

// sceneOrNil: an empty scene is no scene (no tracking cost).
func sceneOrNil(cfg scene.Config) *scene.Config {
	if len(cfg.Lines) == 0 && len(cfg.Zones) == 0 && len(cfg.Rules) == 0 && len(cfg.Inspections) == 0 {
		return nil
	}
	return &cfg
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

// pickBackend is the OCR panel's backend choice. The cloud comes as the
// live view uses it: behind face blurring when privacy is on.
func (w *mainWindow) pickBackend(label string) (analyzer.Analyzer, error) {
	if label == "Azure" {
		if c := w.p.CloudAnalyzer(); c != nil {
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
		w.openFolder.Hide()
	}
}

// saved says where a file went, with a button that opens its folder.
func (w *mainWindow) saved(msg, path string) {
	w.say(msg + ": " + path)
	dir := filepath.Dir(path)
	w.openFolder.OnTapped = func() {
		if err := w.app.OpenURL(&url.URL{Scheme: "file", Path: dir}); err != nil {
			w.say("Cannot open " + dir + ": " + err.Error())
		}
	}
	w.openFolder.Show()
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
	// The chip changes at once, not at the next meter reading.
	state, c := stateChip(w.p.Status(), paused, false)
	set(w.hud.state, state, c)
}

// toggleFullScreen gives the video the whole screen, with only the HUD
// above it (F, or Esc to leave).
func (w *mainWindow) toggleFullScreen() { w.setFullScreen(!w.win.FullScreen()) }

func (w *mainWindow) setFullScreen(on bool) {
	for _, o := range []fyne.CanvasObject{w.tabs, w.transport} {
		if on {
			o.Hide()
		} else {
			o.Show()
		}
	}
	w.win.SetFullScreen(on)
}

// snapshot saves the current frame, clean and annotated, through the
// pipeline's snapshot output; the snapshot event says where.
func (w *mainWindow) snapshot() {
	if _, _, ok := w.p.Frame(image.Rectangle{}); !ok {
		w.say("No picture to save yet.")
		return
	}
	w.snaps.Request()
	if w.p.Paused() {
		w.p.Redraw()
	}
}

func (w *mainWindow) toggleRecord() {
	if w.p.Recording() != nil {
		w.recBtn.Disable()
		go func() { // finalising waits for the frame being written
			path, err := w.p.StopRecording()
			onUI(func() {
				w.refreshRecordButton()
				if err != nil {
					w.say("Recording " + path + ": " + text.OneLine(err.Error(), 90))
					return
				}
				w.saved("Recording saved", path)
			})
		}()
		return
	}
	if err := os.MkdirAll(w.st.SnapshotDir, 0o755); err != nil {
		w.say("Recording: " + err.Error())
		return
	}
	path := filepath.Join(w.st.SnapshotDir, "sightline-"+stamp(time.Now())+".mp4")
	if err := w.p.StartRecording(path); err != nil {
		w.say("Recording failed: " + text.OneLine(err.Error(), 90))
		return
	}
	w.refreshRecordButton()
	w.saved("Recording to", path)
}

// refreshRecordButton shows whether a recording runs; UI thread.
func (w *mainWindow) refreshRecordButton() {
	w.recBtn.Enable()
	if w.p.Recording() != nil {
		w.recBtn.SetText("Stop")
		w.recBtn.Importance = widget.DangerImportance
	} else {
		w.recBtn.SetText("Record")
		w.recBtn.Importance = widget.MediumImportance
	}
	w.recBtn.Refresh()
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
		w.ocr.act()
	case 'p', 'P':
		w.tabs.SelectIndex(2)
		w.cv.predict()
	case '+', '=':
		w.controls.nudgeThreshold(threshStep)
	case '-', '_':
		w.controls.nudgeThreshold(-threshStep)
	case 'f', 'F':
		w.toggleFullScreen()
	case 'm', 'M':
		w.say(w.labels.mark())
	case 'c', 'C':
		w.clipNow()
	}
}

// start runs the pipeline and the meters until ctx ends.
func (w *mainWindow) start(ctx context.Context) {
	if w.shell == nil {
		w.startPlant() // the shell starts them once for all its cameras
	}
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		w.p.Run(ctx)
	}()
	go func() {
		defer w.wg.Done()
		w.sampleLoop(ctx)
	}()
}

// sampleLoop reads the meters once a second and updates the HUD, the
// stats, the scene and the class list.
func (w *mainWindow) sampleLoop(ctx context.Context) {
	prev := w.sample()
	everySecond(ctx, func() {
		cur := w.sample()
		outs := w.plant.outs.Load().Status()
		m := rates(prev, cur)
		prev = cur
		st, paused, cloud := w.p.Status(), w.p.Paused(), w.p.Cloud()
		threshold := w.p.Filter().Threshold
		classes := seenClasses(cur.view.Analysis)
		onUI(func() {
			w.hud.update(m, cur, st, paused, cloud)
			w.stats.update(m, cur.stats)
			w.settings.setCloud(cur.stats, cloud)
			w.settings.connections.show(outs, *w.st, w.plant.err)
			w.scenes.update(cur.view.Scene, cur.view.Inspect, cur.totals, cur.at)
			w.caption.update(&cur.view.Merged, cloud, azure.Reason(cur.stats.Cloud.LastError), threshold)
			w.controls.setClasses(classes)
			if w.onSample != nil {
				w.onSample(m, cur)
			}
		})
	})
}

func (w *mainWindow) sample() sample {
	st := w.p.Stats()
	s := sample{at: time.Now(), read: st.FramesRead, shown: w.p.display.shown.Load(), stats: st.Schedule,
		view: w.p.HeldView(), staleAfter: w.p.staleAfter(), mode: w.p.Mode()}
	w.p.SceneTotals(&s.totals)
	if r := w.p.Recording(); r != nil {
		s.recording, s.recorded = true, r.Duration()
	}
	return s
}

// halt stops the pipeline, the meters and the events while the UI loop
// still runs (the shell quits once they have: after Fyne's loop, a
// goroutine's fyne.Do runs at once on that goroutine, racing the others);
// the channel closes when they have stopped. UI thread.
func (w *mainWindow) halt() <-chan struct{} {
	w.say("Stopping…")
	w.cancel()
	stopped := make(chan struct{})
	go func() {
		w.wg.Wait()
		w.bus.Close() // the last events reach the screen
		close(stopped)
	}()
	return stopped
}

// stop waits for the goroutines and frees what the window holds.
func (w *mainWindow) stop() {
	w.wg.Wait()
	w.bus.Close()
	if w.shell == nil {
		w.plant.stop()
	}
	if w.clips != nil {
		w.clips.Close()
	}
	w.ocr.close()
	w.cv.close()
}
