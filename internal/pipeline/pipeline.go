// Package pipeline is Sightline's one frame loop. A Pipeline reads a
// source, offers each frame to the scheduler, keeps the newest results of
// that source for the overlay, and hands every frame and event to the
// outputs attached to it. The app, `run` and `bench` each build one and
// attach their outputs; none of them has a loop of its own.
//
//	video.Source.Next → schedule.Scheduler.Offer ─┐
//	                   results (in order, off-lock) → analyzer.Latest → View
//	frame + View → FrameOutput.WriteFrame (display, recording, snapshots, meters)
//	events → event.Bus → Sinks (JSON lines, the app)
//
// Mats. Who creates a gocv.Mat closes it, or hands it over in a call whose
// name says so; nobody else does. A source's frame is the pipeline's until
// it calls Release, which returns the pixels to the source's pool. During
// WriteFrame an output may read Frame.Clean and Frame.Drawn, which stay the
// pipeline's, and copies what it keeps; nobody changes them. The pipeline
// lends a frame's pixels to the scheduler for its analyses
// (video.Frame.Lend): released, they go back to the pool when the last
// analysis gives them back. The pipeline owns the held frame (the last
// one, kept for pauses and the app's panels) and the drawn buffer.
//
// Frames are decoded at the size the analysis needs (a model's input)
// rather than the source's when nothing else reads them: no output
// attached when a source opens, no inspection points, and only a local
// analyzer that works on such frames (FrameSizer). Results are in the
// source's pixels all the same.
package pipeline

import (
	"context"
	"errors"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/meter"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// Clock tells the time and sets timers; internal/clock has the real and
// the fake one.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// Config says what a pipeline plays and how.
type Config struct {
	Source string
	// Video configures the source (its OnStatus is the pipeline's).
	Video video.Options
	// Schedule names the backends and features (its callbacks and, with
	// EveryFrame, its clock are the pipeline's).
	Schedule schedule.Options
	// EveryFrame analyses every frame of a file read as fast as it
	// decodes: the scheduler waits for a free local worker, and budgets
	// run on the video's own clock, so results do not depend on the
	// machine's speed.
	EveryFrame bool
	// Keep plays on: a file that ends starts again, a source that fails is
	// retried, with the reason shown, until the context ends (the app).
	// Without it Run returns at the end of the source or on its failure.
	Keep bool
	// MaxFrames stops after this many frames read (0: no limit).
	MaxFrames int64
	// Filter is what the overlay draws.
	Filter overlay.Filter
	// Scene, when set, is followed on every analysed frame: tracks,
	// counting lines, zones and alert rules (`--scene`, `--track`), and
	// its inspection points are inspected.
	Scene *scene.Config
	// Inspection is how inspection points get their cloud predictors, log
	// and budget (the pipeline sets the clock, rules and what verdicts
	// feed); with a live source, set Offload so no model holds up frames.
	Inspection inspect.Options
	// Events receives every event; the caller attaches its sinks and
	// closes it after Run.
	Events *event.Bus
	// HealthEvery publishes a health event this often (0: never).
	HealthEvery time.Duration
	// OwnSummary keeps the summary from the events: a run of several
	// cameras publishes one for them all, from each one's Summary.
	OwnSummary bool
	// Retry spaces attempts to reopen a failed source (with Keep).
	Retry clock.Backoff
	Clock Clock
}

// ErrOutputFailed means an output the user asked for failed during the
// run; the run went on without it and its summary says what was lost.
var ErrOutputFailed = errors.New("an output failed")

// Pipeline plays one source at a time through the analysis to its outputs.
type Pipeline struct {
	cfg         Config
	clock       Clock
	bus         *event.Bus
	latest      analyzer.Latest
	scene       sceneStage
	inspections inspectStage
	lat         meter.Meter // analysis latencies, every backend
	wake        chan struct{}
	// started is when Run began: the scene's clock for live sources.
	started time.Time

	framesRead, framesShown atomic.Int64
	analysed                atomic.Int64 // successful analyses

	mu sync.Mutex
	// What the user controls.
	source     string
	cancelPlay context.CancelFunc
	paused     bool
	steps      int
	redraw     bool
	filter     overlay.Filter
	schedOpts  schedule.Options
	restart    bool
	// What is playing.
	epoch     int64
	status    video.Status
	srcInfo   video.Info
	srcStat   func() video.Stats
	sched     *schedule.Scheduler
	stopSch   context.CancelFunc
	held      held
	sceneView *scene.View // the scene on the newest results
	still     bool        // a still picture is on show
	finalSum  *event.Summary
	// Schedulers replaced while playing, closing in the background.
	closing sync.WaitGroup

	outMu   sync.Mutex // held while outputs run: Detach waits for the frame
	outputs []namedOutput
	failed  map[string]string // outputs that failed, and why
	drawn   gocv.Mat          // the pipeline's drawing buffer (pipeline goroutine)
	// streamClock is the scheduler's clock with EveryFrame.
	streamClock *streamClock
}

type namedOutput struct {
	name string
	out  FrameOutput
}

// New prepares a pipeline; Run plays it. A scene that does not validate
// is an error.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Events == nil {
		cfg.Events = event.NewBus(cfg.Clock, "")
	}
	if cfg.Retry.Initial == 0 {
		cfg.Retry = clock.Backoff{Initial: time.Second, Max: 30 * time.Second, Jitter: 0.2}
	}
	p := &Pipeline{cfg: cfg, clock: cfg.Clock, bus: cfg.Events, wake: make(chan struct{}, 1),
		source: cfg.Source, filter: cfg.Filter, schedOpts: cfg.Schedule, failed: map[string]string{}}
	if cfg.EveryFrame {
		p.streamClock = &streamClock{start: cfg.Clock.Now()}
	}
	if err := p.scene.setConfig(cfg.Scene); err != nil {
		return nil, err
	}
	if err := p.setInspections(cfg.Scene); err != nil {
		return nil, err
	}
	return p, nil
}

// SetScene follows another scene from the next analysis on (nil: none);
// its counts start from zero.
func (p *Pipeline) SetScene(cfg *scene.Config) error {
	if err := p.scene.setConfig(cfg); err != nil {
		return err
	}
	if err := p.setInspections(cfg); err != nil {
		return err
	}
	p.mu.Lock()
	p.sceneView = nil
	p.mu.Unlock()
	return nil
}

// Events is the bus the pipeline publishes on.
func (p *Pipeline) Events() *event.Bus { return p.bus }

// poke wakes the loop when it waits (paused, or between retries).
func (p *Pipeline) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run plays until the source ends (without Keep), MaxFrames, or ctx ends,
// then closes the outputs and publishes the summary, last. It returns the
// source's error, ErrOutputFailed, or nil.
func (p *Pipeline) Run(ctx context.Context) (err error) {
	p.started = p.clock.Now()
	stopHealth := p.startHealth(ctx)
	p.scheduler(ctx).Wait() // the backend in use is said first
	defer func() {
		stopHealth()
		err = p.finish(ctx, err)
	}()
	attempt := 0
	for ctx.Err() == nil {
		switched, source, err := p.playOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case switched:
			attempt = 0
			continue
		case errors.Is(err, errMaxFrames):
			return nil
		case err == nil && !p.cfg.Keep:
			return nil
		case err == nil: // a file ended: play it again
			attempt = 0
			continue
		case !p.cfg.Keep:
			return err
		}
		p.waitToRetry(ctx, source, err, attempt)
		attempt++
	}
	return nil
}

// playOnce opens the current source and plays it until it ends, fails or
// is switched to another.
func (p *Pipeline) playOnce(ctx context.Context) (switched bool, source string, err error) {
	p.mu.Lock()
	source = p.source
	playCtx, cancel := context.WithCancel(ctx)
	p.cancelPlay = cancel
	p.epoch++
	p.mu.Unlock()
	defer cancel()
	// Results still in flight belong to what played before.
	p.latest.Reset()
	p.mu.Lock()
	p.sceneView = nil
	p.mu.Unlock()
	p.dropHeld()
	// SetSource cancels playCtx: whatever happened then was the switch.
	defer func() { switched = playCtx.Err() != nil && ctx.Err() == nil }()
	src, err := video.Open(playCtx, source, p.videoOptions())
	if err != nil {
		return false, source, err
	}
	defer src.Close()
	p.mu.Lock()
	p.srcInfo, p.srcStat = src.Info(), src.Stats
	p.mu.Unlock()
	err = p.play(playCtx, ctx, src)
	if err == nil && src.Info().Still && p.cfg.Keep {
		return false, source, p.showStill(playCtx, ctx)
	}
	return false, source, err
}

// showStill keeps a still picture on show, analysed once, until the
// source is switched: a picture is not a one-frame video to loop. A new
// analysis configuration (a layer ticked) analyses it again.
func (p *Pipeline) showStill(playCtx, ctx context.Context) error {
	p.mu.Lock()
	p.still = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.still = false
		p.mu.Unlock()
	}()
	for {
		select {
		case <-playCtx.Done():
			return nil
		case <-p.wake:
		}
		p.mu.Lock()
		restart, redraw, h := p.restart, p.redraw, p.held
		p.redraw = false
		p.mu.Unlock()
		if restart && h.frame != nil {
			p.scheduler(ctx).Offer(offerOf(h.frame, h.epoch))
		}
		if redraw {
			p.writeHeld()
		}
	}
}

func (p *Pipeline) videoOptions() video.Options {
	o := p.cfg.Video
	o.Scale = p.analysisScale()
	user := o.OnStatus
	o.OnStatus = func(s video.Status) {
		p.setStatus(s)
		if user != nil {
			user(s)
		}
	}
	return o
}

func (p *Pipeline) setStatus(s video.Status) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
	p.bus.Publish(&event.Status{Header: event.Header{Type: event.TypeStatus}, State: string(s.State), Detail: s.Detail})
}

// waitToRetry shows why the source failed and when it is tried again, and
// waits for that, a source switch or the end.
func (p *Pipeline) waitToRetry(ctx context.Context, source string, err error, attempt int) {
	d := p.cfg.Retry.Delay(attempt)
	p.setStatus(video.Status{State: video.StateError, Detail: retryDetail(source, err, d), At: p.clock.Now()})
	c, stop := p.clock.NewTimer(d)
	defer stop()
	select {
	case <-ctx.Done():
	case <-c:
	case <-p.wake:
	}
}

// SetSource switches to another source; the results of the old one are
// dropped, so its boxes never appear over the new picture.
func (p *Pipeline) SetSource(uri string) {
	p.mu.Lock()
	p.source = uri
	cancel := p.cancelPlay
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	p.poke()
}

// Source is the source playing or being opened.
func (p *Pipeline) Source() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.source
}

// Status is the source's latest state.
func (p *Pipeline) Status() video.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Info describes the open source.
func (p *Pipeline) Info() video.Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.srcInfo
}

// SetFilter changes what is drawn; a paused frame is redrawn at once from
// the results it had.
func (p *Pipeline) SetFilter(change func(*overlay.Filter)) {
	p.mu.Lock()
	change(&p.filter)
	p.redraw = true
	p.mu.Unlock()
	p.poke()
}

// Filter is what the overlay draws.
func (p *Pipeline) Filter() overlay.Filter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.filter
}

// Reconfigure changes the backends, features or budget: a new scheduler
// takes over at the next frame, under the pipeline's own context, and the
// old one finishes in the background.
func (p *Pipeline) Reconfigure(change func(*schedule.Options)) {
	p.mu.Lock()
	change(&p.schedOpts)
	p.restart = true
	p.mu.Unlock()
	p.poke() // a still picture is analysed again
}

// Schedule returns the scheduler options in use.
func (p *Pipeline) Schedule() schedule.Options {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.schedOpts
}

// SetMode switches between local, cloud and auto at once.
func (p *Pipeline) SetMode(m schedule.Mode) {
	p.mu.Lock()
	p.schedOpts.Mode = m
	s := p.sched
	p.mu.Unlock()
	if s != nil {
		s.SetMode(m)
	}
}

// SetPaused pauses or resumes. A paused pipeline keeps its frame and that
// frame's results while the user tunes the overlay.
func (p *Pipeline) SetPaused(v bool) {
	p.mu.Lock()
	p.paused = v
	p.mu.Unlock()
	p.poke()
}

// Paused reports whether the pipeline is paused.
func (p *Pipeline) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Step shows one more frame and stays paused.
func (p *Pipeline) Step() {
	p.mu.Lock()
	p.paused = true
	p.steps++
	p.mu.Unlock()
	p.poke()
}

// Redraw hands the held frame to the outputs again (a paused frame and a
// snapshot asked for meanwhile).
func (p *Pipeline) Redraw() {
	p.mu.Lock()
	p.redraw = true
	p.mu.Unlock()
	p.poke()
}

// Attach adds an output under name; it receives frames from the next one
// on. The pipeline owns it from now: it closes it (when it is an
// io.Closer) on Detach or at the end of Run.
func (p *Pipeline) Attach(name string, out FrameOutput) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	p.outputs = append(p.outputs, namedOutput{name, out})
}

// Detach removes the output called name, after the frame it is writing,
// and closes it; the error is its Close's.
func (p *Pipeline) Detach(name string) error {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	for i, o := range p.outputs {
		if o.name == name {
			p.outputs = append(p.outputs[:i], p.outputs[i+1:]...)
			return closeOutput(o.out)
		}
	}
	return nil
}

// Stats are the pipeline's meters.
type Stats struct {
	FramesRead, FramesShown int64
	Analyses                int64 // successful analyses of every backend
	LatencyP50, LatencyP95  time.Duration
	Schedule                schedule.Stats
	Source                  video.Stats
	Status                  video.Status
	// OutputErrors are the outputs that failed, and why.
	OutputErrors map[string]string
}

// Stats reads the meters.
func (p *Pipeline) Stats() Stats {
	st := Stats{FramesRead: p.framesRead.Load(), FramesShown: p.framesShown.Load(), Analyses: p.analysed.Load(),
		LatencyP50: p.lat.Percentile(50), LatencyP95: p.lat.Percentile(95)}
	p.mu.Lock()
	sched, srcStat := p.sched, p.srcStat
	st.Status = p.status
	p.mu.Unlock()
	if sched != nil {
		st.Schedule = sched.Stats()
	}
	if srcStat != nil {
		st.Source = srcStat()
	}
	p.outMu.Lock()
	if len(p.failed) > 0 {
		st.OutputErrors = make(map[string]string, len(p.failed))
		for k, v := range p.failed {
			st.OutputErrors[k] = v
		}
	}
	p.outMu.Unlock()
	return st
}

// FrameSizer is an analyzer that can work on frames scaled down to the
// size it needs, with its results in the full frame's pixels
// (local.Backend).
type FrameSizer interface {
	FrameSize(fs analyzer.Features, w, h int) (size image.Point, ok bool)
}

// analysisScale says how the source may scale its frames for the
// analysis, when the analysis is all that reads them: no output attached,
// no inspection points, and only a local analyzer that is a FrameSizer.
// nil: at the source's size.
func (p *Pipeline) analysisScale() func(w, h int) image.Point {
	p.outMu.Lock()
	outputs := len(p.outputs)
	p.outMu.Unlock()
	p.inspections.mu.Lock()
	inspecting := p.inspections.insp != nil
	p.inspections.mu.Unlock()
	p.mu.Lock()
	o := p.schedOpts
	p.mu.Unlock()
	sizer, ok := o.Local.(FrameSizer)
	if outputs > 0 || inspecting || !ok || (o.Cloud != nil && o.Mode != schedule.ModeLocal) {
		return nil
	}
	return func(w, h int) image.Point {
		if size, ok := sizer.FrameSize(o.Features, w, h); ok {
			return size
		}
		return image.Pt(w, h)
	}
}
