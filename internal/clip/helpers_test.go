package clip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
)

// vtestFile is the demo video (768×576, 10 fps, 79.5 s) as H.264 with a
// keyframe every second exactly and B-frames (x264's default), as many
// cameras and exports have.
func vtestFile(t testing.TB) string {
	return videotest.Make(t, "vtest-gop10-v1.mp4", "-i", videotest.DemoVideo, "-c:v", "libx264", "-preset", "veryfast",
		"-g", "10", "-keyint_min", "10", "-sc_threshold", "0", "-pix_fmt", "yuv420p")
}

// events collects what Clips publishes.
type events struct {
	mu  sync.Mutex
	all []event.Event
	ch  chan event.Event
}

func newEvents() *events { return &events{ch: make(chan event.Event, 64)} }

func (e *events) Publish(ev event.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

func (e *events) clips() []*event.Clip { return eventsOf[*event.Clip](e) }

func (e *events) errors() []*event.OutputError { return eventsOf[*event.OutputError](e) }

// eventsOf is the events of type T published so far.
func eventsOf[T event.Event](e *events) []T {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []T
	for _, ev := range e.all {
		if c, ok := ev.(T); ok {
			out = append(out, c)
		}
	}
	return out
}

// probed is what ffprobe and ffmpeg say of a clip.
type probed struct {
	duration  float64 // the container's, seconds
	startTime float64
	frames    int
	firstKey  bool    // the first frame shown is a keyframe
	firstPTS  float64 // seconds
	codec     string
}

// probe reads a clip with ffprobe, and decodes it all with ffmpeg, which
// must report no error: the clip plays.
func probe(t testing.TB, path string) probed {
	t.Helper()
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("%s does not play: %v\n%s", path, err, out)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
		"format=duration,start_time:stream=codec_name:frame=key_frame,pts_time", "-of", "csv=p=0:nk=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p probed
	p.firstPTS = math.NaN()
	for line := range strings.Lines(string(out)) {
		kv := map[string]string{}
		for f := range strings.SplitSeq(strings.TrimSpace(line), ",") {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		switch {
		case kv["key_frame"] != "":
			if p.frames == 0 {
				p.firstKey = kv["key_frame"] == "1"
				p.firstPTS, _ = strconv.ParseFloat(kv["pts_time"], 64)
			}
			p.frames++
		case kv["codec_name"] != "":
			p.codec = kv["codec_name"]
		case kv["duration"] != "":
			p.duration, _ = strconv.ParseFloat(kv["duration"], 64)
			p.startTime, _ = strconv.ParseFloat(kv["start_time"], 64)
		}
	}
	return p
}

// checkClip checks the contract's clip: it plays, starts on a keyframe at
// 0, and lasts want ± tol.
func checkClip(t testing.TB, path string, want, tol time.Duration) probed {
	t.Helper()
	p := probe(t, path)
	t.Logf("%s: %.2f s, %d frames, %s, start %.3f s, first frame at %.3f s key=%v", path, p.duration, p.frames, p.codec,
		p.startTime, p.firstPTS, p.firstKey)
	if !p.firstKey {
		t.Errorf("%s: the first frame is not a keyframe", path)
	}
	if p.startTime != 0 || p.firstPTS != 0 {
		t.Errorf("%s: starts at %.3f s (first frame %.3f s), want 0", path, p.startTime, p.firstPTS)
	}
	if d := time.Duration(p.duration * float64(time.Second)); d < want-tol || d > want+tol {
		t.Errorf("%s: lasts %v, want %v ± %v", path, d, want, tol)
	}
	return p
}

// waitClip waits for the next clip event, or fails.
func waitClip(t testing.TB, ev *events, within time.Duration) *event.Clip {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-ev.ch:
			if c, ok := e.(*event.Clip); ok {
				return c
			}
		case <-deadline:
			t.Fatalf("no clip event within %v; events: %v", within, describe(ev))
			return nil
		}
	}
}

func describe(ev *events) string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var b strings.Builder
	for _, e := range ev.all {
		fmt.Fprintf(&b, "\n  %+v", e)
	}
	return b.String()
}

// readUntil reads src, calling each for every frame, until each returns
// false, the source ends or within passes; it returns the last PTS read.
func readUntil(t testing.TB, src video.Source, within time.Duration, each func(f *video.Frame) bool) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last time.Duration
	for {
		f, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return last
		}
		if err != nil {
			t.Fatalf("reading after %v: %v", last, err)
		}
		last = f.PTS
		goOn := each(f)
		f.Release()
		if !goOn {
			return last
		}
	}
}
