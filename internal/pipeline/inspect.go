package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/video"
)

// inspectStage runs the scene's inspection points: on every frame of a
// file read as fast as it decodes, on the first frame after each new
// analysis of a live source (the tracks a per-track point follows move
// only then).
type inspectStage struct {
	mu       sync.Mutex
	insp     *inspect.Inspector
	analyses int64 // the analyses seen at the last inspection
	tracks   []inspect.TrackPos
}

// setInspections inspects the points of cfg from now on (none: nil cfg
// or no points), closing the inspector before.
func (p *Pipeline) setInspections(cfg *scene.Config) error {
	var insp *inspect.Inspector
	if cfg != nil && len(cfg.Inspections) > 0 {
		o := p.cfg.Inspection
		o.Clock = clockFunc(p.now)
		o.Rules = cfg.Rules
		o.Record = p.scene.record
		o.OnLogError = func(err error) {
			p.outMu.Lock()
			defer p.outMu.Unlock()
			p.failLocked("inspection log", err)
		}
		var err error
		if insp, err = inspect.New(cfg.Inspections, o); err != nil {
			return err
		}
	}
	st := &p.inspections
	st.mu.Lock()
	old := st.insp
	st.insp = insp
	st.mu.Unlock()
	if old != nil {
		old.Close() // its log's failure, if any, was reported as it happened
	}
	return nil
}

// clockFunc adapts a function to the inspector's clock.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// inspect runs the points on fr when due and returns their view for the
// overlay (nil without points).
func (p *Pipeline) inspect(ctx context.Context, fr *video.Frame, view View) *inspect.View {
	st := &p.inspections
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.insp == nil {
		return nil
	}
	if n := p.analysed.Load(); p.streamClock != nil || n != st.analyses {
		st.analyses = n
		st.tracks = st.tracks[:0]
		if view.Scene != nil {
			st.tracks = inspect.TracksOf(view.Scene, st.tracks)
		}
		evs := st.insp.Inspect(ctx, inspect.Frame{At: event.AtFrame(fr.Seq, fr.PTS), T: p.sceneTime(fr), Mat: fr.Mat,
			Width: fr.Mat.Cols(), Height: fr.Mat.Rows(), Tracks: st.tracks}, nil)
		for _, e := range evs {
			p.bus.Publish(e)
		}
	}
	v := &inspect.View{}
	st.insp.View(v)
	if view.Scene != nil {
		v.MarkAlarms(view.Scene.Alerts, p.scene.rules())
	}
	return v
}

// attachCrops gives inspection-rule alerts their point's latest fail crop.
func (p *Pipeline) attachCrops(evs []event.Event) {
	st := &p.inspections
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.insp != nil {
		st.insp.AttachCrops(evs)
	}
}

// finishInspections waits briefly for verdicts in flight, publishes them,
// adds the counts to sum and closes the inspector.
func (p *Pipeline) finishInspections(sum *event.Summary) {
	st := &p.inspections
	st.mu.Lock()
	insp := st.insp
	st.insp = nil
	st.mu.Unlock()
	if insp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), drainGrace)
	defer cancel()
	for _, e := range insp.Drain(ctx, nil) {
		p.bus.Publish(e)
	}
	insp.Summary(sum)
	insp.Close() // its log's failure was reported when it happened (OnLogError)
}

// inspectionTotals adds the points' counts so far to sum.
func (p *Pipeline) inspectionTotals(sum *event.Summary) {
	st := &p.inspections
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.insp != nil {
		st.insp.Summary(sum)
	}
}
