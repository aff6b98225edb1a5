package ui

import (
	"context"
	"errors"
	"image"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// analysisThreshold is the confidence the live view asks the models for:
// low, so that lowering the slider reveals boxes from the cached result
// without a new analysis.
const analysisThreshold = 0.05

// player reads the source, keeps the analyzer busy with the newest frame,
// draws the overlay and hands pictures to the view, one at a time.
//
// Fields under mu are shared with the UI thread and the source's status
// goroutine; the rest belong to the player goroutine.
type player struct {
	cfg Config
	// schedule runs f on the UI thread (fyne.Do in the window); show puts
	// a picture on screen there.
	schedule func(f func())
	show     func(img *image.RGBA)
	// onStatus is told about source state changes, from any goroutine.
	onStatus func(video.Status)

	mu         sync.Mutex
	filter     overlay.Filter
	mode       analyzer.Mode
	features   analyzer.Features
	cloud      analyzer.Analyzer
	budget     budgetOptions
	privacy    analyzer.FaceFinder
	sched      *analyzer.Scheduler
	stopSched  context.CancelFunc
	restart    bool
	source     string
	cancelPlay context.CancelFunc
	paused     bool
	steps      int
	redraw     bool
	status     video.Status
	fpsLimit   float64
	srcFPS     float64
	last       gocv.Mat // clean copy of the newest frame
	lastSeq    int64
	lastPTS    time.Duration
	rec        frameRecorder
	recPath    string

	wake   chan struct{}
	closes sync.WaitGroup // schedulers being closed in the background

	framesRead  atomic.Int64
	framesShown atomic.Int64

	// The screen takes pictures through a one-slot mailbox: the newest
	// picture waits in queued while the UI thread is busy and replaces an
	// older one still waiting, so the display never lags behind the source
	// and one slow repaint does not cost a frame. Three buffers: one on
	// screen, one queued, one being drawn. Guarded by mu.
	bufs      [3]*image.RGBA
	queued    *image.RGBA
	onScreen  *image.RGBA
	scheduled bool
	rgba      gocv.Mat
	work      gocv.Mat
	lastOffer time.Time
}

// budgetOptions are the scheduler settings that come from Settings.
type budgetOptions struct {
	perMinute float64
	perDay    int
	cacheTTL  time.Duration
}

// defaultFeatures are what the live view computes at start: local boxes and
// tags, plus the caption when a cloud is configured.
func defaultFeatures(cloud analyzer.Analyzer) analyzer.Features {
	fs := analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags}
	if cloud != nil {
		fs = append(fs, analyzer.FeatureCaption)
	}
	return fs
}

func newPlayer(cfg Config) *player {
	mode := analyzer.Mode(cfg.Backend)
	if mode == "" {
		mode = analyzer.ModeAuto
	}
	source := cfg.Source
	if source == "" {
		source = defaultSource()
	}
	return &player{
		cfg:      cfg,
		schedule: func(f func()) { f() },
		show:     func(*image.RGBA) {},
		onStatus: func(video.Status) {},
		filter:   overlay.Filter{Threshold: cfg.Threshold},
		mode:     mode,
		features: defaultFeatures(cfg.Cloud),
		cloud:    cfg.Cloud,
		source:   source,
		fpsLimit: cfg.FPSLimit,
		wake:     make(chan struct{}, 1),
		lastSeq:  -1,
	}
}

// poke wakes the player goroutine when it waits while paused.
func (p *player) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Filter returns the current draw-time filter.
func (p *player) Filter() overlay.Filter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.filter
}

// SetFilter changes what is drawn; a paused frame is redrawn at once.
func (p *player) SetFilter(change func(*overlay.Filter)) {
	p.mu.Lock()
	change(&p.filter)
	p.redraw = true
	p.mu.Unlock()
	p.poke()
}

// Want makes sure the scheduler computes f, restarting it if needed.
// Features are never dropped: hiding a layer is only a filter change.
func (p *player) Want(fs ...analyzer.Feature) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range fs {
		if !p.features.Has(f) {
			p.features = append(p.features, f)
			p.restart = true
		}
	}
}

// Features returns what the scheduler is asked to compute.
func (p *player) Features() analyzer.Features {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.features)
}

// SetMode switches the backend; it reaches the running scheduler at once.
func (p *player) SetMode(m analyzer.Mode) {
	p.mu.Lock()
	p.mode = m
	s := p.sched
	p.mu.Unlock()
	if s != nil {
		s.SetMode(m)
	}
}

// SetCloud replaces the cloud backend (settings changed) and the budgets.
func (p *player) SetCloud(c analyzer.Analyzer, b budgetOptions) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c != nil && p.cloud == nil && !p.features.Has(analyzer.FeatureCaption) {
		p.features = append(p.features, analyzer.FeatureCaption)
	}
	p.cloud, p.budget, p.restart = c, b, true
}

// SetPrivacy blurs the faces ff finds in every frame before it goes to the
// cloud (nil: privacy off).
func (p *player) SetPrivacy(ff analyzer.FaceFinder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.privacy != ff {
		p.privacy, p.restart = ff, true
	}
}

// Cloud is the cloud backend in use, nil when none is configured.
func (p *player) Cloud() analyzer.Analyzer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cloud
}

// SetFPSLimit caps analyses a second (0: as many as the backends manage).
func (p *player) SetFPSLimit(v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fpsLimit = v
}

// SetSource switches to another source.
func (p *player) SetSource(uri string) {
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
func (p *player) Source() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.source
}

// SetPaused pauses or resumes; Step shows one more frame while paused.
func (p *player) SetPaused(v bool) {
	p.mu.Lock()
	p.paused = v
	p.mu.Unlock()
	p.poke()
}

func (p *player) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

func (p *player) Step() {
	p.mu.Lock()
	p.paused = true
	p.steps++
	p.mu.Unlock()
	p.poke()
}

// Status is the source's latest state.
func (p *player) Status() video.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *player) setStatus(s video.Status) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
	p.onStatus(s)
}

// Scheduler returns the running scheduler (nil before the first start).
func (p *player) Scheduler() *analyzer.Scheduler {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sched
}

// ensureScheduler starts the scheduler, or replaces it when its features,
// cloud or budget changed. The old one is closed in the background so a
// slow analysis (local OCR takes seconds) never stalls the video.
func (p *player) ensureScheduler(ctx context.Context) *analyzer.Scheduler {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sched != nil && !p.restart {
		return p.sched
	}
	if old, stop := p.sched, p.stopSched; old != nil {
		p.closes.Add(1)
		go func() {
			defer p.closes.Done()
			stop()
			old.Close()
		}()
	}
	sctx, cancel := context.WithCancel(ctx)
	p.sched = analyzer.NewScheduler(sctx, analyzer.SchedulerOptions{
		Local:          p.cfg.Local,
		Cloud:          p.cloud,
		Mode:           p.mode,
		Features:       slices.Clone(p.features),
		Options:        analyzer.Options{Threshold: analysisThreshold},
		CloudPerMinute: p.budget.perMinute,
		CloudPerDay:    p.budget.perDay,
		CacheTTL:       p.budget.cacheTTL,
		Privacy:        p.privacy,
	})
	p.stopSched, p.restart = cancel, false
	return p.sched
}

// close stops the scheduler and frees the player's buffers; run must have
// returned.
func (p *player) close() {
	p.mu.Lock()
	s, stop := p.sched, p.stopSched
	p.sched = nil
	rec := p.rec
	p.rec = nil
	p.mu.Unlock()
	if s != nil {
		stop()
		s.Close()
	}
	if rec != nil {
		if err := rec.Close(); err != nil {
			slog.Warn("closing the recording", "err", err)
		}
	}
	p.closes.Wait()
	for _, m := range []*gocv.Mat{&p.last, &p.rgba, &p.work} {
		if m.Ptr() != nil {
			m.Close()
			*m = gocv.Mat{}
		}
	}
}

// run plays sources until ctx ends, reopening files at their end (a booth
// demo loops) and retrying sources that fail.
func (p *player) run(ctx context.Context) {
	for ctx.Err() == nil {
		p.ensureScheduler(ctx)
		p.mu.Lock()
		source := p.source
		playCtx, cancel := context.WithCancel(ctx)
		p.cancelPlay = cancel
		p.mu.Unlock()
		err := p.play(playCtx, source)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case playCtx.Err() != nil, err == nil, errors.Is(err, io.EOF):
			continue // source switched, or a file ended: play (again)
		}
		slog.Warn("source failed", "source", source, "err", err)
		p.setStatus(video.Status{State: video.StateError, Detail: err.Error(), At: time.Now()})
		p.sleep(ctx, 2*time.Second)
	}
}

// sleep waits d, or less when the user switches source.
func (p *player) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-p.wake:
	}
}

// play shows one opening of the source until it ends or ctx is cancelled.
func (p *player) play(ctx context.Context, source string) error {
	src, err := video.Open(ctx, source, video.Options{Realtime: true, OnStatus: p.setStatus})
	if err != nil {
		return err
	}
	defer src.Close()
	p.mu.Lock()
	p.srcFPS = src.Info().FPS
	p.mu.Unlock()
	for {
		// Paused: wait for a step, a filter change (redraw) or a resume.
		p.mu.Lock()
		paused, step, redraw := p.paused, p.steps > 0, p.redraw
		if step {
			p.steps--
		}
		p.redraw = false
		p.mu.Unlock()
		if paused && !step {
			if redraw {
				p.presentLast(p.ensureScheduler(ctx))
			}
			select {
			case <-ctx.Done():
				return nil
			case <-p.wake:
			}
			continue
		}
		frame, err := src.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		p.framesRead.Add(1)
		p.handle(ctx, frame)
		frame.Release()
	}
}

// handle offers one frame for analysis, keeps a clean copy for snapshots
// and panels, and draws it unless the screen is still busy with the last.
func (p *player) handle(ctx context.Context, frame *video.Frame) {
	if frame.Mat.Ptr() == nil || frame.Mat.Empty() {
		return
	}
	sched := p.ensureScheduler(ctx)
	p.mu.Lock()
	limit, filter, rec := p.fpsLimit, p.filter, p.rec
	if p.last.Ptr() == nil {
		p.last = gocv.NewMat()
	}
	frame.Mat.CopyTo(&p.last)
	p.lastSeq, p.lastPTS = frame.Seq, frame.PTS
	p.mu.Unlock()

	now := time.Now()
	if limit <= 0 || now.Sub(p.lastOffer) >= time.Duration(float64(time.Second)/limit) {
		sched.Offer(frame.Seq, frame.PTS, frame.Mat)
		p.lastOffer = now
	}
	overlay.Draw(&frame.Mat, sched.Merged().Analysis, filter)
	if rec != nil {
		if err := rec.Write(frame.Mat, frame.PTS); err != nil {
			slog.Warn("recording", "err", err)
			p.StopRecording()
		}
	}
	p.present(frame.Mat)
}

// presentLast redraws the held frame (paused, filter changed).
func (p *player) presentLast(sched *analyzer.Scheduler) {
	p.mu.Lock()
	if p.last.Ptr() == nil || p.last.Empty() {
		p.mu.Unlock()
		return
	}
	if p.work.Ptr() == nil {
		p.work = gocv.NewMat()
	}
	p.last.CopyTo(&p.work)
	filter := p.filter
	p.mu.Unlock()
	overlay.Draw(&p.work, sched.Merged().Analysis, filter)
	p.present(p.work)
}

// present converts an annotated BGR frame into a free buffer and posts it
// to the screen's mailbox.
func (p *player) present(bgr gocv.Mat) {
	p.mu.Lock()
	i := slices.IndexFunc(p.bufs[:], func(b *image.RGBA) bool { return b == nil || (b != p.onScreen && b != p.queued) })
	p.mu.Unlock()
	buf := toRGBA(bgr, p.bufs[i], &p.rgba)
	p.mu.Lock()
	p.bufs[i] = buf
	p.queued = buf
	post := !p.scheduled
	p.scheduled = true
	p.mu.Unlock()
	if post {
		p.schedule(p.flush)
	}
}

// flush shows the newest queued picture; UI thread.
func (p *player) flush() {
	p.mu.Lock()
	img := p.queued
	p.queued, p.scheduled = nil, false
	if img != nil {
		p.onScreen = img
	}
	p.mu.Unlock()
	if img != nil {
		p.show(img)
		p.framesShown.Add(1)
	}
}

// Frame returns a copy of the newest clean frame, cropped to region when
// it is not empty, with its sequence number; ok is false before the first
// frame. The caller closes the Mat.
func (p *player) Frame(region image.Rectangle) (m gocv.Mat, seq int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last.Ptr() == nil || p.last.Empty() {
		return gocv.Mat{}, 0, false
	}
	return cropClone(p.last, region), p.lastSeq, true
}

// cropClone copies m, or the part of it inside r when r is not empty.
func cropClone(m gocv.Mat, r image.Rectangle) gocv.Mat {
	r = r.Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if r.Dx() < 8 || r.Dy() < 8 {
		return m.Clone()
	}
	roi := m.Region(r)
	defer roi.Close()
	return roi.Clone()
}

// Annotated draws the current overlay on a copy of clean.
func (p *player) Annotated(clean gocv.Mat) gocv.Mat {
	out := clean.Clone()
	var a *analyzer.Analysis
	if s := p.Scheduler(); s != nil {
		a = s.Merged().Analysis
	}
	overlay.Draw(&out, a, p.Filter())
	return out
}

// StartRecording records the annotated video to path until StopRecording.
func (p *player) StartRecording(path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rec != nil {
		return nil
	}
	if p.last.Ptr() == nil || p.last.Empty() {
		return errors.New("no picture yet")
	}
	fps := p.srcFPS
	if fps <= 0 {
		fps = 25 // live sources without a nominal rate
	}
	r, err := newRecorder(path, p.last.Cols(), p.last.Rows(), fps)
	if err != nil {
		return err
	}
	p.rec, p.recPath = r, path
	return nil
}

// StopRecording ends the recording and returns its path ("" when none).
func (p *player) StopRecording() string {
	p.mu.Lock()
	r, path := p.rec, p.recPath
	p.rec, p.recPath = nil, ""
	p.mu.Unlock()
	if r != nil {
		if err := r.Close(); err != nil {
			slog.Warn("closing the recording", "err", err)
		}
	}
	return path
}

// Recording reports whether a recording runs.
func (p *player) Recording() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rec != nil
}
