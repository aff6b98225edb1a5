package ui

import (
	"errors"
	"image"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// analysisThreshold is the confidence the live view asks the models for:
// low, so that lowering the slider reveals boxes from the results already
// there without a new analysis.
const analysisThreshold = 0.05

// builder makes the scheduler options from the backends' configuration:
// backend.Schedule with the app's local models; tests pass their own.
type builder func(backend.Config) (schedule.Options, error)

// player is the live view's side of the pipeline: it turns the controls'
// and the settings' choices into the pipeline's configuration, and shows
// the pipeline's frames through the display mailbox.
type player struct {
	*pipeline.Pipeline
	build   builder
	display *display

	mu       sync.Mutex
	backends backend.Config
	// buildErr is why the last configuration could not be built (a
	// missing model, a bad endpoint); the old one stays in use.
	buildErr error
	rec      *pipeline.Recording
}

// newPlayer builds the pipeline for cfg; its events go to bus, the
// source's packets to packets (clips; nil: none), and inspection points
// get their models and log through insp.
func newPlayer(cfg Config, bc backend.Config, build builder, bus *event.Bus, packets video.PacketSink, insp inspect.Options) *player {
	source := cfg.Source
	if source == "" {
		source = defaultSource()
	}
	p := &player{build: build, backends: bc, display: newDisplay()}
	// The models load on the first analysis, off the UI thread: neither
	// the window nor the first frame waits for them. Later changes load
	// what they need at once, so a missing model is said then.
	first := bc
	first.LoadLater = true
	opts, err := build(first)
	opts.Local = yielding(opts.Local)
	p.buildErr = err
	pc := pipeline.Config{
		Source:   source,
		Video:    video.Options{Realtime: true, Packets: packets},
		Schedule: opts,
		Keep:     true,
		Filter:   overlay.Filter{Threshold: cfg.Threshold},
		Scene:    cfg.Scene,
		Events:   bus,
		// The live view never waits for an inspection's model.
		Inspection: inspect.Options{Offload: true, Cloud: insp.Cloud, LogDir: insp.LogDir},
	}
	pl, err := pipeline.New(pc)
	if err != nil { // the command line validated the scene: not expected
		p.buildErr = errors.Join(p.buildErr, err)
		pc.Scene = nil
		pl, _ = pipeline.New(pc)
	}
	p.Pipeline = pl
	p.Attach("display", p.display)
	return p
}

// reconfigure rebuilds the scheduler options after change; on failure the
// pipeline keeps what it has and the error is kept for the user.
func (p *player) reconfigure(change func(*backend.Config)) error {
	p.mu.Lock()
	next := p.backends
	next.Features = slices.Clone(next.Features)
	change(&next)
	opts, err := p.build(next)
	if err == nil {
		p.backends = next
		opts.Local = yielding(opts.Local)
	}
	p.buildErr = err
	p.mu.Unlock()
	if err != nil {
		return err
	}
	p.Reconfigure(func(o *schedule.Options) { *o = opts })
	return nil
}

// BuildError is why the backends could not be built as asked, nil if they
// were.
func (p *player) BuildError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buildErr
}

// Want makes sure the pipeline computes fs. Features are never dropped:
// hiding a layer is only a filter change.
func (p *player) Want(fs ...analyzer.Feature) error {
	missing := slices.DeleteFunc(slices.Clone(fs), p.Features().Has)
	if len(missing) == 0 {
		return nil
	}
	return p.reconfigure(func(c *backend.Config) { c.Features = append(p.Features(), missing...) })
}

// Features are what the pipeline is asked to compute.
func (p *player) Features() analyzer.Features { return slices.Clone(p.Schedule().Features) }

// SetMode switches the backend; it reaches the running scheduler at once.
func (p *player) SetMode(m schedule.Mode) {
	p.mu.Lock()
	p.backends.Mode = m
	p.mu.Unlock()
	p.Pipeline.SetMode(m)
}

// SetCloud takes new Azure settings and budgets into use.
func (p *player) SetCloud(vision backend.Azure, perMinute float64, perDay int, cacheTTL time.Duration) error {
	hadCloud := p.Cloud()
	return p.reconfigure(func(c *backend.Config) {
		c.Vision, c.CloudPerMinute, c.CloudPerDay, c.CacheTTL = vision, perMinute, perDay, cacheTTL
		if c.Features != nil && vision.Configured() && !hadCloud && !c.Features.Has(analyzer.FeatureCaption) {
			c.Features = append(c.Features, analyzer.FeatureCaption)
		}
	})
}

// SetPrivacy blurs faces before frames go to the cloud, and asks for them
// so recordings and the view blur them too.
func (p *player) SetPrivacy(on bool) error {
	return p.reconfigure(func(c *backend.Config) { c.Privacy = on })
}

// Cloud reports whether a cloud backend is configured.
func (p *player) Cloud() bool { return p.Schedule().Cloud != nil }

// CloudAnalyzer is the cloud backend in use (behind privacy blurring when
// it is on), nil when none is configured.
func (p *player) CloudAnalyzer() analyzer.Analyzer { return p.Schedule().Cloud }

// SetThreshold changes the confidence the boxes are drawn at (the
// slider); the display times the change to the screen.
func (p *player) SetThreshold(v float64) {
	p.display.thresholdChanged(v)
	p.SetFilter(func(f *overlay.Filter) { f.Threshold = v })
}

// SetFPSLimit caps analyses a second (0: as many as the backends manage).
func (p *player) SetFPSLimit(v float64) {
	p.Reconfigure(func(o *schedule.Options) { o.LocalFPS = v })
}

// FPSLimit is the cap on analyses a second.
func (p *player) FPSLimit() float64 { return p.Schedule().LocalFPS }

// staleAfter is how old boxes may get before the view stops calling them
// live: three times the interval the analysis promises (local boxes at
// their rate limit, the cloud at its budget's pace), and never under 3 s.
func (p *player) staleAfter() time.Duration {
	o := p.Schedule()
	interval := time.Second
	if o.LocalFPS > 0 {
		interval = time.Duration(float64(time.Second) / o.LocalFPS)
	}
	if o.Mode == schedule.ModeCloud {
		perMinute := o.CloudPerMinute
		if perMinute <= 0 {
			perMinute = 20 // the scheduler's default
		}
		interval = time.Duration(float64(time.Minute) / perMinute)
	}
	return max(3*time.Second, 3*interval)
}

// Mode is the backend choice.
func (p *player) Mode() schedule.Mode { return p.Schedule().Mode }

// Frame returns a copy of the newest frame, cropped to region when it is
// not empty, with its sequence number; ok is false before the first frame.
// The caller closes the Mat.
func (p *player) Frame(region image.Rectangle) (gocv.Mat, int64, bool) { return p.HeldFrame(region) }

// StartRecording records what is drawn to path until StopRecording.
func (p *player) StartRecording(path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rec != nil {
		return nil
	}
	if _, _, ok := p.HeldFrame(image.Rectangle{}); !ok {
		return errors.New("no picture yet")
	}
	p.rec = pipeline.NewRecording(path)
	p.Attach("recording", p.rec)
	return nil
}

// StopRecording ends the recording, finalising the file, and returns its
// path ("" when none). It waits for the frame being written: call it off
// the UI thread.
func (p *player) StopRecording() (string, error) {
	p.mu.Lock()
	r := p.rec
	p.rec = nil
	p.mu.Unlock()
	if r == nil {
		return "", nil
	}
	return r.Path(), p.Detach("recording")
}

// Recording is the recording running, nil when none.
func (p *player) Recording() *pipeline.Recording {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rec
}

// recordingFailed forgets a recording the pipeline detached after it
// failed.
func (p *player) recordingFailed() {
	p.mu.Lock()
	p.rec = nil
	p.mu.Unlock()
}

// display shows the pipeline's frames. The screen takes pictures through
// a one-slot mailbox: the newest picture waits in queued while the UI
// thread is busy and replaces an older one still waiting, so the display
// never lags behind the source and one slow repaint does not cost a frame.
// Three pictures: one on screen, one queued, one being drawn.
//
// A picture is no larger than the live view in pixels, or a wall's tile
// (fit.go): a 1080p frame is
// scaled down here, on the pipeline's goroutine, before its conversion to
// RGBA, so the UI thread hands the GPU a texture of the view's size instead
// of 8 MB to upload and scale every frame (0.27× of a 30 fps 1080p source
// reached the screen under Xvfb that way).
type display struct {
	// schedule runs f on the UI thread (fyne.Do in the window); show puts
	// a picture on screen there.
	schedule func(f func())
	show     func(img *image.RGBA)
	clock    interface{ Now() time.Time }
	shown    atomic.Int64  // pictures handed to the screen
	painted  atomic.Int64  // pictures the screen painted
	view     atomic.Uint64 // the live view's size in pixels (x<<32 | y); 0: not laid out

	mu        sync.Mutex
	pics      [3]*picture
	queued    *picture
	onScreen  *picture
	scheduled bool
	timing    displayTiming
	// fit bounds the pictures (a wall's tile); see setFit.
	fit   atomic.Pointer[image.Point]
	small gocv.Mat // scaling buffer: the pipeline's goroutine only
}

// picture is one frame made for the screen, and what the display measures
// of it.
type picture struct {
	img *image.RGBA
	// mat is a Mat over img.Pix: the conversion writes straight into the
	// picture (gocv keeps img.Pix referenced; Go does not move it).
	mat     gocv.Mat
	frame   image.Point // the frame's size, in source pixels
	drawnAt time.Time
	arrived time.Time // the frame's arrival; zero for a frame drawn again
	// threshold is the confidence it was drawn with; analysed says it
	// carries results.
	threshold float64
	analysed  bool
	painted   bool
}

func newPicture(size image.Point) (*picture, error) {
	img := image.NewRGBA(image.Rectangle{Max: size})
	m, err := gocv.NewMatFromBytes(size.Y, size.X, gocv.MatTypeCV8UC4, img.Pix)
	if err != nil {
		return nil, err
	}
	return &picture{img: img, mat: m}, nil
}

func (p *picture) size() image.Point { return p.img.Rect.Size() }

func (p *picture) close() {
	if p != nil && p.mat.Ptr() != nil {
		p.mat.Close() // the header; img.Pix stays, for a screen that still shows it
		p.mat = gocv.Mat{}
	}
}

func newDisplay() *display {
	return &display{schedule: func(f func()) { f() }, show: func(*image.RGBA) {}, clock: clock.Real{}}
}

// WriteFrame makes the drawn frame into a free picture and posts it.
func (d *display) WriteFrame(f *pipeline.Frame) error {
	drawnAt := d.clock.Now()
	bgr, frame, ok := d.fitted(f)
	if !ok {
		return nil
	}
	size := image.Pt(bgr.Cols(), bgr.Rows())
	d.mu.Lock()
	i := slices.IndexFunc(d.pics[:], func(p *picture) bool { return p == nil || (p != d.onScreen && p != d.queued) })
	pic := d.pics[i]
	d.mu.Unlock()
	if pic == nil || pic.mat.Ptr() == nil || pic.size() != size {
		pic.close()
		var err error
		if pic, err = newPicture(size); err != nil {
			return err
		}
	}
	gocv.CvtColor(bgr, &pic.mat, gocv.ColorBGRToRGBA)
	pic.frame, pic.drawnAt, pic.threshold, pic.analysed, pic.painted = frame, drawnAt, f.Filter.Threshold, f.View.Analysis != nil, false
	pic.arrived = time.Time{}
	if !f.Repeat {
		pic.arrived = f.Arrived
	}
	d.mu.Lock()
	d.pics[i] = pic
	d.queued = pic
	post := !d.scheduled
	d.scheduled = true
	d.mu.Unlock()
	if post {
		d.schedule(d.flush)
	}
	return nil
}

// flush shows the newest queued picture; UI thread.
func (d *display) flush() {
	d.mu.Lock()
	pic := d.queued
	d.queued, d.scheduled = nil, false
	if pic != nil {
		d.onScreen = pic
	}
	d.mu.Unlock()
	if pic != nil {
		d.show(pic.img)
		d.shown.Add(1)
	}
}

// paintedNow notes that the picture on screen is being painted; UI
// thread, during the paint.
func (d *display) paintedNow() {
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	pic := d.onScreen
	if pic == nil || pic.painted {
		return
	}
	pic.painted = true
	d.painted.Add(1)
	d.timing.paintedPicture(pic, now)
}

// thresholdChanged notes that the threshold became v now: the display
// times how long a picture drawn with it takes to be painted.
func (d *display) thresholdChanged(v float64) {
	now := d.clock.Now()
	d.mu.Lock()
	d.timing.change = &thresholdChange{value: v, at: now}
	d.mu.Unlock()
}

// onScreenFrame is the size, in source pixels, of the frame the picture on
// screen shows; zero before the first.
func (d *display) onScreenFrame() image.Point {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.onScreen == nil {
		return image.Point{}
	}
	return d.onScreen.frame
}

// Close frees the conversion buffers; the pipeline calls it at its end.
func (d *display) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.pics {
		p.close()
	}
	if d.small.Ptr() != nil {
		d.small.Close()
		d.small = gocv.Mat{}
	}
	return nil
}
