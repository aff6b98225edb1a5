package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/meter"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// fileRun is a pipeline as `run` builds it for one file read as fast as it
// decodes: every frame analysed on opts' backends, frames of them (the
// file looping when shorter), headless (nothing drawn unless draw).
type fileRun struct {
	source string
	frames int
	opts   schedule.Options
	scene  *scene.Config
	// draw attaches an output that has the overlay drawn on every frame.
	draw bool
	// outputs, when set, starts what the run sends its events to; stop is
	// called after the run, once its bus has delivered the summary.
	outputs func(ctx context.Context, p *pipeline.Pipeline, bus *event.Bus) (stop func(), err error)
}

// fps plays the run and returns its frames a second after the warm-up.
func (r fileRun) fps(ctx context.Context) (float64, error) {
	m, err := r.run(ctx)
	return m.fps, err
}

// run plays the run and measures it from its warm-up to its end.
func (r fileRun) run(ctx context.Context) (pipelineRun, error) {
	bus := event.NewBus(clock.Real{}, "")
	defer bus.Close() // at once on an early return
	p, err := pipeline.New(pipeline.Config{Source: r.source, Schedule: r.opts, EveryFrame: true, Keep: true,
		MaxFrames: int64(r.frames), Filter: overlay.Filter{Threshold: local.DefaultThreshold}, Events: bus, Scene: r.scene})
	if err != nil {
		return pipelineRun{}, err
	}
	stop := func() {}
	if r.outputs != nil {
		if stop, err = r.outputs(ctx, p, bus); err != nil {
			return pipelineRun{}, err
		}
	}
	m := &runMeter{}
	bus.Attach(m)
	if r.draw {
		p.Attach("draw", pipeline.FrameFunc(func(f *pipeline.Frame) error {
			f.Drawn()
			return nil
		}))
	}
	err = p.Run(ctx)
	stopped, cpu := time.Now(), cpuTime()
	bus.Close()
	stop()
	if err != nil {
		return pipelineRun{}, err
	}
	return m.end(stopped, cpu)
}

// cameraCounts are the camera counts of the scaling table.
var cameraCounts = []int{1, 2, 4, 8}

// pooledCameras is the count at which the shared pool is compared with
// one pool a camera.
const pooledCameras = 4

// cameraRates are one configuration's per-camera analysed fps, a run each.
type cameraRates [][]float64

func (c cameraRates) add(rep *Report, label string) (total Figure) {
	var totals, means, slowest, fastest []float64
	for _, run := range c {
		var sum float64
		for _, r := range run {
			sum += r
		}
		totals, means = append(totals, sum), append(means, sum/float64(len(run)))
		slowest, fastest = append(slowest, slices.Min(run)), append(fastest, slices.Max(run))
	}
	total = rep.figure(label+": total analysed", "fps", totals)
	rep.figure(label+": per camera", "fps", means)
	rep.figure(label+": slowest camera", "fps", slowest)
	rep.figure(label+": fastest camera", "fps", fastest)
	return total
}

// evenness is the median run's slowest camera over its fastest.
func (c cameraRates) evenness() float64 {
	var ratios []float64
	for _, run := range c {
		ratios = append(ratios, slices.Min(run)/slices.Max(run))
	}
	return meter.Percentile(ratios, 50)
}

// cameraScaling measures 1, 2, 4 and 8 cameras in one process as `run
// --source A --source B …` builds them (one local pool of one-thread
// detectors, a core each, shared; each camera one analysis at a time; the
// files played at their own rate), against the single-camera pipeline on
// the same file read as fast as it decodes, and 4 cameras each with a
// pool of its own (what separate processes would build).
func cameraScaling(ctx context.Context, b *bench) error {
	repeats := min(b.cfg.Repeats, 3) // a run plays for seconds of video time
	window := min(6*time.Second, max(500*time.Millisecond, time.Duration(b.cfg.Frames)*20*time.Millisecond))
	single, err := backend.Build(localDetection(local.BatchOptions()))
	if err != nil {
		return err
	}
	defer single.Close()
	shared := local.New(local.Options{Threads: 1, Detectors: runtime.NumCPU()})
	defer shared.Close()
	reference := fileRun{source: b.cfg.Source, frames: b.cfg.Frames, opts: single.Schedule()}
	var ref []float64
	sharedRuns := make([]cameraRates, len(cameraCounts))
	var pooledRuns cameraRates
	for range repeats {
		fps, err := reference.fps(ctx)
		if err != nil {
			return err
		}
		ref = append(ref, fps)
		for i, n := range cameraCounts {
			rates, err := sharedPoolRun(ctx, b.cfg.Source, shared, n, window)
			if err != nil {
				return fmt.Errorf("%d cameras: %w", n, err)
			}
			sharedRuns[i] = append(sharedRuns[i], rates)
		}
		rates, err := ownPoolsRun(ctx, b.cfg.Source, pooledCameras, window)
		if err != nil {
			return fmt.Errorf("%d cameras, a pool each: %w", pooledCameras, err)
		}
		pooledRuns = append(pooledRuns, rates)
	}
	addCameraFigures(b.rep, ref, sharedRuns, pooledRuns)
	return nil
}

// addCameraFigures writes the scaling table: each count's figures and
// its total against the reference, the shared pool against a pool each,
// and how evenly a busy pool serves the cameras.
func addCameraFigures(rep *Report, ref []float64, sharedRuns []cameraRates, pooledRuns cameraRates) {
	fr := rep.figure("1 file camera as fast as it decodes (reference)", "fps", ref)
	var pooledShared Figure
	for i, n := range cameraCounts {
		total := sharedRuns[i].add(rep, plural(n, "camera")+", shared pool")
		rep.ratio(plural(n, "camera")+", total / the reference", total.Median/fr.Median, 0, "")
		if n == pooledCameras {
			pooledShared = total
		}
	}
	own := pooledRuns.add(rep, plural(pooledCameras, "camera")+", a pool each")
	rep.ratio(plural(pooledCameras, "camera")+": shared pool / a pool each", pooledShared.Median/own.Median, 0, "")
	for i, n := range cameraCounts {
		if n >= pooledCameras { // the pool is busy: each camera should still get its share
			rep.ratio(plural(n, "camera")+": slowest / fastest camera", sharedRuns[i].evenness(), 0.8, "≥ 0.8")
		}
	}
}

// plural is "1 camera", "2 cameras"…
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// sharedPoolRun plays n cameras on the shared pool, as `run` with several
// sources configures them, and returns each one's analysed fps.
func sharedPoolRun(ctx context.Context, source string, pool *local.Backend, n int, window time.Duration) ([]float64, error) {
	budget := schedule.NewBudget(20, 0) // one cloud resource for all, as `run` shares it
	scheds := make([]schedule.Options, n)
	for i := range scheds {
		opts, err := backend.Schedule(localDetection(local.Options{Detectors: 1}), pool)
		if err != nil {
			return nil, err
		}
		opts.Budget = budget
		scheds[i] = opts
	}
	return liveCameras(ctx, source, scheds, window)
}

// ownPoolsRun plays n cameras each on a local backend of its own, as a
// `run` of one live camera builds it.
func ownPoolsRun(ctx context.Context, source string, n int, window time.Duration) ([]float64, error) {
	scheds := make([]schedule.Options, n)
	for i := range scheds {
		be, err := backend.Build(localDetection(local.Options{}))
		if err != nil {
			return nil, err
		}
		defer be.Close()
		scheds[i] = be.Schedule()
	}
	return liveCameras(ctx, source, scheds, window)
}

// liveCameras plays source on one camera a schedule, each at the file's
// own rate, and counts each camera's analysed frames over window after a
// third of it to settle.
func liveCameras(ctx context.Context, source string, scheds []schedule.Options, window time.Duration) ([]float64, error) {
	bus := event.NewBus(clock.Real{}, "")
	defer bus.Close()
	ps := make([]*pipeline.Pipeline, len(scheds))
	for i, s := range scheds {
		p, err := pipeline.New(pipeline.Config{Source: source, Video: video.Options{Realtime: true}, Schedule: s, Keep: true,
			Filter: overlay.Filter{Threshold: local.DefaultThreshold}, Events: bus.Camera(fmt.Sprintf("camera-%d", i+1)), OwnSummary: true})
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	runCtx, stop := context.WithCancel(ctx)
	errs := make([]error, len(ps)+1)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { errs[i] = p.Run(runCtx) })
	}
	rates, err := analysedRates(runCtx, ps, window/3, window)
	stop()
	wg.Wait()
	errs[len(ps)] = err
	return rates, errors.Join(errs...)
}

// analysedRates waits settle, then returns each pipeline's analysed frames
// a second over window. A camera that analysed nothing is an error.
func analysedRates(ctx context.Context, ps []*pipeline.Pipeline, settle, window time.Duration) ([]float64, error) {
	clk := clock.Real{}
	if err := clk.Sleep(ctx, settle); err != nil {
		return nil, err
	}
	before, start := analysedCounts(ps), clk.Now()
	if err := clk.Sleep(ctx, window); err != nil {
		return nil, err
	}
	after, secs := analysedCounts(ps), clk.Now().Sub(start).Seconds()
	rates := make([]float64, len(ps))
	for i := range ps {
		if rates[i] = float64(after[i]-before[i]) / secs; rates[i] == 0 {
			return nil, fmt.Errorf("camera %d analysed no frame in %v (%s %s)", i+1, window, ps[i].Status().State, ps[i].Status().Detail)
		}
	}
	return rates, nil
}

func analysedCounts(ps []*pipeline.Pipeline) []int64 {
	n := make([]int64, len(ps))
	for i, p := range ps {
		n[i] = p.Stats().Schedule.FramesAnalyzed
	}
	return n
}
