package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/meter"
	"github.com/sightline/sightline/internal/stages"
	"github.com/sightline/sightline/video"
)

// detectors are the section's models: YOLOX on ONNX Runtime as one
// session on every core and as one one-thread session a core, and on
// OpenCV DNN.
type detectors struct {
	ort, dnn *local.YOLOX
	sessions []*local.YOLOX
}

func loadDetectors(path string) (*detectors, error) {
	d := &detectors{}
	var err error
	if d.ort, err = local.NewYOLOX(path); err != nil {
		return nil, err
	}
	if d.dnn, err = local.NewYOLOXOnDNN(path); err != nil {
		d.close()
		return nil, err
	}
	// The same model as one single-threaded session a core, run in
	// parallel: how `run` analyses files (local.BatchOptions).
	for range local.BatchOptions().Detectors {
		y, err := local.NewYOLOXThreads(path, local.BatchOptions().Threads)
		if err != nil {
			d.close()
			return nil, err
		}
		d.sessions = append(d.sessions, y)
	}
	return d, nil
}

func (d *detectors) close() {
	for _, y := range append([]*local.YOLOX{d.ort, d.dnn}, d.sessions...) {
		if y != nil {
			y.Close()
		}
	}
}

// pipelineSamples are the section's measurements, one value a run.
type pipelineSamples struct {
	ortAlone, ortParallel, ortCPU, ortParallelCPU []float64
	ortDetect, dnnDetect                          []float64
	asRun, drawn, single                          pipelineRuns
	decode                                        []float64 // FFmpeg's core-ms a frame, measured alone
}

// pipelineRuns are one pipeline variant's runs.
type pipelineRuns struct {
	fps, cpu, allocs []float64
	stage            [stages.NumStages][]float64 // core-ms a frame, in the pipeline
}

func (r *pipelineRuns) add(m pipelineRun) {
	r.fps, r.cpu, r.allocs = append(r.fps, m.fps), append(r.cpu, m.cpu), append(r.allocs, m.allocs)
	for i, t := range m.stages {
		r.stage[i] = append(r.stage[i], millis(t.CPU)/float64(m.frames))
	}
}

// pipelineSection measures YOLOX on ONNX Runtime alone (one session on
// every core, and one one-thread session a core in parallel), on OpenCV
// DNN, and the whole pipeline around it as `run` runs it, with the CPU
// each stage of it spends a frame.
func pipelineSection(ctx context.Context, b *bench) error {
	d, err := loadDetectors(b.cfg.Model)
	if err != nil {
		return err
	}
	defer d.close()
	var s pipelineSamples
	for range b.cfg.Repeats {
		if err := s.measure(ctx, b, d); err != nil {
			return err
		}
	}
	s.report(b.rep, len(d.sessions))
	return nil
}

// measure adds one run of every figure, alternating, so that the
// machine's drift affects them alike.
func (s *pipelineSamples) measure(ctx context.Context, b *bench, d *detectors) error {
	n := b.cfg.Frames
	cpu, fps := perFrameCPU(n, func() float64 { return rate(n, d.ort.Infer) })
	s.ortAlone, s.ortCPU = append(s.ortAlone, fps), append(s.ortCPU, cpu)
	cpu, fps = perFrameCPU(n, func() float64 { return parallelRate(n, d.sessions) })
	s.ortParallel, s.ortParallelCPU = append(s.ortParallel, fps), append(s.ortParallelCPU, cpu)
	s.ortDetect = append(s.ortDetect, detectFPS(d.ort, b.frame, n))
	s.dnnDetect = append(s.dnnDetect, detectFPS(d.dnn, b.frame, max(20, n/5)))
	decode, err := decodeCPU(ctx, b.cfg.Source, n)
	if err != nil {
		return err
	}
	s.decode = append(s.decode, decode)
	for _, v := range []struct {
		runs *pipelineRuns
		lo   local.Options
		draw bool
	}{{&s.asRun, local.BatchOptions(), false}, {&s.drawn, local.BatchOptions(), true}, {&s.single, local.Options{}, false}} {
		m, err := pipelineFPS(ctx, b.cfg.Source, n, v.lo, v.draw)
		if err != nil {
			return err
		}
		v.runs.add(m)
	}
	return nil
}

// report adds the section's figures and ratios.
func (s *pipelineSamples) report(rep *Report, sessions int) {
	fo := rep.figure("YOLOX-nano ONNX Runtime alone, one session on every core (pre-made tensor)", "fps", s.ortAlone)
	fpar := rep.figure(fmt.Sprintf("YOLOX-nano ONNX Runtime alone, %d one-thread sessions in parallel", sessions), "fps", s.ortParallel)
	fd := rep.figure("YOLOX-nano detect on ONNX Runtime", "fps", s.ortDetect)
	fn := rep.figure("YOLOX-nano detect on OpenCV DNN (same pre/post)", "fps", s.dnnDetect)
	fp := rep.figure("full local pipeline, headless as `run` on a file", "fps", s.asRun.fps)
	fdr := rep.figure("the same with the overlay drawn on every frame (as `run --out`, before encoding)", "fps", s.drawn.fps)
	fs := rep.figure("the same as `run`, one detector on every core", "fps", s.single.fps)
	rep.figure("Go allocations per frame, full pipeline", "allocs", s.asRun.allocs)
	rep.figure("CPU time per frame, ONNX Runtime alone, one session", "core-ms", s.ortCPU)
	fpc := rep.figure("CPU time per frame, ONNX Runtime alone, parallel sessions", "core-ms", s.ortParallelCPU)
	cp := rep.figure("CPU time per frame, full pipeline as `run`", "core-ms", s.asRun.cpu)
	rep.figure("CPU time per frame, full pipeline with the overlay drawn", "core-ms", s.drawn.cpu)
	s.reportStages(rep, fpc.Median)
	limit := max(fo.Median, fpar.Median) // ONNX Runtime's best on this machine
	rep.ratio("pipeline / ONNX Runtime alone (its faster set-up)", fp.Median/limit, 0.95, "≥ 0.95")
	rep.ratio("pipeline with the overlay drawn / ONNX Runtime alone", fdr.Median/limit, 0, "")
	rep.ratio("pipeline, parallel / one detector", fp.Median/fs.Median, 0, "")
	// The most the pipeline can reach on this machine: it needs cp of CPU a
	// frame on NumCPU cores, and can never beat the model alone.
	rep.ratio("pipeline ceiling from CPU per frame", min(1, float64(runtime.NumCPU())*(1000/limit)/cp.Median), 0, "")
	rep.ratio("ONNX Runtime / OpenCV DNN", fd.Median/fn.Median, 1.5, "≥ 1.5")
}

// reportStages adds where a frame's CPU goes in the pipeline as `run`:
// each stage timed on its own thread in the pipeline, FFmpeg's decoding
// measured alone, and the rest (goroutines and their hand-overs, events,
// the runtime, the kernel) as what the process spent beyond them. It adds
// how much more than ONNX Runtime alone inference took in the pipeline.
func (s *pipelineSamples) reportStages(rep *Report, inferAlone float64) {
	rep.figure("  a frame: decoding (FFmpeg, measured alone)", "core-ms", s.decode)
	for st := range stages.NumStages {
		rep.figure("  a frame: "+st.String(), "core-ms", s.asRun.stage[st])
	}
	rest := make([]float64, len(s.asRun.cpu))
	for i, total := range s.asRun.cpu {
		rest[i] = total - s.decode[i]
		for st := range stages.NumStages {
			rest[i] -= s.asRun.stage[st][i]
		}
	}
	rep.figure("  a frame: the rest (goroutines, events, runtime, kernel)", "core-ms", rest)
	rep.figure("  inference in the pipeline less alone (parallel sessions)", "core-ms",
		[]float64{meter.Percentile(s.asRun.stage[stages.Infer], 50) - inferAlone})
}

// perFrameCPU runs fn, which returns a rate, and returns the CPU it used
// a frame (core-ms) with that rate.
func perFrameCPU(frames int, fn func() float64) (cpu, fps float64) {
	c0 := cpuTime()
	fps = fn()
	return millis(cpuTime()-c0) / float64(frames), fps
}

// decodeCPU is the CPU FFmpeg spends decoding a frame of uri: reading n
// frames alone, less the conversion into BGR pixels (timed on its thread).
func decodeCPU(ctx context.Context, uri string, n int) (float64, error) {
	stages.Start()
	c0 := cpuTime()
	_, err := eachFrame(ctx, uri, n, video.Options{}, func(int, *video.Frame) {})
	cpu := cpuTime() - c0
	conv := stages.Stop()[stages.Convert].CPU
	return millis(cpu-conv) / float64(n), err
}

// parallelRate runs n inferences spread over the sessions, each on its own
// goroutine, and returns the combined rate.
func parallelRate(n int, sessions []*local.YOLOX) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for _, y := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / len(sessions) {
				if y.Infer() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n/len(sessions)*len(sessions)) / time.Since(start).Seconds()
}

func detectFPS(y *local.YOLOX, frame gocv.Mat, n int) float64 {
	dets := make([]local.Detection, 0, 64)
	return rate(n, func() (err error) {
		dets, err = y.Detect(frame, local.DefaultThreshold, dets[:0])
		return err
	})
}

// localDetection is the pipeline's configuration for local objects and
// people, with these local options.
func localDetection(lo local.Options) backend.Config {
	return backend.Config{Mode: schedule.ModeLocal, Local: lo,
		Features: analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople}}
}

// pipelineRun is one measured run of the pipeline, from its warm-up on.
type pipelineRun struct {
	fps, cpu, allocs float64 // frames a second; core-ms and Go allocations a frame
	frames           int
	stages           stages.Totals
}

// pipelineWarmup frames go before the measuring starts: models loaded,
// buffers sized.
const pipelineWarmup = 10

// runMeter measures a pipeline from its pipelineWarmup-th analysis to the
// end, hearing of the analyses on the bus as `run`'s event writer does.
type runMeter struct {
	analyses int
	start    time.Time
	cpu0     time.Duration
	mallocs0 uint64
}

func (m *runMeter) Publish(e event.Event) {
	if _, ok := e.(*event.Analysis); !ok {
		return
	}
	if m.analyses++; m.analyses == pipelineWarmup {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m.mallocs0, m.start, m.cpu0 = ms.Mallocs, time.Now(), cpuTime()
		stages.Start()
	}
}

// end turns the meter's readings into the run's figures; the bus has
// delivered every event.
func (m *runMeter) end(stopped time.Time, cpu time.Duration) (pipelineRun, error) {
	st := stages.Stop()
	frames := m.analyses - pipelineWarmup
	if frames <= 0 {
		return pipelineRun{}, fmt.Errorf("the pipeline analysed %d frames, fewer than its warm-up", m.analyses)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return pipelineRun{fps: float64(frames) / stopped.Sub(m.start).Seconds(), cpu: millis(cpu-m.cpu0) / float64(frames),
		allocs: float64(ms.Mallocs-m.mallocs0) / float64(frames), frames: frames, stages: st}, nil
}

// pipelineFPS runs the pipeline `sightline run --backend local` runs on a
// file, n frames (the file loops when shorter), with nothing attached
// but, with draw, an output that has the overlay drawn on every frame.
func pipelineFPS(ctx context.Context, uri string, n int, lo local.Options, draw bool) (pipelineRun, error) {
	b, err := backend.Build(localDetection(lo))
	if err != nil {
		return pipelineRun{}, err
	}
	defer b.Close()
	return fileRun{source: uri, frames: n, opts: b.Schedule(), draw: draw}.run(ctx)
}
