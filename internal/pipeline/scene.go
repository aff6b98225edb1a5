package pipeline

import (
	"slices"
	"sync"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

// sceneStage follows the scene (tracks, lines, zones, rules) on every
// analysed frame of the source playing, between the analysis and the
// overlay: results get their track IDs here, before anyone sees them.
type sceneStage struct {
	mu    sync.Mutex
	cfg   *scene.Config // nil: no scene
	scene *scene.Scene
	epoch int64 // the source the scene follows
	times frameTimes
	last  event.At
	lastT time.Duration
}

// frameTimes remembers when recent frames were seen, on the scene's
// monotonic clock, so a result that comes back late (a cloud call) is
// placed at its frame's time, not at its arrival.
type frameTimes struct {
	mu   sync.Mutex
	ring [256]struct {
		seq int64
		t   time.Duration
	}
}

func (ft *frameTimes) put(seq int64, t time.Duration) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	e := &ft.ring[seq%int64(len(ft.ring))]
	e.seq, e.t = seq, t
}

func (ft *frameTimes) get(seq int64) (time.Duration, bool) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	e := ft.ring[seq%int64(len(ft.ring))]
	return e.t, e.seq == seq
}

// setConfig starts following cfg (nil: no scene); counts start again.
func (st *sceneStage) setConfig(cfg *scene.Config) error {
	var s *scene.Scene
	if cfg != nil {
		var err error
		if s, err = scene.New(*cfg); err != nil {
			return err
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cfg, st.scene = cfg, s
	return nil
}

// follow runs the scene on a successful result of the current source and
// returns the events it caused; the result's objects get their track IDs
// (on a copy: a cached result is shared).
func (st *sceneStage) follow(r *analyzer.Result) (*scene.View, []event.Event) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cfg == nil {
		return nil, nil
	}
	if st.epoch != r.Epoch {
		// Another source, or the same file from the start: its own scene.
		st.epoch = r.Epoch
		st.scene, _ = scene.New(*st.cfg) // validated by setConfig
	}
	a := *r.Analysis
	a.Objects, a.People = slices.Clone(a.Objects), slices.Clone(a.People)
	r.Analysis = &a
	t, ok := st.times.get(r.Frame)
	if !ok {
		t = st.lastT
	}
	st.last, st.lastT = event.AtFrame(r.Frame, r.PTS), max(st.lastT, t)
	// A new slice each time: a scheduler being replaced may still deliver
	// beside the new one.
	evs := st.scene.Update(scene.Frame{At: st.last, T: t, Width: a.Metadata.Width, Height: a.Metadata.Height,
		Objects: a.Objects, People: a.People}, nil)
	v := &scene.View{}
	st.scene.View(v)
	return v, evs
}

// finish ends the open tracks (their zone exits and track ends) and adds
// the scene's totals to the summary.
func (st *sceneStage) finish(sum *event.Summary) []event.Event {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.scene == nil {
		return nil
	}
	evs := st.scene.Finish(st.last, st.lastT, nil)
	st.scene.Summary(sum)
	return evs
}

// SceneTotals adds the scene's totals so far (tracks, lines, zones,
// inspections) to sum; nothing without a scene.
func (p *Pipeline) SceneTotals(sum *event.Summary) {
	p.scene.mu.Lock()
	if p.scene.scene != nil {
		p.scene.scene.Summary(sum)
	}
	p.scene.mu.Unlock()
	p.inspectionTotals(sum)
}

// record tells the scene an inspection's verdict, for its rules.
func (st *sceneStage) record(point, state string, t time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.scene != nil {
		st.scene.RecordInspection(point, state, t)
	}
}

// rules are the scene's rules (none without a scene).
func (st *sceneStage) rules() []scene.Rule {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.cfg == nil {
		return nil
	}
	return st.cfg.Rules
}

// alertSnapshots is an output that can save a snapshot for an alert: the
// next frame's, under a name it returns at once.
type alertSnapshots interface {
	Reserve(reason string) (path string)
}

// publishScene publishes what the scene said, asking for a snapshot with
// each alert when an output saves them.
func (p *Pipeline) publishScene(evs []event.Event) {
	for _, e := range evs {
		if a, ok := e.(*event.Alert); ok {
			if a.Snapshot == "" { // an inspection's has its crop
				a.Snapshot = p.reserveSnapshot(a.Rule)
			}
			a.Clip = p.reserveClip(a.Rule, time.Duration(a.PTSMS*float64(time.Millisecond)))
		}
		p.bus.Publish(e)
	}
}

// alertClips is an output that writes a clip around an alert's frame and
// names its file at once.
type alertClips interface {
	ClipFor(reason string, at time.Duration) string
}

func (p *Pipeline) reserveClip(reason string, at time.Duration) string {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	for _, o := range p.outputs {
		if c, ok := o.out.(alertClips); ok {
			return c.ClipFor(reason, at)
		}
	}
	return ""
}

func (p *Pipeline) reserveSnapshot(reason string) string {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	for _, o := range p.outputs {
		if s, ok := o.out.(alertSnapshots); ok {
			return s.Reserve(reason)
		}
	}
	return ""
}
