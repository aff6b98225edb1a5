package pipeline

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"image"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/stages"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
	"gocv.io/x/gocv"
)

// errMaxFrames ends a run that read the frames it was asked for.
var errMaxFrames = errors.New("max frames read")

// View is what the overlay draws on a frame: the newest results of the
// source playing, the backend in charge, and the scene followed on them
// (nil without one).
type View struct {
	analyzer.Merged
	Active  string
	Scene   *scene.View
	Inspect *inspect.View // the inspection points, nil without
}

// held is the last frame shown, kept while the next is read: a paused
// frame, the app's panels and snapshots read it.
type held struct {
	frame *video.Frame
	epoch int64
	view  View
}

// play reads frames until the source ends (nil), fails, is switched
// (nil, playCtx done) or MaxFrames is reached.
func (p *Pipeline) play(playCtx, ctx context.Context, src video.Source) error {
	for {
		if max := p.cfg.MaxFrames; max > 0 && p.framesRead.Load() >= max {
			return errMaxFrames
		}
		if err := p.waitWhilePaused(playCtx); err != nil {
			return nil
		}
		fr, err := src.Next(playCtx)
		switch {
		case errors.Is(err, io.EOF), err != nil && playCtx.Err() != nil:
			return nil
		case err != nil:
			return err
		}
		p.framesRead.Add(1)
		p.handle(ctx, fr)
	}
}

// waitWhilePaused returns at once when playing or stepping; while paused it
// redraws the held frame when asked and waits.
func (p *Pipeline) waitWhilePaused(ctx context.Context) error {
	for {
		p.mu.Lock()
		paused, step, redraw := p.paused, p.steps > 0, p.redraw
		if step {
			p.steps--
		}
		p.redraw = false
		p.mu.Unlock()
		if !paused || step {
			return nil
		}
		if redraw {
			p.writeHeld()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.wake:
		}
	}
}

// handle offers one frame for analysis and hands it, with what to draw on
// it, to the outputs; the frame is then held until the next one. It is
// held before it is offered, so a result that comes back at once finds it.
func (p *Pipeline) handle(ctx context.Context, fr *video.Frame) {
	sched := p.scheduler(ctx)
	if p.streamClock != nil {
		p.streamClock.set(fr.PTS)
	}
	epoch, filter, fps := p.hold(fr)
	p.scene.times.put(fr.Seq, p.sceneTime(fr))
	offered := sched.Offer(offerOf(fr, epoch))
	view := p.view(sched)
	view.Inspect = p.inspect(ctx, fr, view)
	p.mu.Lock()
	if p.held.frame == fr {
		p.held.view = view
	}
	p.mu.Unlock()
	p.writeOutputs(&Frame{Seq: fr.Seq, PTS: fr.PTS, Arrived: fr.Arrived, Clean: fr.Mat, FPS: fps, View: view, Filter: filter,
		Offered: offered, p: p})
	p.framesShown.Add(1)
}

// offerOf is fr as the scheduler takes it: its pixels lent, not copied
// (the pipeline never changes them), with the size they stand for.
func offerOf(fr *video.Frame, epoch int64) schedule.Frame {
	return schedule.Frame{Seq: fr.Seq, PTS: fr.PTS, Mat: fr.Mat, Full: fr.Full, Epoch: epoch, Lend: fr.Lend}
}

// view is what to draw now.
func (p *Pipeline) view(sched *schedule.Scheduler) View {
	span := stages.Begin()
	defer span.End(stages.Merge)
	p.mu.Lock()
	sv := p.sceneView
	p.mu.Unlock()
	return View{Merged: p.latest.Merged(p.now()), Active: sched.Active(), Scene: sv}
}

// sceneTime places a frame on the scene's monotonic clock: the video's
// own time when every frame is read as fast as it decodes, else when it
// arrived, since the run started.
func (p *Pipeline) sceneTime(fr *video.Frame) time.Duration {
	if p.streamClock != nil {
		return p.streamClock.Now().Sub(p.streamClock.start)
	}
	return fr.Arrived.Sub(p.started)
}

// now is the scheduler's time: the video's with EveryFrame.
func (p *Pipeline) now() time.Time {
	if p.streamClock != nil {
		return p.streamClock.Now()
	}
	return p.clock.Now()
}

// hold keeps fr as the held frame, releases the one before, and returns
// what drawing it needs: the source's epoch, the filter (the newest: no
// redraw is due) and the source's rate.
func (p *Pipeline) hold(fr *video.Frame) (epoch int64, filter overlay.Filter, fps float64) {
	p.mu.Lock()
	old := p.held.frame
	p.held = held{frame: fr, epoch: p.epoch}
	p.redraw = false
	epoch, filter, fps = p.epoch, p.filter, p.srcInfo.FPS
	p.mu.Unlock()
	old.Release()
	return epoch, filter, fps
}

// dropHeld releases the held frame (the source is switching or closing).
func (p *Pipeline) dropHeld() {
	p.mu.Lock()
	old := p.held.frame
	p.held = held{}
	p.mu.Unlock()
	old.Release()
}

// writeHeld hands the held frame to the outputs again, drawn with the
// current filter and the results it had. Pipeline goroutine only: it is
// the one that releases held frames.
func (p *Pipeline) writeHeld() {
	p.mu.Lock()
	h, filter, fps := p.held, p.filter, p.srcInfo.FPS
	p.mu.Unlock()
	if h.frame == nil {
		return
	}
	fr := h.frame
	p.writeOutputs(&Frame{Seq: fr.Seq, PTS: fr.PTS, Arrived: fr.Arrived, Clean: fr.Mat, FPS: fps, View: h.view, Filter: filter, Repeat: true, p: p})
}

// HeldFrame returns a copy of the newest frame, cropped to region when it
// is not empty, with its sequence number; ok is false before the first
// frame. The caller closes the Mat.
func (p *Pipeline) HeldFrame(region image.Rectangle) (m gocv.Mat, seq int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fr := p.held.frame
	if fr == nil || fr.Mat.Ptr() == nil || fr.Mat.Empty() {
		return gocv.Mat{}, 0, false
	}
	return mats.Crop(fr.Mat, region), fr.Seq, true
}

// HeldView is what is drawn on the held frame.
func (p *Pipeline) HeldView() View {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held.view
}

// scheduler returns the running scheduler, starting it, or replacing it
// when the configuration changed, under ctx: the pipeline's, never a
// source's, so switching sources does not stop the analysis.
func (p *Pipeline) scheduler(ctx context.Context) *schedule.Scheduler {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sched != nil && !p.restart {
		return p.sched
	}
	if old, stop := p.sched, p.stopSch; old != nil {
		// A slow analysis (local OCR takes seconds) must not stall the video.
		p.closing.Add(1)
		go func() {
			defer p.closing.Done()
			stop()
			old.Close()
		}()
	}
	o := p.schedOpts
	o.OnResult, o.OnBackend = p.onResult, p.onBackend
	if p.streamClock != nil {
		o.Clock, o.WaitForLocal = p.streamClock, true
	}
	sctx, cancel := context.WithCancel(ctx)
	p.sched, p.stopSch, p.restart = schedule.New(sctx, o), cancel, false
	return p.sched
}

// onResult takes a result from the scheduler, in order, off its lock.
func (p *Pipeline) onResult(r *analyzer.Result) {
	p.mu.Lock()
	current := r.Epoch == p.epoch
	p.mu.Unlock()
	if !current {
		return // of a source no longer playing
	}
	if r.Err != nil {
		p.bus.Publish(&event.AnalysisError{Header: event.Header{Type: event.TypeAnalysisError},
			Frame: r.Frame, Source: r.Source, Error: text.OneLine(r.Err.Error(), 0)})
		return
	}
	p.lat.Add(r.Latency)
	p.analysed.Add(1)
	sv, evs := p.scene.follow(r)
	if sv != nil {
		p.mu.Lock()
		p.sceneView = sv
		p.mu.Unlock()
	}
	span := stages.Begin()
	p.latest.Add(r)
	span.End(stages.Merge)
	p.attachCrops(evs)
	p.bus.Publish(&event.Analysis{Header: event.Header{Type: event.TypeAnalysis}, At: event.AtFrame(r.Frame, r.PTS),
		Source: r.Source, LatencyMS: event.MS(r.Latency), Data: r.Analysis})
	p.publishScene(evs)
	p.refreshHeld(r)
}

// refreshHeld: a paused frame, or a still picture, shows its own results
// when they arrive after it was drawn (a step, a pause right after a
// frame, the one analysis of a picture).
func (p *Pipeline) refreshHeld(r *analyzer.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !(p.paused || p.still) || p.held.frame == nil || p.held.epoch != r.Epoch || p.held.frame.Seq != r.Frame || p.sched == nil {
		return
	}
	p.held.view = View{Merged: p.latest.Merged(p.now()), Active: p.sched.Active(), Scene: p.sceneView, Inspect: p.held.view.Inspect}
	p.redraw = true
	p.poke()
}

func (p *Pipeline) onBackend(backend, reason string) {
	p.bus.Publish(&event.Backend{Header: event.Header{Type: event.TypeBackend}, Backend: backend, Reason: reason})
}

// retryDetail says why a source failed and when it is tried again.
func retryDetail(source string, err error, wait time.Duration) string {
	msg := text.OneLine(err.Error(), 0)
	if !strings.Contains(msg, source) {
		msg = source + ": " + msg
	}
	return msg + " — retrying in " + wait.Round(time.Second).String()
}
