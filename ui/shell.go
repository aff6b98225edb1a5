package ui

import (
	"cmp"
	"context"
	"errors"
	"image"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/plant"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/text"
)

// shell is the app's window. It plays every camera (each its own
// mainWindow: pipeline, panels, events) and shows one page at a time: a
// camera's full view, the wall of every camera's tile, or the Fleet page;
// booth mode is the wall full screen for a room. With one camera the app
// is that camera's view, as it always was.
type shell struct {
	ctx  context.Context
	app  fyne.App
	win  fyne.Window
	cfg  Config
	deps windowDeps // what every camera's view gets; settings and shell set
	st   *settings  // shared by the cameras' views
	// clock times the tiles' alerts.
	clock event.Clock

	cams  []*camera
	wall  *wall
	fleet *fleetPage
	// saved: the cameras playing are the saved list (edits are kept),
	// not the command line's.
	saved bool

	// The page shown: focused's view, else the fleet page when onFleet,
	// else the wall. back is the camera to return to from the fleet page.
	focused, back *camera
	onFleet       bool
	booth         bool
	boothFrom     *camera
	applying      bool // settings are being passed to every camera
	quitting      bool
	// plant is the outputs of every camera (Settings › Connections).
	plant *plantOutputs
	// playing: the cameras' pipelines run (begin). Until the UI loop runs,
	// fyne.Do would run their frames on their own goroutines, racing the
	// window being built.
	playing bool

	stopping sync.WaitGroup // cameras being stopped
}

// camera is one camera playing: its view, its tile and its Cameras tab.
type camera struct {
	spec    Camera
	w       *mainWindow
	tile    *tile
	panel   *camerasPanel
	wallBtn *widget.Button
	// problem is why its configuration is incomplete (a bad scene file).
	problem error
	ctx     context.Context
	cancel  context.CancelFunc
	started bool
}

// newShell builds the window and starts the cameras; Run shows it.
func newShell(ctx context.Context, a fyne.App, cfg Config, d windowDeps) *shell {
	s := &shell{ctx: ctx, app: a, win: a.NewWindow("Sightline"), cfg: cfg, clock: clock.Real{},
		plant: &plantOutputs{ctx: ctx, keys: d.keys, version: cfg.Version}}
	st := loadSettings(a.Preferences())
	s.st = &st
	d.settings, d.shell = s.st, s
	s.deps = d
	s.wall = newWall(s)
	s.fleet = newFleetPage(s)
	s.setRunning(s.specs())
	s.win.Resize(fyne.NewSize(1280, 800))
	s.home()
	if cfg.Booth {
		s.setBooth(true)
	}
	return s
}

// specs are the cameras to play: the listed ones, else one camera on
// --source or the default source.
func (s *shell) specs() []Camera {
	if cams := s.listed(); len(cams) > 0 {
		return cams
	}
	return []Camera{{Source: cmp.Or(s.cfg.Source, defaultSource())}}
}

// listed is the camera list in use: the command line's (--cameras), else
// the saved one unless --source names a single source. The Cameras tab
// edits it; an edit is saved and used from then on.
func (s *shell) listed() []Camera {
	switch {
	case s.saved:
	case len(s.cfg.Cameras) > 0:
		return s.cfg.Cameras
	case s.cfg.Source != "":
		return nil
	}
	return s.st.Cameras
}

// setRunning plays specs: cameras already playing as specified go on
// undisturbed, the others stop, new ones start; UI thread.
func (s *shell) setRunning(specs []Camera) {
	old := slices.Clone(s.cams)
	var next []*camera
	for _, spec := range specs {
		if i := slices.IndexFunc(old, func(c *camera) bool { return c != nil && c.spec == spec }); i >= 0 {
			next = append(next, old[i])
			old[i] = nil
			continue
		}
		next = append(next, s.startCamera(spec))
	}
	for _, c := range old {
		if c != nil {
			s.stopCamera(c)
		}
	}
	s.cams = next
	tiles := make([]*tile, len(next))
	for i, c := range next {
		tiles[i] = c.tile
		c.wallBtn.Hidden = len(next) < 2
		c.panel.refresh()
	}
	s.wall.setTiles(tiles)
	s.route()
	if s.playing {
		s.startPlant()
	}
}

// startCamera builds a camera's view and tile and plays it.
func (s *shell) startCamera(spec Camera) *camera {
	cfg := s.cfg
	cfg.Source, cfg.Camera, cfg.Cameras = spec.Source, spec.Name, nil
	if m, err := schedule.ParseMode(spec.Backend); spec.Backend != "" && err == nil {
		cfg.Mode = m
	}
	c := &camera{spec: spec, tile: newTile(spec.title())}
	if spec.Scene != "" {
		if sc, err := scene.Load(spec.Scene); err != nil {
			c.problem = err
		} else {
			cfg.Scene = &sc
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	c.cancel = cancel
	c.w = newMainWindow(ctx, s.app, cfg, s.deps)
	c.w.cancel = cancel
	c.panel = newCamerasPanel(s)
	c.w.tabs.Append(container.NewTabItemWithIcon("Cameras", theme.VisibilityIcon(), c.panel.content))
	c.wallBtn = widget.NewButtonWithIcon("Wall", theme.GridIcon(), s.showWall)
	c.w.extra.Add(c.wallBtn)
	c.tile.onTap = func() { s.focus(c) }
	c.tile.scale = func() float32 { return s.win.Canvas().Scale() }
	c.tile.onFit = func(px image.Point) {
		if s.onWall() {
			c.w.p.display.setFit(&px)
		}
	}
	c.w.p.display.show = func(img *image.RGBA) {
		if s.focused == c {
			c.w.live.setImage(img)
		} else {
			c.tile.setImage(img)
		}
	}
	c.w.onSample = func(m meters, cur sample) {
		p := c.w.p
		c.tile.update(tileInput{status: p.Status(), paused: p.Paused(), stale: cur.stale(), problem: errors.Join(c.problem, p.BuildError()),
			sample: cur, meters: m, threshold: p.Filter().Threshold})
	}
	c.w.bus.Attach(event.SinkFunc(func(e event.Event) {
		if a, ok := e.(*event.Alert); ok {
			at := s.clock.Now()
			onUI(func() { c.tile.alerted(a, at) })
		}
	}))
	c.ctx = ctx
	if s.playing {
		s.play(c)
	}
	return c
}

// begin plays the cameras, once the UI loop runs; UI thread.
func (s *shell) begin() {
	s.playing = true
	for _, c := range s.cams {
		s.play(c)
	}
	s.startPlant()
	s.fleet.start()
}

// play starts c's pipeline and meters, once.
func (s *shell) play(c *camera) {
	if !c.started {
		c.started = true
		c.w.start(c.ctx)
	}
}

// stopCamera ends a camera in the background; stop waits for it.
func (s *shell) stopCamera(c *camera) {
	if s.focused == c {
		s.focused = nil
	}
	s.end(c)
}

// end cancels c and stops it in the background; stopping waits for it.
func (s *shell) end(c *camera) {
	c.cancel()
	s.stopping.Add(1)
	go func() {
		defer s.stopping.Done()
		c.w.stop()
	}()
}

// stop waits for every camera to end and closes the fleet's connection;
// the context has ended. It changes nothing the cameras read until they
// have ended: once Fyne's loop has stopped, their last UI work runs on
// their own goroutines.
func (s *shell) stop() {
	for _, c := range s.cams {
		s.end(c)
	}
	s.stopping.Wait()
	s.plant.stop()
	s.fleet.close()
	s.wall.hider.close()
}

// setCameras saves a new camera list and plays it; UI thread.
func (s *shell) setCameras(cams []Camera) error {
	if err := checkCameras(cams); err != nil {
		return err
	}
	s.st.Cameras = cams
	s.st.save(s.app.Preferences())
	s.saved = true
	s.setRunning(s.specs())
	switch {
	case s.onFleet:
	case s.focused != nil && len(s.cams) > 1:
		s.focus(s.focused) // its wall button and Cameras tab changed
	default:
		s.home()
	}
	return nil
}

// home is the first page: the only camera's view, or the wall.
func (s *shell) home() {
	if len(s.cams) == 1 {
		s.focus(s.cams[0])
		return
	}
	s.showWall()
}

// focus shows a camera's own view, full size with its panels; UI thread.
func (s *shell) focus(c *camera) {
	s.focused, s.onFleet = c, false
	s.route()
	c.w.install()
	s.win.Canvas().SetOnTypedRune(func(r rune) {
		if r == 'b' || r == 'B' {
			s.setBooth(true)
			return
		}
		c.w.typedRune(r)
	})
	s.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyEscape && len(s.cams) > 1 && c.w.scenes.edit.adding == "" && !s.win.FullScreen() {
			s.showWall()
			return
		}
		c.w.typedKey(e)
	})
	s.win.SetTitle("Sightline — " + c.spec.title())
	c.panel.refresh()
	if c.w.p.Paused() {
		c.w.p.Redraw() // its picture, which went to its tile
	}
}

// showWall shows every camera's tile; UI thread.
func (s *shell) showWall() {
	s.focused, s.onFleet = nil, false
	s.route()
	s.win.SetContent(s.wall.content)
	s.win.Canvas().SetOnTypedRune(func(r rune) {
		if r == 'b' || r == 'B' {
			s.setBooth(!s.booth)
		}
	})
	s.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyEscape && s.booth {
			s.setBooth(false)
		}
	})
	s.win.SetTitle("Sightline — " + s.wall.title.Text)
}

// showFleet shows the Fleet page, Esc or its Back button returning; UI
// thread.
func (s *shell) showFleet() {
	if !s.onFleet {
		s.back = s.focused
	}
	s.focused, s.onFleet = nil, true
	s.route()
	s.fleet.refresh()
	s.win.SetContent(s.fleet.content)
	s.win.Canvas().SetOnTypedRune(nil)
	s.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyEscape {
			s.leaveFleet()
		}
	})
	s.win.SetTitle("Sightline — Fleet")
}

// leaveFleet returns to the camera the fleet page was opened from, else
// home.
func (s *shell) leaveFleet() {
	if s.back != nil && slices.Contains(s.cams, s.back) {
		s.focus(s.back)
		return
	}
	s.home()
}

// setBooth turns booth mode on (the wall, full screen, no toolbar, large
// counters and captions, the pointer hidden when still) or off, back to
// the page it was turned on from; UI thread.
func (s *shell) setBooth(on bool) {
	if on == s.booth {
		return
	}
	s.booth = on
	if on {
		s.boothFrom = s.focused
		if s.focused != nil && s.win.FullScreen() {
			s.focused.w.setFullScreen(false) // its panels come back after
		}
		s.showWall()
		s.wall.setBooth(true)
		s.win.SetFullScreen(true)
		return
	}
	s.wall.setBooth(false)
	s.win.SetFullScreen(false)
	if s.boothFrom != nil && slices.Contains(s.cams, s.boothFrom) {
		s.focus(s.boothFrom)
		return
	}
	s.home()
}

func (s *shell) onWall() bool { return s.focused == nil && !s.onFleet }

// route sends each camera's frames where they are seen: the focused one's
// at full size to its view, the wall's scaled to their tiles, none when
// off screen.
func (s *shell) route() {
	for _, c := range s.cams {
		switch {
		case s.focused == c:
			c.w.p.display.setFit(nil)
		case !s.onWall():
			c.w.p.display.setFit(&image.Point{})
		default:
			px := c.tile.px
			if px == (image.Point{}) {
				px = image.Pt(640, 360) // until the tile is laid out
			}
			c.w.p.display.setFit(&px)
		}
	}
}

// shows reports whether w is the view on screen; UI thread.
func (s *shell) shows(w *mainWindow) bool { return s.focused != nil && s.focused.w == w }

// cameraOf is the camera whose view is w.
func (s *shell) cameraOf(w *mainWindow) *camera {
	for _, c := range s.cams {
		if c.w == w {
			return c
		}
	}
	return nil
}

// currentSource is the source on screen, to start a new camera from.
func (s *shell) currentSource() string {
	if s.focused != nil {
		return s.focused.w.p.Source()
	}
	return ""
}

// sourceChanged: a camera's view switched its source; its tile starts
// over and a saved camera keeps the new source; UI thread.
func (s *shell) sourceChanged(w *mainWindow, uri string) {
	c := s.cameraOf(w)
	if c == nil {
		return
	}
	c.tile.clear(text.OneLine("Opening "+uri+" …", 90))
	if cams := s.listed(); len(cams) > 0 {
		if i := slices.IndexFunc(cams, func(x Camera) bool { return x == c.spec }); i >= 0 {
			cams[i].Source = uri // the list's own entry: the command line's, or the saved one
		}
		if s.saved || len(s.cfg.Cameras) == 0 {
			s.st.save(s.app.Preferences())
		}
	}
	c.spec.Source = uri
	for _, o := range s.cams {
		o.panel.refresh()
	}
}

// settingsApplied passes settings saved in one camera's view to the
// others and to the Fleet page; UI thread.
func (s *shell) settingsApplied(from *mainWindow, st settings) {
	if s.applying {
		return
	}
	s.applying = true
	defer func() { s.applying = false }()
	for _, c := range s.cams {
		if c.w != from {
			c.w.applySettings(st)
			c.w.settings.load(st)
		}
	}
	s.fleet.configure()
	s.startPlant()
}

// startPlant (re)starts the plant's outputs on every camera; UI thread.
func (s *shell) startPlant() {
	cams := make([]plant.Camera, len(s.cams))
	for i, c := range s.cams {
		cams[i] = c.w.plantCamera()
	}
	s.plant.start(*s.st, cams)
}

// quit stops every camera while the UI loop still runs, then quits; UI
// thread.
func (s *shell) quit() {
	if s.quitting {
		return
	}
	s.quitting = true
	halted := make([]<-chan struct{}, len(s.cams))
	for i, c := range s.cams {
		halted[i] = c.w.halt()
	}
	go func() {
		// A stuck source must not keep the window open.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, h := range halted {
			select {
			case <-h:
			case <-ctx.Done():
			}
		}
		closeUI(s.app.Quit)
	}()
}
