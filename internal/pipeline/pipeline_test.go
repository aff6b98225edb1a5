package pipeline_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video/videotest"
)

// boxes answers every frame with one object named after the clip it was
// told about, so a test can tell which source a box came from.
type boxes struct {
	mu    sync.Mutex
	name  string
	calls atomic.Int64
	delay time.Duration
}

func (b *boxes) setName(n string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.name = n
}

func (b *boxes) Analyze(ctx context.Context, img analyzer.Image, _ analyzer.Request) (*analyzer.Analysis, error) {
	b.calls.Add(1)
	b.mu.Lock()
	name, delay := b.name, b.delay
	b.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &analyzer.Analysis{Objects: []analyzer.Object{{Name: name, Confidence: 0.9,
		BoundingBox: analyzer.BoundingBox{X: 10, Y: 10, W: 50, H: 50}}},
		Metadata: analyzer.Metadata{Width: img.Mat.Cols(), Height: img.Mat.Rows()}}, nil
}
func (b *boxes) Supports(f analyzer.Feature) bool { return f == analyzer.FeatureObjects }
func (b *boxes) Name() string                     { return "local" }

func clip(t *testing.T, name, colour string, seconds int) string {
	return videotest.Make(t, name, "-f", "lavfi", "-i", "color=c="+colour+":s=320x240:r=25:d="+strconv.Itoa(seconds),
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
}

// events collects what a bus delivers.
type events struct {
	mu  sync.Mutex
	all []event.Event
}

func (e *events) Publish(ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) types() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		out = append(out, ev.Head().Type)
	}
	return out
}

func newPipeline(t *testing.T, cfg pipeline.Config) (*pipeline.Pipeline, *events) {
	t.Helper()
	var evs events
	cfg.Events = event.NewBus(clock.Real{}, "")
	cfg.Events.Attach(&evs)
	t.Cleanup(cfg.Events.Close)
	p, err := pipeline.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, &evs
}

func objects(b *boxes) schedule.Options {
	return schedule.Options{Local: b, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects}}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The analysis outlives the source: a file that loops, a reconfiguration
// (a layer ticked) and a switch to another source all keep analyses
// coming, and the boxes drawn after a switch are never the old source's.
func TestAnalysisSurvivesLoopsSwitchesAndReconfiguration(t *testing.T) {
	a, b := clip(t, "pipeline-red.mp4", "red", 1), clip(t, "pipeline-blue.mp4", "blue", 1)
	det := &boxes{name: "red"}
	p, _ := newPipeline(t, pipeline.Config{Source: a, Schedule: objects(det), Keep: true})
	var mu sync.Mutex
	var drawn []string // the box names drawn on the blue clip's frames
	p.Attach("watch", pipeline.FrameFunc(func(f *pipeline.Frame) error {
		px := f.Clean.GetVecbAt(5, 5) // BGR
		if blue := px[0] > px[2]; blue && f.View.Analysis != nil {
			mu.Lock()
			drawn = append(drawn, f.View.Objects[0].Name)
			mu.Unlock()
		}
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	waitFor(t, "the file to loop", func() bool { return p.Stats().FramesRead > 60 })
	p.Reconfigure(func(o *schedule.Options) { o.LocalFPS = 100 })
	before := det.calls.Load()
	waitFor(t, "analyses after the reconfiguration and a loop", func() bool { return det.calls.Load() > before+30 })

	det.setName("blue")
	p.SetSource(b)
	before = det.calls.Load()
	waitFor(t, "analyses of the new source", func() bool { return det.calls.Load() > before+30 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, n := range drawn {
		// Frames of the new source shown before its first result may carry
		// no boxes, never the red ones.
		if n != "blue" {
			t.Fatalf("frame %d of the new source drew a %q box of the old one", i, n)
		}
	}
	if len(drawn) == 0 {
		t.Fatal("no boxes drawn after the switch")
	}
}

// A paused frame keeps its frame and its own results: redrawing it with a
// new filter does not swap in another frame's results.
func TestPausedFrameKeepsItsResults(t *testing.T) {
	det := &boxes{name: "first"}
	p, _ := newPipeline(t, pipeline.Config{Source: clip(t, "pipeline-red.mp4", "red", 1), Schedule: objects(det), Keep: true})
	var mu sync.Mutex
	var last *pipeline.Frame
	var seqs []int64
	p.Attach("watch", pipeline.FrameFunc(func(f *pipeline.Frame) error {
		mu.Lock()
		defer mu.Unlock()
		c := *f
		last = &c
		seqs = append(seqs, f.View.Frame)
		return nil
	}))
	p.Step()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	waitFor(t, "the paused frame's results", func() bool { return p.HeldView().Analysis != nil })
	held := p.HeldView()
	det.setName("later")
	for range 5 {
		p.SetFilter(func(f *overlay.Filter) { f.Threshold += 0.01 })
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if !last.Repeat || last.View.Frame != held.Frame || last.View.Objects[0].Name != "first" {
		t.Errorf("redrawn paused frame: repeat %v, results of frame %d (%q), want frame %d's", last.Repeat, last.View.Frame, last.View.Objects[0].Name, held.Frame)
	}
	if p.Stats().FramesRead != 1 {
		t.Errorf("%d frames read while paused after one step", p.Stats().FramesRead)
	}
}

// failing fails on its third frame.
type failing struct{ n int }

func (f *failing) WriteFrame(*pipeline.Frame) error {
	if f.n++; f.n == 3 {
		return errors.New("no space left on device")
	}
	return nil
}

// An output that fails is detached and reported; the run goes on to its
// end, says what was lost in the summary, and fails.
func TestFailedOutputIsReportedAndTheRunGoesOn(t *testing.T) {
	det := &boxes{name: "x"}
	p, evs := newPipeline(t, pipeline.Config{Source: clip(t, "pipeline-red.mp4", "red", 1), Schedule: objects(det), EveryFrame: true})
	p.Attach("recording", &failing{})
	err := p.Run(context.Background())
	if !errors.Is(err, pipeline.ErrOutputFailed) || !strings.Contains(err.Error(), "recording: no space") {
		t.Fatalf("Run = %v, want the recording's failure", err)
	}
	st := p.Stats()
	if st.FramesRead != 25 || st.OutputErrors["recording"] == "" {
		t.Errorf("frames read %d, output errors %v", st.FramesRead, st.OutputErrors)
	}
	p.Events().Close()
	types := evs.types()
	if types[len(types)-1] != event.TypeSummary || !contains(types, event.TypeOutputError) {
		t.Errorf("events %v: want an output_error and the summary last", types)
	}
}

// Health events keep coming while the source cannot be opened, and say so.
func TestHealthWhileTheSourceIsDown(t *testing.T) {
	p, evs := newPipeline(t, pipeline.Config{Source: "/nonexistent/clip.mp4", Schedule: objects(&boxes{}), Keep: true,
		HealthEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	p.Run(ctx)
	p.Events().Close()
	evs.mu.Lock()
	defer evs.mu.Unlock()
	down := 0
	for _, e := range evs.all {
		if h, ok := e.(*event.Health); ok && h.State == "error" {
			down++
		}
	}
	if down < 5 {
		t.Errorf("%d health events saying the source is down in 0.6 s at one every 50 ms", down)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A still picture is shown and analysed once, not looped as a one-frame
// video; its results are drawn on it when they come; a new configuration
// analyses it again.
func TestStillPictureIsAnalysedOnce(t *testing.T) {
	det := &boxes{name: "still"}
	p, _ := newPipeline(t, pipeline.Config{Source: "/usr/share/doc/opencv-doc/examples/data/messi5.jpg", Schedule: objects(det), Keep: true})
	var mu sync.Mutex
	var drawnWithBoxes int
	p.Attach("watch", pipeline.FrameFunc(func(f *pipeline.Frame) error {
		mu.Lock()
		defer mu.Unlock()
		if f.View.Analysis != nil {
			drawnWithBoxes++
		}
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "the picture's results drawn on it", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return drawnWithBoxes > 0
	})
	time.Sleep(time.Second)
	if n, read := det.calls.Load(), p.Stats().FramesRead; n != 1 || read != 1 {
		t.Errorf("a still picture: %d analyses, %d frames read in a second; want 1 and 1", n, read)
	}
	p.Reconfigure(func(o *schedule.Options) { o.LocalFPS = 5 })
	waitFor(t, "the picture analysed again", func() bool { return det.calls.Load() == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
