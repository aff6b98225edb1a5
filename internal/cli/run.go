package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

type runFlags struct {
	source, backend, features, events string
	threshold, fpsLimit               float64
	maxFrames                         int64
	duration, openTimeout             time.Duration
	realtime                          bool
	out, snapshotDir                  string
	retries                           int
	cloudPerMinute                    float64
	cloudPerDay                       int
	cacheTTL                          time.Duration
	privacy                           bool
	snapshotEvery                     time.Duration
	healthEvery                       time.Duration
	transport                         string
}

func cmdRun(ctx context.Context, e env, args []string) error {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.source, "source", "", "file, file://, rtsp://, rtsps://, http(s):// or webcam:N")
	fs.StringVar(&f.backend, "backend", "auto", "local, azure or auto")
	fs.StringVar(&f.features, "features", "", "comma-separated features (default objects,people,tags; the cloud adds caption)")
	fs.Float64Var(&f.threshold, "threshold", 0, "minimum confidence of objects, people and tags (default 0.25 locally)")
	fs.Float64Var(&f.fpsLimit, "fps-limit", 0, "analyses per second at most (0: as fast as the analyzer goes)")
	fs.Int64Var(&f.maxFrames, "max-frames", 0, "stop after this many frames read (0: no limit)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0: no limit)")
	fs.BoolVar(&f.realtime, "realtime", false, "pace files at their native frame rate")
	fs.DurationVar(&f.openTimeout, "open-timeout", 20*time.Second, "give up on a source that delivers no frame for this long")
	fs.StringVar(&f.events, "events", "", "write JSON events to FILE, or - for stdout")
	fs.StringVar(&f.out, "out", "", "record the annotated video to FILE.mp4")
	fs.StringVar(&f.snapshotDir, "snapshot-dir", "", "folder for PNG snapshots (clean and annotated), taken on SIGUSR1 and every --snapshot-every")
	fs.DurationVar(&f.snapshotEvery, "snapshot-every", 0, "with --snapshot-dir: a snapshot this often (video time for files)")
	fs.IntVar(&f.retries, "retries", 3, "retries of a failed cloud call (analyze, ocr, predict)")
	fs.Float64Var(&f.cloudPerMinute, "cloud-per-minute", 20, "cloud calls a minute at most, evenly spaced")
	fs.IntVar(&f.cloudPerDay, "cloud-per-day", 0, "cloud calls a day at most (0: no daily limit)")
	fs.DurationVar(&f.cacheTTL, "cache-ttl", time.Minute, "how long a cloud result answers for the same scene")
	fs.StringVar(&f.transport, "rtsp-transport", "tcp", "RTP transport of rtsp:// sources: tcp or udp")
	fs.DurationVar(&f.healthEvery, "health-every", 0, "write a health event (memory, goroutines, open Mats) this often")
	fs.BoolVar(&f.privacy, "privacy", false, "blur faces before frames leave the machine, and in recordings and snapshots")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (the source is given with --source)", pos[0])
	}
	if f.source == "" {
		return usagef("--source is required")
	}
	if f.transport != "tcp" && f.transport != "udp" {
		return usagef("--rtsp-transport %q: tcp or udp", f.transport)
	}
	kind, _, err := video.Parse(f.source)
	if err != nil {
		return err
	}
	features, err := parseFeatures(f.features)
	if err != nil {
		return err
	}
	// A file read as fast as it goes analyses every frame: one detector a
	// core then keeps every core busy.
	batch := kind == video.KindFile && !f.realtime
	opts, closeFn, err := schedulerOptions(e, f, features, batch)
	if err != nil {
		return err
	}
	defer closeFn()

	var evw io.Writer
	switch f.events {
	case "":
	case "-":
		evw = e.stdout
	default:
		file, err := os.Create(f.events)
		if err != nil {
			return usagef("events file: %v", err)
		}
		defer file.Close()
		evw = file
	}
	start := time.Now()
	ev := newEvents(evw, start)
	if ev == nil {
		// Without --events the summary still goes to stdout.
		ev = newEvents(e.stdout, start)
		ev.quiet = true
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	snapshots := make(chan os.Signal, 1)
	signal.Notify(snapshots, syscall.SIGUSR1)
	defer signal.Stop(snapshots)
	return runPipeline(ctx, f, kind != video.KindFile, opts, ev, snapshots)
}

// schedulerOptions builds the backends --backend asks for.
func schedulerOptions(e env, f runFlags, features analyzer.Features, batch bool) (analyzer.SchedulerOptions, func(), error) {
	o := analyzer.SchedulerOptions{
		Mode:           analyzer.Mode(f.backend),
		Options:        analyzer.Options{Threshold: f.threshold},
		LocalFPS:       f.fpsLimit,
		CloudPerMinute: f.cloudPerMinute,
		CloudPerDay:    f.cloudPerDay,
		CacheTTL:       f.cacheTTL,
	}
	if f.cacheTTL == 0 {
		o.CacheTTL = -1
	}
	if f.fpsLimit > 0 {
		o.CloudPerMinute = min(o.CloudPerMinute, 60*f.fpsLimit)
	}
	closeFn := func() {}
	switch o.Mode {
	case analyzer.ModeLocal, analyzer.ModeCloud, analyzer.ModeAuto:
	default:
		return o, nil, usagef("unknown backend %q (local, azure or auto)", f.backend)
	}
	if o.Mode != analyzer.ModeLocal && azureConfigured(e) {
		// The scheduler retries at its own pace, inside the budget.
		cloud, err := newAzureAnalyzer(e, 0)
		if err != nil {
			return o, nil, err
		}
		o.Cloud = cloud
	} else if o.Mode == analyzer.ModeCloud {
		return o, nil, usagef("--backend azure needs VISION_ENDPOINT and VISION_KEY (or SIGHTLINE_AZURE_AUTH=entra) in the environment")
	}
	if o.Mode != analyzer.ModeCloud || f.privacy {
		lo := local.Options{}
		if batch {
			lo = local.BatchOptions()
			o.LocalWorkers = lo.Detectors
		}
		b := local.New(lo)
		closeFn = func() { b.Close() }
		if o.Mode != analyzer.ModeCloud {
			o.Local = b
		}
		if f.privacy {
			o.Privacy = b
		}
	}
	o.Features = features
	if o.Features == nil {
		o.Features = analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags}
		if o.Cloud != nil {
			o.Features = append(o.Features, analyzer.FeatureCaption)
		}
	}
	if f.privacy && o.Local != nil && !o.Features.Has(analyzer.FeatureFaces) {
		// Recordings and snapshots blur the faces the local model finds.
		o.Features = append(o.Features, analyzer.FeatureFaces)
	}
	var localFeatures analyzer.Features
	for _, ft := range o.Features {
		if !(o.Local != nil && o.Local.Supports(ft)) && !(o.Cloud != nil && o.Cloud.Supports(ft)) {
			closeFn()
			return o, nil, usagef("feature %q is not available with --backend %s", ft, f.backend)
		}
		if o.Local != nil && o.Local.Supports(ft) {
			localFeatures = append(localFeatures, ft)
		}
	}
	if o.Privacy != nil {
		localFeatures = append(localFeatures, analyzer.FeatureFaces)
	}
	if err := loadModels(o.Privacy, localFeatures); err != nil {
		closeFn()
		return o, nil, err
	}
	if err := loadModels(o.Local, localFeatures); err != nil {
		closeFn()
		return o, nil, err
	}
	return o, closeFn, nil
}

// streamClock is the time of a file read as fast as possible: its
// presentation time. Budgets and the cache then behave as they would in
// real time, and the result does not depend on the machine's speed.
type streamClock struct {
	mu    sync.Mutex
	start time.Time
	pts   time.Duration
}

func (c *streamClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(c.pts)
}

func (c *streamClock) set(pts time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pts = max(c.pts, pts)
}

// runPipeline reads, analyses and reports until the source ends, the limits
// are reached or ctx is cancelled; the summary is always written last.
func runPipeline(ctx context.Context, f runFlags, live bool, o analyzer.SchedulerOptions, ev *events, snapshotReq <-chan os.Signal) (err error) {
	var (
		sum       summaryEvent
		lat       analyzer.Meter
		src       video.Source
		sched     *analyzer.Scheduler
		stopSched context.CancelFunc
		out       *output
	)
	defer func() {
		if out != nil {
			if cerr := out.close(); cerr != nil {
				ev.status(string(video.StateError), cerr.Error())
			}
		}
		if sched != nil {
			// The last frame's analyses may finish, briefly: a cloud call
			// hanging until its timeout must not hold up the end of the run.
			done := make(chan struct{})
			go func() { sched.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(drainGrace):
			}
			stopSched()
			sched.Close()
			st := sched.Stats()
			sum.FramesAnalyzed, sum.CloudCalls, sum.CacheHits = st.FramesAnalyzed, st.Cloud.Calls, st.Cloud.CacheHits
			sum.LocalAnalyses, sum.CloudErrors, sum.LocalErrors = st.Local.Calls-st.Local.Errors, st.Cloud.Errors, st.Local.Errors
			sum.Analyses = sum.LocalAnalyses + sum.CloudCalls + sum.CacheHits
			sum.CostUSD, sum.CacheHitRate = st.CostUSD, st.HitRate()
		}
		if src != nil {
			st := src.Stats()
			sum.Reconnects, sum.Dropped = st.Reconnects, st.Dropped
			src.Close()
		}
		if f.healthEvery > 0 {
			ev.health(sum.FramesRead, sum.Reconnects)
		}
		if ctx.Err() != nil {
			ev.status(string(video.StateStopped), stopReason(ctx, f))
			err = nil
		}
		elapsed := time.Since(ev.start).Seconds()
		sum.Type, sum.TMS = "summary", ev.now()
		if elapsed > 0 {
			sum.ReadFPS = round1(float64(sum.FramesRead) / elapsed)
			sum.AnalyzedFPS = round1(float64(sum.FramesAnalyzed) / elapsed)
		}
		sum.LatencyP50, sum.LatencyP95 = ms(lat.Percentile(50)), ms(lat.Percentile(95))
		ev.summary(sum)
	}()

	var clock *streamClock
	if !live && !f.realtime {
		clock = &streamClock{start: time.Now()}
		o.Clock = clock
		o.WaitForLocal = true
	}
	o.OnResult = func(r *analyzer.Result) {
		if r.Err != nil {
			ev.analysisError(r)
			return
		}
		lat.Add(r.Latency)
		ev.analysis(r)
	}
	o.OnBackend = ev.backend
	// Cancelled after the drain in the deferred summary, not before it.
	schedCtx, cancelSched := context.WithCancel(ctx)
	sched = analyzer.NewScheduler(schedCtx, o)
	stopSched = cancelSched

	opened, err := video.Open(ctx, f.source, video.Options{
		OpenTimeout: f.openTimeout,
		Realtime:    f.realtime,
		Transport:   f.transport,
		OnStatus:    func(s video.Status) { ev.status(string(s.State), s.Detail) },
	})
	if err != nil {
		return err
	}
	src = opened
	if f.out != "" || f.snapshotDir != "" {
		out = &output{flags: f, filter: overlay.Filter{Threshold: thresholdOrDefault(f.threshold), BlurFaces: f.privacy}, ev: ev, fps: src.Info().FPS}
	}

	healthTick, stopHealth := healthTicker(f.healthEvery)
	defer stopHealth()
	if f.healthEvery > 0 {
		ev.health(0, 0)
	}
	for f.maxFrames == 0 || sum.FramesRead < f.maxFrames {
		select {
		case <-healthTick:
			ev.health(sum.FramesRead, src.Stats().Reconnects)
		default:
		}
		frame, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		sum.FramesRead++
		if clock != nil {
			clock.set(frame.PTS)
		}
		sched.Offer(frame.Seq, frame.PTS, frame.Mat)
		if out != nil {
			snap := false
			select {
			case <-snapshotReq:
				snap = true
			default:
			}
			out.frame(frame, sched.Merged(), snap)
		}
		sum.FramesShown++
		frame.Release()
	}
	return nil
}

// output writes what run shows: the annotated recording and snapshots.
type output struct {
	flags    runFlags
	filter   overlay.Filter
	ev       *events
	fps      float64
	rec      *video.Recorder
	failed   bool // the recording failed once: reported, not retried
	lastSnap time.Duration
	snapped  bool
}

func (o *output) frame(fr *video.Frame, m *analyzer.Merged, snapRequested bool) {
	periodic := o.flags.snapshotEvery > 0 && (!o.snapped || fr.PTS-o.lastSnap >= o.flags.snapshotEvery)
	snap := o.flags.snapshotDir != "" && (snapRequested || periodic)
	var clean gocv.Mat
	if snap {
		clean = fr.Mat.Clone()
		defer clean.Close()
		if o.filter.BlurFaces && m.Analysis != nil {
			overlay.Draw(&clean, &analyzer.Analysis{Faces: m.Faces}, overlay.Filter{BlurFaces: true, HideFaces: true})
		}
	}
	if m.Analysis != nil {
		overlay.Draw(&fr.Mat, m.Analysis, o.filter)
	}
	if snap {
		o.snapped, o.lastSnap = true, fr.PTS
		if _, annotated, err := video.SaveSnapshot(o.flags.snapshotDir, fr.Seq, clean, fr.Mat); err != nil {
			o.ev.status(string(video.StateError), err.Error())
		} else {
			o.ev.snapshot(fr.Seq, annotated)
		}
	}
	if o.flags.out == "" || o.failed {
		return
	}
	if o.rec == nil {
		rec, err := video.NewRecorder(o.flags.out, fr.Mat.Cols(), fr.Mat.Rows(), o.fps)
		if err != nil {
			o.failed = true
			o.ev.status(string(video.StateError), "recording: "+err.Error())
			return
		}
		o.rec = rec
	}
	if err := o.rec.Write(fr.Mat, fr.PTS); err != nil {
		o.failed = true
		o.ev.status(string(video.StateError), "recording: "+err.Error())
	}
}

// close finalises the recording so that it plays, also after Ctrl-C.
func (o *output) close() error {
	if o.rec == nil {
		return nil
	}
	return o.rec.Close()
}

func thresholdOrDefault(t float64) float64 {
	if t <= 0 {
		return local.DefaultThreshold
	}
	return t
}

// drainGrace is how long the end of a run waits for analyses in flight.
const drainGrace = 2 * time.Second

func stopReason(ctx context.Context, f runFlags) string {
	if f.duration > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("--duration %v reached", f.duration)
	}
	return "interrupted"
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
