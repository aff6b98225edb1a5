// Package bench measures Sightline side by side on this machine: decoders,
// inference engines, the whole local pipeline against ONNX Runtime alone,
// frame latency and memory. Every figure is a median and p95 over repeated
// runs in one process, and comparisons are ratios of figures measured
// together, because a shared machine's absolute speed drifts.
package bench

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/meter"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// Config says what to measure.
type Config struct {
	Source  string   // a video file
	Frames  int      // frames per run
	Repeats int      // runs per figure
	Model   string   // YOLOX model; the default YOLOX-nano when empty
	Only    []string // the sections to run (SectionIDs); all when empty
}

// Figure is one measured quantity.
type Figure struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Runs   int     `json:"runs"`
}

// Ratio compares two figures measured in the same run.
type Ratio struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"` // of the medians
	Goal  string  `json:"goal,omitempty"`
	Met   *bool   `json:"met,omitempty"`
}

// Report is what `sightline bench` prints and writes as JSON.
type Report struct {
	Machine string    `json:"machine"`
	Source  string    `json:"source"`
	Frames  int       `json:"frames"`
	Date    time.Time `json:"date"`
	Figures []Figure  `json:"figures"`
	Ratios  []Ratio   `json:"ratios"`
}

func (r *Report) figure(name, unit string, runs []float64) Figure {
	f := Figure{Name: name, Unit: unit, Median: meter.Percentile(runs, 50), P95: meter.Percentile(runs, 95), Runs: len(runs)}
	r.Figures = append(r.Figures, f)
	return f
}

// ratio adds a ratio whose goal, when goalText is given, is at least goal.
func (r *Report) ratio(name string, value float64, goal float64, goalText string) {
	r.addRatio(name, value, goalText, value >= goal)
}

// ratioAtMost adds a ratio whose goal is below goal.
func (r *Report) ratioAtMost(name string, value float64, goal float64, goalText string) {
	r.addRatio(name, value, goalText, value < goal)
}

func (r *Report) addRatio(name string, value float64, goalText string, met bool) {
	x := Ratio{Name: name, Value: value}
	if goalText != "" {
		x.Goal, x.Met = goalText, &met
	}
	r.Ratios = append(r.Ratios, x)
}

// Run measures the sections cfg.Only names (all when empty) and returns
// the report.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	if cfg.Frames <= 0 {
		cfg.Frames = 300
	}
	if cfg.Repeats <= 0 {
		cfg.Repeats = 5
	}
	if cfg.Model == "" {
		var err error
		if cfg.Model, err = deps.Model("yolox-nano/yolox_nano.onnx"); err != nil {
			return nil, err
		}
	}
	for _, id := range cfg.Only {
		if !slices.ContainsFunc(sections, func(s section) bool { return s.id == id }) {
			return nil, fmt.Errorf("no bench section %q (%s)", id, strings.Join(SectionIDs(), ", "))
		}
	}
	frame, err := firstFrame(ctx, cfg.Source)
	if err != nil {
		return nil, err
	}
	defer frame.Close()
	b := &bench{cfg: cfg, frame: frame, progress: progress,
		rep: &Report{Machine: machine(), Source: cfg.Source, Frames: cfg.Frames, Date: time.Now().UTC()}}
	for _, s := range sections {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, s.id) {
			continue
		}
		fmt.Fprintf(progress, "bench: %s…\n", s.what)
		if err := s.run(ctx, b); err != nil {
			if !s.optional {
				return nil, fmt.Errorf("%s: %w", s.id, err)
			}
			fmt.Fprintf(progress, "bench: the %s figures are missing: %v\n", s.id, err)
		}
	}
	b.rep.figure("peak RSS", "MiB", []float64{peakRSS()})
	return b.rep, nil
}

// bench is one run's state, handed to each section.
type bench struct {
	cfg      Config
	rep      *Report
	frame    gocv.Mat // the source's first frame
	progress io.Writer
}

// section is one part of the bench: it measures and adds its figures and
// ratios to the report. An optional one that fails (no Xvfb, no peer)
// leaves its figures out and says why.
type section struct {
	id, what string
	optional bool
	run      func(context.Context, *bench) error
}

// sections in the order they run; `sightline bench --only ID,…` picks.
var sections = []section{
	{id: "decode", what: "decoding with go-astiav and GoCV", run: decoders},
	{id: "pipeline", what: "YOLOX on ONNX Runtime alone, on OpenCV DNN, and the full pipeline stage by stage", run: pipelineSection},
	{id: "4k", what: "`run` on a 4K H.264 file in a child process, its peak RSS", run: memory4K},
	{id: "gui", what: "the app under Xvfb on the source and at 1080p30, three runs of 40 s each", optional: true, run: guiDisplay},
	{id: "startup", what: "one image from a cold start, as child processes", run: startup},
	{id: "ages", what: "frame ages on a source paced at its native rate", run: ages},
	{id: "models", what: "each local model's latency", run: modelLatencies},
	{id: "ocr", what: "local OCR against @gutenye/ocr-node on the 50-image set (minutes)", optional: true, run: ocrVersusPeer},
	{id: "cameras", what: "1, 2, 4 and 8 cameras on one shared detector pool", run: cameraScaling},
	{id: "plant", what: "the pipeline with MQTT, Prometheus and OTLP on and off", optional: true, run: plantOutputs},
	{id: "inspect", what: "inspection points with the Custom Vision sample export", optional: true, run: inspectionPoints},
	{id: "eval", what: "eval on 500 labelled images against the detector alone", optional: true, run: evalVersusDetector},
}

// SectionIDs names the sections, for --only.
func SectionIDs() []string {
	ids := make([]string, len(sections))
	for i, s := range sections {
		ids[i] = s.id
	}
	return ids
}

// decoders compares FFmpeg through go-astiav with OpenCV's reader.
func decoders(ctx context.Context, b *bench) error {
	var av, cv []float64
	for range b.cfg.Repeats {
		for _, d := range []struct {
			backend video.Backend
			runs    *[]float64
		}{{video.BackendAstiav, &av}, {video.BackendGoCV, &cv}} {
			fps, err := decodeFPS(ctx, b.cfg.Source, b.cfg.Frames, d.backend)
			if err != nil {
				return err
			}
			*d.runs = append(*d.runs, fps)
		}
	}
	fa := b.rep.figure("decode go-astiav", "fps", av)
	fc := b.rep.figure("decode GoCV", "fps", cv)
	b.rep.ratio("decode go-astiav / GoCV", fa.Median/fc.Median, 0, "")
	return nil
}

// ages measures how old the analysed and the shown frames are on a
// live-paced source.
func ages(ctx context.Context, b *bench) error {
	var analysed, shown []float64
	if err := frameAges(ctx, b.cfg.Source, min(b.cfg.Frames, 150), &analysed, &shown); err != nil {
		return err
	}
	b.rep.figure("age of the frame being analysed", "ms", analysed)
	b.rep.figure("age of the frame being shown", "ms", shown)
	return nil
}

// modelLatencies times each local model on its kind of input: a video
// frame for detection and faces, a 1280×720 frame of 20 text lines for OCR,
// the Custom Vision sample export when the models folder has it.
func modelLatencies(ctx context.Context, bn *bench) error {
	rep, frame, n := bn.rep, bn.frame, bn.cfg.Repeats*4
	b := local.New(local.Options{})
	defer b.Close()
	text := textFrame()
	defer text.Close()
	cases := []struct {
		name string
		img  gocv.Mat
		fs   analyzer.Features
	}{
		{"YOLOX-nano objects+people, one frame", frame, analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople}},
		{"BlazeFace faces, one frame", frame, analyzer.Features{analyzer.FeatureFaces}},
		{"PP-OCRv4 read, 1280×720 frame with 20 lines", text, analyzer.Features{analyzer.FeatureRead}},
	}
	for _, c := range cases {
		req := analyzer.Request{Features: c.fs}
		if _, err := b.Analyze(ctx, analyzer.Image{Mat: c.img}, req); err != nil { // load the model
			return fmt.Errorf("%s: %w", c.name, err)
		}
		runs := n
		if c.fs.Has(analyzer.FeatureRead) {
			runs = max(3, n/10) // seconds a call
		}
		var ms []float64
		for range runs {
			t := time.Now()
			if _, err := b.Analyze(ctx, analyzer.Image{Mat: c.img}, req); err != nil {
				return err
			}
			ms = append(ms, millis(time.Since(t)))
		}
		rep.figure(c.name, "ms", ms)
	}
	if dir, err := deps.Model("customvision-classifier-sample"); err == nil {
		cv, err := local.NewCustomVision(dir)
		if err != nil {
			return err
		}
		defer cv.Close()
		var ms []float64
		for range n {
			t := time.Now()
			if _, err := cv.Predict(ctx, analyzer.Image{Mat: frame}, false); err != nil {
				return err
			}
			ms = append(ms, millis(time.Since(t)))
		}
		rep.figure("Custom Vision export (sample classifier)", "ms", ms)
	}
	return nil
}

// textFrame renders 20 lines of text on a 1280×720 frame, like a label or
// a document held to the camera.
func textFrame() gocv.Mat {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(245, 245, 245, 0), 720, 1280, gocv.MatTypeCV8UC3)
	for i := range 20 {
		line := fmt.Sprintf("Line %02d: invoice 4711-%03d total amount %d.%02d EUR paid", i+1, i*7, 100+i*13, i*3%100)
		gocv.PutText(&m, line, image.Pt(40, 32+i*34), gocv.FontHersheySimplex, 0.9, color.RGBA{20, 20, 20, 255}, 2)
	}
	return m
}

// cpuTime is the CPU time the process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func rate(n int, fn func() error) float64 {
	start := time.Now()
	for range n {
		if fn() != nil {
			return 0
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func firstFrame(ctx context.Context, uri string) (gocv.Mat, error) {
	src, err := video.Open(ctx, uri, video.Options{})
	if err != nil {
		return gocv.Mat{}, err
	}
	defer src.Close()
	f, err := src.Next(ctx)
	if err != nil {
		return gocv.Mat{}, err
	}
	m := f.Mat.Clone()
	f.Release()
	return m, nil
}

// eachFrame hands n frames of uri to fn as fast as they decode, reopening
// the file when it is shorter, and returns the elapsed time.
func eachFrame(ctx context.Context, uri string, n int, opts video.Options, fn func(i int, f *video.Frame)) (time.Duration, error) {
	start := time.Now()
	for done := 0; done < n; {
		src, err := video.Open(ctx, uri, opts)
		if err != nil {
			return 0, err
		}
		for done < n {
			f, err := src.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				return 0, err
			}
			fn(done, f)
			f.Release()
			done++
		}
		src.Close()
	}
	return time.Since(start), nil
}

// decodeFPS decodes n frames as fast as possible.
func decodeFPS(ctx context.Context, uri string, n int, backend video.Backend) (float64, error) {
	elapsed, err := eachFrame(ctx, uri, n, video.Options{Backend: backend}, func(int, *video.Frame) {})
	return float64(n) / elapsed.Seconds(), err
}

// frameAges plays the file at its native rate, as a live source, with local
// detection on, and records how old each analysed and each shown frame is.
func frameAges(ctx context.Context, uri string, n int, analysed, shown *[]float64) error {
	b, err := backend.Build(localDetection(local.Options{}))
	if err != nil {
		return err
	}
	defer b.Close()
	bus := event.NewBus(clock.Real{}, "")
	p, err := pipeline.New(pipeline.Config{Source: uri, Video: video.Options{Realtime: true}, Schedule: b.Schedule(),
		MaxFrames: int64(n), Filter: overlay.Filter{Threshold: local.DefaultThreshold}, Events: bus})
	if err != nil {
		return err
	}
	// Arrivals on the bus's clock: an analysis started its latency before
	// the bus heard of it.
	var mu sync.Mutex
	arrived := map[int64]float64{}
	busStart := time.Now().Add(-bus.Since())
	p.Attach("meter", pipeline.FrameFunc(func(f *pipeline.Frame) error {
		f.Drawn()
		mu.Lock()
		arrived[f.Seq] = millis(f.Arrived.Sub(busStart))
		mu.Unlock()
		*shown = append(*shown, millis(time.Since(f.Arrived)))
		return nil
	}))
	bus.Attach(event.SinkFunc(func(e event.Event) {
		a, ok := e.(*event.Analysis)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if t, ok := arrived[a.Frame]; ok {
			*analysed = append(*analysed, a.TMS-a.LatencyMS-t)
		}
	}))
	err = p.Run(ctx)
	bus.Close()
	return err
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// peakRSS is the process's peak resident set size in MiB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// machine describes where the figures were measured.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "Sightline bench — %s\nsource %s, %d frames a run\n\n", r.Machine, r.Source, r.Frames)
	fmt.Fprintf(w, "| %-58s | %10s | %10s | %-6s |\n", "figure", "median", "p95", "unit")
	fmt.Fprintf(w, "|%s|%s|%s|%s|\n", strings.Repeat("-", 60), strings.Repeat("-", 12), strings.Repeat("-", 12), strings.Repeat("-", 8))
	for _, f := range r.Figures {
		prec := 1
		if math.Abs(f.Median) < 10 { // CPU a stage: tenths of a millisecond matter
			prec = 2
		}
		fmt.Fprintf(w, "| %-58s | %10.*f | %10.*f | %-6s |\n", f.Name, prec, f.Median, prec, f.P95, f.Unit)
	}
	fmt.Fprintln(w)
	for _, x := range r.Ratios {
		goal := ""
		if x.Met != nil {
			goal = " (goal " + x.Goal + ": " + map[bool]string{true: "met", false: "NOT met"}[*x.Met] + ")"
		}
		fmt.Fprintf(w, "%-40s %6.2f×%s\n", x.Name, x.Value, goal)
	}
}
