package clip

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
)

// oneBox finds one object in every frame, so there is an overlay to draw.
type oneBox struct{}

func (oneBox) Analyze(_ context.Context, img analyzer.Image, _ analyzer.Request) (*analyzer.Analysis, error) {
	return &analyzer.Analysis{Objects: []analyzer.Object{{Name: "person", Confidence: 0.9,
		BoundingBox: analyzer.BoundingBox{X: 100, Y: 100, W: 200, H: 300}}},
		Metadata: analyzer.Metadata{Width: img.Mat.Cols(), Height: img.Mat.Rows()}}, nil
}
func (oneBox) Supports(f analyzer.Feature) bool { return f == analyzer.FeatureObjects }
func (oneBox) Name() string                     { return "local" }

// runClips is a run's bus, what it delivers, and clips of 5 s + 5 s
// published on it, as `run --clip-dir` makes them.
func runClips(t *testing.T) (*event.Bus, *events, *Clips) {
	t.Helper()
	bus := event.NewBus(clock.Real{}, "")
	ev := newEvents()
	bus.Attach(ev)
	clips, err := New(Config{Dir: t.TempDir(), Camera: "line-3", Pre: DefaultPre, Post: DefaultPost,
		Events: bus, Clock: clock.NewFake(stamp)})
	if err != nil {
		t.Fatal(err)
	}
	return bus, ev, clips
}

// Clips in a real run of the pipeline, wired as `run --clip-dir` would
// wire them: a trigger at 10 s (as an alert on that frame would), then
// Ctrl-C at 12 s. The clip is finalised and its event comes before the
// summary. Plain clips are the source's pictures bit for bit; annotated
// ones are the drawn frames (the overlay changes every picture).
func TestClipsInThePipeline(t *testing.T) {
	for _, annotated := range []bool{false, true} {
		name := map[bool]string{false: "stream copy", true: "annotated"}[annotated]
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			ev := clipAt10s(t, vtestFile(t), annotated)
			types := []string{}
			for _, e := range ev.all {
				types = append(types, e.Head().Type)
			}
			i := slices.Index(types, event.TypeClip)
			if i < 0 || types[len(types)-1] != event.TypeSummary {
				t.Fatalf("events %v: want a clip event before the summary", types)
			}
			c := ev.all[i].(*event.Clip)
			t.Logf("%+v", *c)
			checkClip(t, c.File, time.Duration((c.PreS+c.PostS)*float64(time.Second)), 200*time.Millisecond)
			if c.PostS < 1.5 || c.PostS > 3 {
				t.Errorf("post_s %.3f, want about the 2 s played after the trigger", c.PostS)
			}
			if p := probe(t, c.File); float64(p.frames) < (c.PreS+c.PostS)*10-1 {
				t.Errorf("%d pictures in %.1f s of a 10 fps video: pictures were dropped", p.frames, c.PreS+c.PostS)
			}
			clipped, source := framesMD5(t, c.File), framesMD5(t, vtestFile(t))
			first := int((10*time.Second - time.Duration(c.PreS*float64(time.Second)) + 50*time.Millisecond) / (100 * time.Millisecond))
			same := first >= 0 && first+len(clipped) <= len(source) && slices.Equal(clipped, source[first:first+len(clipped)])
			if same == annotated {
				t.Errorf("the clip's pictures equal to the source's: %v, want %v", same, !annotated)
			}
		})
	}
}

// replay answers each analysis with the demo video's recorded detections
// of the next frame: with EveryFrame the pipeline analyses every frame,
// in order, one at a time.
type replay struct {
	frames [][]analyzer.Object
	n      int
}

func (r *replay) Analyze(context.Context, analyzer.Image, analyzer.Request) (*analyzer.Analysis, error) {
	objs := []analyzer.Object{}
	if r.n < len(r.frames) {
		objs = slices.Clone(r.frames[r.n])
	}
	r.n++
	return &analyzer.Analysis{Objects: objs, Metadata: analyzer.Metadata{Width: 768, Height: 576}}, nil
}
func (*replay) Supports(f analyzer.Feature) bool { return f == analyzer.FeatureObjects }
func (*replay) Name() string                     { return "local" }

// The whole chain of `run --scene … --clip-dir …` on a real file: the
// pipeline follows a scene with a line across the demo video's walkway on
// its real detections, every line_cross event asks for a clip, and
// overlapping ones extend it. Every clip plays and starts on a keyframe
// at 0, and every crossing has its 5 s before and after in a clip (the
// pictures found in the source by their checksums), or up to the end of
// the video.
func TestEveryCrossingInAClip(t *testing.T) {
	checkLeaks(t)
	path := vtestFile(t)
	bus, ev, clips := runClips(t)
	bus.Attach(clips.Triggers(event.TypeLineCross))
	walkway := scene.Line{Name: "walkway", Points: []scene.Point{{X: 0.365, Y: 0.29}, {X: 0.365, Y: 0.60}}, Classes: []string{"person"}}
	p, err := pipeline.New(pipeline.Config{Source: path, Video: video.Options{Packets: clips}, EveryFrame: true, Events: bus,
		Schedule: schedule.Options{Local: &replay{frames: people(t)}, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects}},
		Scene:    &scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Lines: []scene.Line{walkway}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Attach("clips", clips.Output(false))
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	bus.Close()

	crossings, got := eventsOf[*event.LineCross](ev), ev.clips()
	if len(crossings) < 20 || len(got) == 0 {
		t.Fatalf("%d crossings, %d clips", len(crossings), len(got))
	}
	source := framesMD5(t, path)
	type span struct{ from, to int } // source frames, to excluded
	var spans []span
	for _, c := range got {
		checkClip(t, c.File, time.Duration((c.PreS+c.PostS)*float64(time.Second)), 200*time.Millisecond)
		clipped := framesMD5(t, c.File)
		from := slices.Index(source, clipped[0])
		if from < 0 || from%10 != 0 || !slices.Equal(clipped, source[from:min(len(source), from+len(clipped))]) {
			mismatch := -1
			for i := range clipped {
				if from >= 0 && (from+i >= len(source) || clipped[i] != source[from+i]) {
					mismatch = i
					break
				}
			}
			t.Fatalf("%s: its %d pictures are not the source's from a keyframe (first found at %d, differs at %d)", c.File, len(clipped), from, mismatch)
		}
		spans = append(spans, span{from, from + len(clipped)})
	}
	t.Logf("%d crossings, %d clips: %v (source frames)", len(crossings), len(got), spans)
	for _, x := range crossings {
		k := int(x.Frame)
		if !slices.ContainsFunc(spans, func(s span) bool { return s.from <= k-50 && s.to >= min(k+50, len(source)) }) {
			t.Errorf("crossing at frame %d has no clip from 5 s before to 5 s after", k)
		}
	}
}

// A source whose codec an MP4 cannot hold (the demo video's MS-MPEG4 in
// AVI) still gets clips: its pictures are encoded once more, all of them.
func TestClipsOfACodecMP4CannotHold(t *testing.T) {
	checkLeaks(t)
	ev := clipAt10s(t, videotest.DemoVideo, false)
	got := ev.clips()
	if len(got) != 1 {
		t.Fatalf("%d clips, want 1 (events %d)", len(got), len(ev.all))
	}
	c := got[0]
	checkClip(t, c.File, time.Duration((c.PreS+c.PostS)*float64(time.Second)), 200*time.Millisecond)
	if p := probe(t, c.File); float64(p.frames) < (c.PreS+c.PostS)*10-1 {
		t.Errorf("%d pictures in %.1f s of a 10 fps video: pictures were dropped", p.frames, c.PreS+c.PostS)
	}
}

// clipAt10s runs the pipeline on source with clips wired as `run
// --clip-dir` wires them, asks for a clip at 10 s (as an alert on that
// frame would) and stops at 12 s (Ctrl-C); it returns the events.
func clipAt10s(t *testing.T, source string, annotated bool) *events {
	bus, ev, clips := runClips(t)
	vo := video.Options{}
	if !annotated {
		vo.Packets = clips
	}
	p, err := pipeline.New(pipeline.Config{Source: source, Video: vo, EveryFrame: true, Events: bus,
		Schedule: schedule.Options{Local: oneBox{}, Mode: schedule.ModeLocal, Features: analyzer.Features{analyzer.FeatureObjects}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Attach("clips", clips.Output(annotated))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Attach("operator", pipeline.FrameFunc(func(f *pipeline.Frame) error {
		switch f.PTS {
		case 10 * time.Second:
			clips.Trigger("alert", f.PTS)
		case 12 * time.Second:
			cancel()
		}
		return nil
	}))
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	bus.Close()
	return ev
}
