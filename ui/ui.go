// Package ui is Sightline's desktop app: the live view with the overlay,
// the HUD and the controls.
package ui

import (
	"context"
	"os"
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/assets"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/scene"
)

// Config is what the command line sets.
type Config struct {
	Source    string
	Mode      schedule.Mode
	Threshold float64
	FPSLimit  float64
	// Vision is the Image Analysis resource the environment names; it wins
	// over the saved settings.
	Vision backend.Azure
	// Scene is followed on the live view (`gui --scene`); nil: none.
	Scene *scene.Config
	// ExitAfter, when set, measures the display for that long after the
	// first frame, writes the DisplayReport to Report (if set) and quits.
	ExitAfter time.Duration
	Report    string
	Version   string // Sightline's, in OpenTelemetry
	// Device is where the live view's and the OCR panel's local models
	// run (gui --device).
	Device local.Device
	// Cameras, when set (`gui --cameras FILE`), are shown on a wall
	// instead of the saved cameras or Source.
	Cameras []Camera
	// Camera is the name a camera's events carry ("" for a single one).
	Camera string
	// Booth starts in booth mode (`gui --booth`).
	Booth bool
}

// LocalOptions are the local backend's settings for the live view: one
// ONNX Runtime thread a model. With two, the models take both cores of a
// small machine and the screen showed 0.79× of a 25 fps source under Xvfb;
// with one, 0.975×, boxes refreshing a little slower (measured with
// SIGHTLINE_MEASURE=1 go test ./ui -run TestMeasureDisplayRate). The
// cameras of a wall share it: each analyses one frame at a time (its
// scheduler's one local worker), on a pool of a detector a core, so N
// cameras share the cores rather than each wanting them all.
var LocalOptions = local.Options{Threads: 1, Detectors: runtime.NumCPU()}

// Run shows the main window until it is closed or ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	launched := time.Now()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := app.NewWithID("io.github.sightline")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	// A saved model folder applies when the environment names none; the
	// models load lazily, after this.
	if dir := a.Preferences().String("modelDir"); dir != "" && os.Getenv("SIGHTLINE_MODELS") == "" {
		os.Setenv("SIGHTLINE_MODELS", dir)
	}
	d := windowDeps{keys: newKeyStore(osKeyring{}, os.Getenv)}
	// The OCR panel reads with its own local backend so that a
	// seconds-long read never holds up the live boxes; it also finds the
	// faces privacy blurs before anything goes to the cloud. Models load
	// on first use, so an unused backend costs nothing.
	pl := local.New(local.Options{Device: cfg.Device})
	defer pl.Close()
	d.panelLocal, d.faces = pl, pl
	// The live view's own models, for the app's whole life.
	lo := LocalOptions
	lo.Device = cfg.Device
	live := local.New(lo)
	defer live.Close()
	d.build = func(c backend.Config) (schedule.Options, error) { return backend.Schedule(c, live) }
	sh := newShell(ctx, a, cfg, d)
	a.Lifecycle().SetOnStarted(sh.begin)
	sh.win.SetCloseIntercept(sh.quit)
	// Quit when the caller cancels (Ctrl-C), but not after the window has
	// closed by itself: the UI loop is gone then.
	closed := make(chan struct{})
	go func() {
		select {
		case <-parent.Done():
			onUI(sh.quit)
		case <-closed:
		}
	}()
	if cfg.ExitAfter > 0 {
		go sh.measure(launched, cfg.ExitAfter, cfg.Report, func() { onUI(sh.quit) })
	}
	if testHook != nil {
		go testHook(sh.cams[0].w)
	}
	if shellHook != nil {
		go shellHook(sh)
	}
	sh.win.ShowAndRun()
	uiClosed.Store(true) // whichever way the loop ended
	close(closed)
	cancel()
	sh.stop()
	return nil
}

// testHook and shellHook, when set (by the GUI test's child process), run
// once the window starts, on their own goroutines: testHook with the first
// camera's view.
var (
	testHook  func(*mainWindow)
	shellHook func(*shell)
)

// defaultSource is the first webcam when one opens, else the demo video.
func defaultSource() string {
	if _, err := os.Stat("/dev/video0"); err == nil {
		return "webcam:0"
	}
	return deps.DemoVideo
}
