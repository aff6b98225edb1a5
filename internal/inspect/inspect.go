// Package inspect runs a scene's inspection points (the contract's
// "Inspection points"): a region of the frame judged pass, fail or review
// by a Custom Vision classifier, on every analysed frame (continuous mode,
// an event when the state changes) or once for each track that enters the
// region and settles (per_track mode, an event for each part).
//
// The pipeline calls Inspect once an analysed frame, from one goroutine.
// Local exports classify inline by default: a crop takes a few
// milliseconds on a quiet machine (BenchmarkInspect), and inline keeps
// every verdict on the frame it judges, whatever the machine's speed (files
// give the same events every run). Cloud classifiers, and local ones with
// Options.Offload (live sources: the frame loop never waits for a model),
// are called on goroutines with a copy of the crop, one call a point at a
// time, the cloud's paced by a budget; their verdicts are applied on the
// Inspect (or Drain) after they arrive, and between calls the last verdict
// stands, with its age. Inspect never waits for the network.
//
// The Inspector is the one place verdicts are counted: Summary fills the
// summary's inspections and View the app's counts, rates and yield; the
// scene only hears of each verdict (Options.Record) for its
// inspection_fail and yield_below rules. Every verdict is logged (CSV and
// JSON lines) with crops of fails and reviews, on a goroutine of its own.
package inspect

import (
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

// Clock tells the wall time (internal/clock has the real and the fake one).
type Clock interface{ Now() time.Time }

// CloudFunc returns the predictor of a published Custom Vision iteration
// (azure.NewPredictionClient with the prediction resource's endpoint and
// key). A predictor with an IsDetector method that reports true is asked
// to detect; others classify.
type CloudFunc func(project, publishedName string) (analyzer.Predictor, error)

// Options configure an Inspector. The zero value inspects with local
// exports only, logs nothing, and paces the cloud at the defaults.
type Options struct {
	// Cloud builds the predictors of cloud points, once for each distinct
	// project and published name; nil makes a cloud point an error at New.
	Cloud CloudFunc
	// Budget paces the calls of every cloud point together: they share one
	// Custom Vision prediction resource. The Inspector is its only user.
	// Nil: DefaultCloudPerMinute a minute, no daily limit.
	Budget *schedule.Budget
	// Clock paces the budget and stamps the log (clock.Real when nil); the
	// pipeline passes the scheduler's, so that files are paced on the
	// video's time.
	Clock Clock
	// LogDir receives inspections.csv and inspections.jsonl (appended) and
	// crops/ (PNG crops of fails and reviews); "" logs nothing.
	LogDir string
	// OnLogError is told, once, that the log failed and stopped (the
	// pipeline reports it as an output error); inspection goes on. It is
	// called from the log's goroutine.
	OnLogError func(error)
	// Record is told every verdict as it is counted (scene.RecordInspection,
	// for the scene's rules), from the goroutine calling Inspect or Drain.
	Record func(point, state string, t time.Duration)
	// Rules are the scene's rules: alerts of rules on a point get its latest
	// fail crop (AttachCrops), and mark it in alarm (View.MarkAlarms).
	Rules []scene.Rule
	// Offload classifies with local exports on goroutines, as with the
	// cloud (without a budget): for live sources, where the frame loop
	// must not wait for a model. A point then skips the frames that come
	// while it classifies.
	Offload bool
	// Settle says when a track has settled in a per_track region.
	Settle Settle
	// StaleAfter is the age past which a verdict is drawn as stale
	// (default DefaultStaleAfter).
	StaleAfter time.Duration
}

// Settle says when a track has settled in a region: its anchor (its box's
// centre) inside for Analyses analyses in a row spanning at least Time,
// without straying more than Drift times its box's smaller side from where
// it was when they began. A part that stops, or creeps, in the region
// settles; one that passes straight through does not.
type Settle struct {
	Analyses int           // default 3
	Time     time.Duration // default 200 ms
	Drift    float64       // default 0.25
}

// Defaults.
const (
	DefaultCloudPerMinute = 20
	DefaultStaleAfter     = 10 * time.Second
	// MinCrop is the smallest region side, in pixels, that is classified.
	MinCrop = 8
	// goneAfter is how long a track waiting for its call may go unseen
	// (the scene's default lost_after_s) before it counts as missed.
	goneAfter = time.Second
	// pruneAfter forgets a per_track track not seen for this long: the
	// scene has ended it long before.
	pruneAfter = 30 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Budget == nil {
		o.Budget = schedule.NewBudget(DefaultCloudPerMinute, 0)
	}
	if o.Settle.Analyses <= 0 {
		o.Settle.Analyses = 3
	}
	if o.Settle.Time <= 0 {
		o.Settle.Time = 200 * time.Millisecond
	}
	if o.Settle.Drift <= 0 {
		o.Settle.Drift = 0.25
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	return o
}

// Frame is one analysed frame.
type Frame struct {
	At event.At
	// T is the frame's time on the stream's monotonic clock (scene.Frame's):
	// settling, verdict ages and per-minute rates are measured on it.
	T time.Duration
	// Mat is the frame, 8-bit BGR, the caller's: read during the call, and
	// what is kept is copied.
	Mat gocv.Mat
	// Width and Height are the size the Tracks' boxes are in (0: the Mat's).
	Width, Height int
	// Tracks are the confirmed tracks seen on this analysis (per_track
	// points; TracksOf turns a scene's view into them).
	Tracks []TrackPos
}

// TrackPos is a track on the analysed frame.
type TrackPos struct {
	ID  int
	Box image.Rectangle
}

// TracksOf appends the tracks of a scene's view to dst.
func TracksOf(v *scene.View, dst []TrackPos) []TrackPos {
	for _, t := range v.Tracks {
		dst = append(dst, TrackPos{ID: t.ID, Box: t.Box})
	}
	return dst
}

// Inspector runs a scene's inspection points.
type Inspector struct {
	opts   Options
	models []*model
	log    *logWriter // nil without LogDir

	mu     sync.Mutex // the points, the budget and lastT
	points []*point
	lastT  time.Duration

	// Calls off the frame loop (cloud, offloaded): their context (Close
	// cancels it), those in flight, and what came back, waiting for the
	// next Inspect.
	ctx      context.Context
	cancel   context.CancelFunc
	calls    sync.WaitGroup
	inboxMu  sync.Mutex
	inflight int
	inbox    []callResult
	arrived  chan struct{}
}

// New loads each point's model once (points that name the same folder or
// cloud iteration share it) and opens the log. A model that does not load,
// an invalid point or a log that cannot be opened is an error naming the
// point or the file.
func New(points []scene.Inspection, opts Options) (*Inspector, error) {
	if err := (scene.Config{Inspections: points}).Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	perPoint, all, err := loadModels(points, opts.Cloud)
	if err != nil {
		return nil, err
	}
	in := &Inspector{opts: opts, models: all, arrived: make(chan struct{}, 1)}
	if opts.LogDir != "" {
		if in.log, err = openLog(opts.LogDir, opts.OnLogError); err != nil {
			closeModels(all)
			return nil, err
		}
	}
	for i, cfg := range points {
		in.points = append(in.points, newPoint(cfg, perPoint[i], opts.Offload))
	}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	return in, nil
}

// Inspect judges the points on f and appends to out the events this
// caused: the verdicts of calls off the loop that came back since the last,
// then this frame's, in point order; an analysis_error when a point cannot
// be judged (said once until it can).
func (in *Inspector) Inspect(ctx context.Context, f Frame, out []event.Event) []event.Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	now := in.opts.Clock.Now()
	in.lastT = max(in.lastT, f.T)
	out = in.collect(now, out)
	if f.Mat.Ptr() == nil || f.Mat.Empty() {
		return out
	}
	for _, p := range in.points {
		p.place(f.Mat.Cols(), f.Mat.Rows())
		if p.perTrack {
			out = in.inspectTracks(ctx, p, &f, now, out)
		} else if !p.offloaded {
			out = in.classifyLocal(ctx, p, &f, 0, now, out)
		}
	}
	return in.dispatch(&f, now, out)
}

// classifyLocal judges p's region of f inline.
func (in *Inspector) classifyLocal(ctx context.Context, p *point, f *Frame, track int, now time.Time, out []event.Event) []event.Event {
	roi, err := p.crop(f.Mat)
	if err != nil {
		return p.failed(f.At, err, out)
	}
	defer roi.Close()
	preds, err := p.model.predict(ctx, roi)
	if err != nil {
		return p.failed(f.At, err, out)
	}
	return in.judged(p, preds, f.At, f.T, track, roi, now, out)
}

// judged turns predictions into p's verdict and applies it.
func (in *Inspector) judged(p *point, preds []analyzer.Prediction, at event.At, t time.Duration, track int, crop gocv.Mat, now time.Time, out []event.Event) []event.Event {
	v, err := judge(preds, p.model.detector, p.cfg.Pass, p.threshold)
	if err != nil {
		return p.failed(at, err, out)
	}
	v.At, v.TrackID = t, track
	return in.apply(p, v, at, crop, now, out)
}

// apply makes v p's verdict. A verdict that counts (every per_track one; a
// continuous one that changes the state) is counted, told to Record,
// logged with its crop when it is not a pass, and published.
func (in *Inspector) apply(p *point, v Verdict, at event.At, crop gocv.Mat, now time.Time, out []event.Event) []event.Event {
	p.lastErr = ""
	changed := v.State != p.verdict.State
	p.verdict = v
	if !p.perTrack && !changed {
		return out
	}
	p.tally.add(v.State, v.At)
	if in.opts.Record != nil {
		in.opts.Record(p.cfg.Name, v.State, v.At)
	}
	e := &event.Inspection{Header: event.Header{Type: event.TypeInspection}, At: at,
		Point: p.cfg.Name, State: v.State, Tag: v.Tag, Probability: v.Probability}
	if v.TrackID != 0 {
		id := v.TrackID
		e.TrackID = &id
	}
	if in.log != nil {
		keep := gocv.Mat{}
		if v.State != StatePass {
			keep = crop
		}
		e.Crop = in.log.add(now, e, keep)
	}
	if e.Crop != "" && v.State == StateFail {
		p.lastFailCrop = e.Crop
	}
	return append(out, e)
}

// Drain waits, until ctx ends, for the calls in flight off the frame loop
// (cloud, offloaded), and appends the events of their verdicts: the end of
// a run calls it before the summary.
func (in *Inspector) Drain(ctx context.Context, out []event.Event) []event.Event {
	for waiting := true; waiting && in.inFlight() > 0; {
		select {
		case <-ctx.Done():
			waiting = false
		case <-in.arrived:
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.collect(in.opts.Clock.Now(), out)
}

// Counts returns each point's totals.
func (in *Inspector) Counts() map[string]event.InspectionCount {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := make(map[string]event.InspectionCount, len(in.points))
	for _, p := range in.points {
		c[p.cfg.Name] = p.tally.total
	}
	return c
}

// Summary adds the points' totals to the summary (its inspections).
func (in *Inspector) Summary(sum *event.Summary) {
	if len(in.points) > 0 {
		sum.Inspections = in.Counts()
	}
}

// AttachCrops gives the alerts in events of rules on an inspection point
// (inspection_fail, yield_below) the point's latest fail crop as their
// snapshot, when they have none.
func (in *Inspector) AttachCrops(events []event.Event) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range events {
		a, ok := e.(*event.Alert)
		if !ok || a.Snapshot != "" {
			continue
		}
		if p := in.pointOfRule(a.Rule); p != nil {
			a.Snapshot = p.lastFailCrop
		}
	}
}

func (in *Inspector) pointOfRule(rule string) *point {
	for _, r := range in.opts.Rules {
		if r.Name == rule && r.Point != "" {
			return in.point(r.Point)
		}
	}
	return nil
}

func (in *Inspector) point(name string) *point {
	for _, p := range in.points {
		if p.cfg.Name == name {
			return p
		}
	}
	return nil
}

// Close, after the last Inspect, stops the calls in flight (their verdicts
// are dropped: Drain first to keep them), releases the models and closes
// the log, returning its error.
func (in *Inspector) Close() error {
	in.cancel()
	in.calls.Wait()
	in.inboxMu.Lock()
	for _, r := range in.inbox {
		r.crop.Close()
	}
	in.inbox = nil
	in.inboxMu.Unlock()
	closeModels(in.models)
	in.models = nil
	if in.log == nil {
		return nil
	}
	if err := in.log.close(); err != nil {
		return fmt.Errorf("inspection log: %w", err)
	}
	return nil
}
