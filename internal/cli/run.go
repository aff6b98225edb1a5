package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/clip"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/plant"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

type runFlags struct {
	device                    *string
	dev                       local.Device // --device, parsed
	sources                   stringList
	camerasFile               string
	backend, features, events string
	threshold, fpsLimit       float64
	maxFrames                 int64
	duration, openTimeout     time.Duration
	realtime                  bool
	out, snapshotDir          string
	retries                   int
	cloudPerMinute            float64
	cloudPerDay               int
	cacheTTL                  time.Duration
	privacy                   bool
	snapshotEvery             time.Duration
	healthEvery               time.Duration
	transport                 string
	scene                     string
	track                     bool
	inspectLog                string
	clipDir                   string
	pre, post                 time.Duration
	clipAnnotated             bool
	captureDir                string
	capture                   capture.Options
	captureMaxMB              int64
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.sources, "source", "file, file://, rtsp://, rtsps://, http(s):// or webcam:N; several --source run several cameras")
	fs.StringVar(&f.camerasFile, "cameras", "", "a cameras.json naming each camera, its source, and optionally its scene and backend")
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
	fs.IntVar(&f.retries, "retries", 3, "kept for scripts: run retries within the cloud budget, at its own pace")
	fs.Float64Var(&f.cloudPerMinute, "cloud-per-minute", 20, "cloud calls a minute at most, evenly spaced")
	fs.IntVar(&f.cloudPerDay, "cloud-per-day", 0, "cloud calls a day at most (0: no daily limit)")
	fs.DurationVar(&f.cacheTTL, "cache-ttl", time.Minute, "how long a cloud result answers for the same scene")
	fs.StringVar(&f.transport, "rtsp-transport", "tcp", "RTP transport of rtsp:// sources: tcp or udp")
	fs.DurationVar(&f.healthEvery, "health-every", 0, "write a health event (memory, goroutines, the source's state) this often")
	fs.BoolVar(&f.privacy, "privacy", false, "blur faces before frames leave the machine, and in recordings and snapshots")
	fs.StringVar(&f.scene, "scene", "", "scene file (JSON): tracks, counting lines, zones and alert rules")
	fs.BoolVar(&f.track, "track", false, "follow tracks (track_id on objects, track events) without a scene file")
	fs.StringVar(&f.clipDir, "clip-dir", "", "write event clips here: on alerts and SIGUSR2, --pre before to --post after")
	fs.DurationVar(&f.pre, "pre", clip.DefaultPre, "with --clip-dir: video before a clip's trigger")
	fs.DurationVar(&f.post, "post", clip.DefaultPost, "with --clip-dir: video after it")
	fs.BoolVar(&f.clipAnnotated, "clip-annotated", false, "with --clip-dir: clips of the drawn frames (re-encoded) instead of the source's own")
	fs.StringVar(&f.captureDir, "capture-dir", "", "save frames worth labelling here (uncertain boxes, a random sample), with their predictions")
	fs.Float64Var(&f.capture.Band, "capture-band", 0.1, "with --capture-dir: a box within this of the threshold makes the frame uncertain")
	fs.Float64Var(&f.capture.Sample, "capture-sample", 0.01, "with --capture-dir: the share of analysed frames saved at random (0: none)")
	fs.IntVar(&f.capture.PerMinute, "capture-per-minute", 10, "with --capture-dir: frames saved a minute at most")
	fs.Int64Var(&f.captureMaxMB, "capture-max-mb", 2048, "with --capture-dir: the folder's captures stop at this size")
	f.device = deviceFlag(fs)
	fs.StringVar(&f.inspectLog, "inspect-log", "", "with inspection points: append every verdict to DIR/inspections.csv and .jsonl, with crops of fails and reviews")
}

func cmdRun(ctx context.Context, e env, args []string) error {
	var f runFlags
	var pf plantFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f.register(fs)
	pf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (the source is given with --source)", pos[0])
	}
	if f.transport != "tcp" && f.transport != "udp" {
		return usagef("--rtsp-transport %q: tcp or udp", f.transport)
	}
	if f.dev, err = parseDevice(*f.device); err != nil {
		return err
	}
	cams, err := f.cameras(pf.camera)
	if err != nil {
		return err
	}
	if len(cams) > 1 && f.out != "" {
		return usagef("--out records one camera; with several, --clip-dir keeps what happened")
	}
	var outs plant.Outputs
	defer stopPlant(e, &outs) // after the bus has delivered the summary
	observe := outs.ObserveCloud
	if pf.otlpEndpoint == "" {
		observe = nil
	}
	closeBackends, err := f.backends(e, cams, observe)
	if err != nil {
		return err
	}
	defer closeBackends()

	bus := event.NewBus(clock.Real{}, "")
	defer bus.Close() // at once on an early return; the run's end closes it first
	events, closeEvents, err := eventsWriter(e, f.events)
	if err != nil {
		return err
	}
	defer closeEvents()
	bus.Attach(events)
	for _, c := range cams {
		if err := f.buildCamera(e, c, bus, len(cams) > 1); err != nil {
			return err
		}
	}
	if err := pf.start(ctx, e, &outs, cams, bus); err != nil {
		return err
	}
	defer onSignal(syscall.SIGUSR1, func() { eachCamera(cams, func(c *camera) { c.snaps.Request() }, (*camera).hasSnapshots) })()
	defer onSignal(syscall.SIGUSR2, func() { eachCamera(cams, func(c *camera) { c.clips.TriggerNow("SIGUSR2") }, (*camera).hasClips) })()
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.duration, fmt.Errorf("--duration %v reached", f.duration))
		defer cancel()
	}
	err = runCameras(ctx, cams, bus)
	bus.Close()
	if werr := events.Err(); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

func (c *camera) hasSnapshots() bool { return c.snaps != nil }
func (c *camera) hasClips() bool     { return c.clips != nil }

// eachCamera calls fn on the cameras that have what it needs.
func eachCamera(cams []*camera, fn func(*camera), has func(*camera) bool) {
	for _, c := range cams {
		if has(c) {
			fn(c)
		}
	}
}

// backends builds the local models once for every camera (a pool of
// detectors the cameras take turns on, fairly: each has one analysis at a
// time) and each camera's scheduler options, sharing one cloud budget:
// the cameras call one Azure resource.
func (f *runFlags) backends(e env, cams []*camera, observe func(azure.Attempt)) (func(), error) {
	for _, c := range cams {
		kind, _, err := video.Parse(c.source)
		if err != nil {
			return nil, err
		}
		// Several cameras play files at their own rate, side by side.
		c.everyFrame = kind == video.KindFile && !f.realtime && len(cams) == 1
	}
	lo, perCamera := local.Options{Threads: 1, Detectors: runtime.NumCPU()}, local.Options{Detectors: 1}
	if len(cams) == 1 {
		lo = local.Options{}
		if cams[0].everyFrame {
			lo = local.BatchOptions() // one detector a core keeps every core busy
		}
		perCamera = lo
	}
	lo.Device, perCamera.Device = f.dev, f.dev
	var loc *local.Backend
	if f.needsLocal(cams) {
		loc = local.New(lo)
	}
	closeFn := func() {
		if loc != nil {
			loc.Close()
		}
	}
	budget := schedule.NewBudget(f.cloudPerMinute, f.cloudPerDay)
	for _, c := range cams {
		cfg, err := f.backendConfig(e, c.mode, perCamera)
		if err != nil {
			closeFn()
			return nil, err
		}
		cfg.Vision.Observe = observe
		opts, err := backend.Schedule(cfg, loc)
		if err != nil {
			closeFn()
			return nil, configError(err)
		}
		opts.Budget = budget
		c.schedule = opts
	}
	return closeFn, nil
}

// needsLocal: a camera analyses locally, or blurs faces before the cloud.
func (f *runFlags) needsLocal(cams []*camera) bool {
	for _, c := range cams {
		if c.mode != schedule.ModeCloud || f.privacy {
			return true
		}
	}
	return false
}

// buildCamera makes a camera's pipeline and its outputs; with several
// cameras, each has its own folder of snapshots and inspection log, and
// its name on every event.
func (f *runFlags) buildCamera(e env, c *camera, bus *event.Bus, several bool) error {
	c.bus = bus
	snapDir, logDir := f.snapshotDir, f.inspectLog
	if several {
		c.bus = bus.Camera(c.name)
		snapDir, logDir = subdir(snapDir, c.name), subdir(logDir, c.name)
	}
	videoOpts := video.Options{OpenTimeout: f.openTimeout, Realtime: f.realtime || several, Transport: f.transport}
	var err error
	if c.clips, err = f.clips(c.name, c.bus, &videoOpts); err != nil {
		return err
	}
	c.p, err = pipeline.New(pipeline.Config{
		Source:      c.source,
		Video:       videoOpts,
		Schedule:    c.schedule,
		EveryFrame:  c.everyFrame,
		MaxFrames:   f.maxFrames,
		Filter:      overlay.Filter{Threshold: thresholdOrDefault(f.threshold), BlurFaces: f.privacy},
		Events:      c.bus,
		HealthEvery: f.healthEvery,
		Scene:       c.scene,
		OwnSummary:  several,
		Inspection: inspect.Options{
			LogDir:  logDir,
			Offload: !c.everyFrame, // a live source must not wait for a model
			Cloud: func(project, published string) (analyzer.Predictor, error) {
				return newAzurePredictor(e, project, published, 0, false) // retried at the budget's next turn
			},
		},
	})
	if err != nil {
		return usagef("camera %s: %v", c.name, err)
	}
	if c.clips != nil {
		c.p.Attach("clips", c.clips.Output(f.clipAnnotated)) // alerts name their clip through it
	}
	if f.out != "" {
		c.p.Attach("recording", pipeline.NewRecording(f.out))
	}
	if snapDir != "" {
		c.snaps = pipeline.NewSnapshots(snapDir, f.snapshotEvery, c.bus)
		c.p.Attach("snapshots", c.snaps)
	}
	return f.attachCapture(c, several)
}

// attachCapture saves the camera's frames worth labelling, if
// --capture-dir asks: an output for the frames, a sink for their results.
func (f *runFlags) attachCapture(c *camera, several bool) error {
	if f.captureDir == "" {
		return nil
	}
	dir := f.captureDir
	if several {
		dir = subdir(dir, c.name)
	}
	opts := f.capture
	if opts.Sample == 0 {
		opts.Sample = -1 // the flag's 0 means none; the option's means the default
	}
	opts.MaxBytes, opts.VideoTime = f.captureMaxMB<<20, c.everyFrame
	cp, err := capture.New(dir, opts)
	if err != nil {
		return usagef("--capture-dir: %v", err)
	}
	c.p.Attach("capture", cp)
	c.bus.Attach(cp)
	return nil
}

// subdir is dir/name, or "" when dir is.
func subdir(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// backendConfig turns the flags and the environment into a camera's
// backends' configuration; lo says how many analyses it runs at once.
func (f *runFlags) backendConfig(e env, mode schedule.Mode, lo local.Options) (backend.Config, error) {
	features, err := parseFeatures(f.features)
	if err != nil {
		return backend.Config{}, err
	}
	vision, err := visionFromEnv(e, 0) // the scheduler retries at its own pace, inside the budget
	if err != nil {
		return backend.Config{}, err
	}
	cfg := backend.Config{
		Mode: mode, Features: features, Options: analyzer.Options{Threshold: f.threshold},
		Vision: vision, Privacy: f.privacy,
		LocalFPS: f.fpsLimit, CloudPerMinute: f.cloudPerMinute, CloudPerDay: f.cloudPerDay, CacheTTL: f.cacheTTL,
		Local: lo,
	}
	if f.cacheTTL == 0 {
		cfg.CacheTTL = -1
	}
	if f.fpsLimit > 0 {
		cfg.CloudPerMinute = min(cfg.CloudPerMinute, 60*f.fpsLimit)
	}
	return cfg, nil
}

// clips makes a camera's event clips, if --clip-dir asks for them: from
// the source's own packets (tapped in video) unless they are to be
// annotated.
func (f *runFlags) clips(camera string, bus *event.Bus, o *video.Options) (*clip.Clips, error) {
	if f.clipDir == "" {
		return nil, nil
	}
	c, err := clip.New(clip.Config{Dir: f.clipDir, Camera: camera, Pre: f.pre, Post: f.post, Events: bus})
	if err != nil {
		return nil, usagef("--clip-dir: %v", err)
	}
	if !f.clipAnnotated {
		o.Packets = c
	}
	return c, nil
}

// sceneFlags reads --scene (a file that does not load is a usage error,
// said once) and --track (tracks without lines or zones).
func sceneFlags(path string, track bool) (*scene.Config, error) {
	switch {
	case path != "":
		cfg, err := scene.Load(path)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return &cfg, nil
	case track:
		return &scene.Config{}, nil
	}
	return nil, nil
}

// eventsWriter is where --events go: a file, stdout (-), or, without the
// flag, only the summary to stdout.
func eventsWriter(e env, path string) (*event.Writer, func(), error) {
	switch path {
	case "":
		return event.NewWriter(e.stdout, event.TypeSummary), func() {}, nil
	case "-":
		return event.NewWriter(e.stdout), func() {}, nil
	}
	file, err := os.Create(path)
	if err != nil {
		return nil, nil, usagef("events file: %v", err)
	}
	return event.NewWriter(file), func() { file.Close() }, nil
}

// onSignal calls fn on every sig until stop.
func onSignal(sig os.Signal, fn func()) (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, sig)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-c:
				fn()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(c); close(done) }
}

func thresholdOrDefault(t float64) float64 {
	if t <= 0 {
		return local.DefaultThreshold
	}
	return t
}
