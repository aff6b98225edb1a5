package clip

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/video"
)

// stamp is the wall-clock time the tests' clips are asked for.
var stamp = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// people reads the scene package's real detections of the demo video
// (YOLOX-nano's person boxes on each of its frames).
func people(t *testing.T) [][]analyzer.Object {
	t.Helper()
	f, err := os.Open("../scene/testdata/vtest-people.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]analyzer.Object
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var i int
		o := analyzer.Object{Name: "person"}
		b := &o.BoundingBox
		if _, err := fmt.Sscanf(sc.Text(), "%d,%d,%d,%d,%d,%g", &i, &b.X, &b.Y, &b.W, &b.H, &o.Confidence); err != nil {
			continue // the header
		}
		for len(frames) <= i {
			frames = append(frames, []analyzer.Object{})
		}
		frames[i] = append(frames[i], o)
	}
	return frames
}

var (
	md5Mu    sync.Mutex
	md5Cache = map[string][]string{} // of the sources, which several tests read
)

// framesMD5 is the MD5 of every decoded picture of path, in order.
func framesMD5(t *testing.T, path string) []string {
	t.Helper()
	md5Mu.Lock()
	defer md5Mu.Unlock()
	if sums, ok := md5Cache[path]; ok {
		return sums
	}
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:v", "-fps_mode", "passthrough", "-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("framemd5 %s: %v", path, err)
	}
	var sums []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Split(strings.TrimSpace(line), ","); len(f) == 6 && !strings.HasPrefix(line, "#") {
			sums = append(sums, strings.TrimSpace(f[5]))
		}
	}
	if strings.HasPrefix(path, os.TempDir()+"/sightline-videotest/") {
		md5Cache[path] = sums
	}
	return sums
}

// The Done-when: a clip around a line crossing on a real file
// plays, lasts pre + post ± one GOP and starts on a keyframe. The demo
// video is read as the pipeline reads it (its packets go to the ring as
// they are demuxed) and its real detections go through a real scene
// with a line across the walkway, in step; the first crossing after 10 s
// triggers the clip. Its pictures are the source's, bit for bit, from the
// keyframe at or before crossing − 5 s on.
func TestClipAroundLineCrossing(t *testing.T) {
	checkLeaks(t)
	path := vtestFile(t)
	dets := people(t)
	walkway := scene.Line{Name: "walkway", Points: []scene.Point{{X: 0.365, Y: 0.29}, {X: 0.365, Y: 0.60}}, Classes: []string{"person"}}
	sc, err := scene.New(scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Lines: []scene.Line{walkway}})
	if err != nil {
		t.Fatal(err)
	}
	ev := newEvents()
	dir := t.TempDir()
	clips, err := New(Config{Dir: dir, Camera: "line-3", Pre: DefaultPre, Post: DefaultPost, Events: ev, Clock: clock.NewFake(stamp)})
	if err != nil {
		t.Fatal(err)
	}
	defer clips.Close()
	src, err := video.Open(context.Background(), path, video.Options{Packets: clips})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	triggers := clips.Triggers(event.TypeLineCross)
	var crossing *event.LineCross
	var out []event.Event
	readUntil(t, src, time.Minute, func(f *video.Frame) bool {
		out = sc.Update(scene.Frame{At: event.AtFrame(f.Seq, f.PTS), T: f.PTS, Width: 768, Height: 576,
			Objects: slices.Clone(dets[f.Seq])}, out[:0])
		for _, e := range out {
			if lc, ok := e.(*event.LineCross); ok && crossing == nil && f.PTS >= 10*time.Second {
				crossing = lc
				triggers.Publish(lc)
			}
		}
		return len(ev.clips()) == 0
	})
	if crossing == nil {
		t.Fatal("no line crossing after 10 s")
	}
	c := waitClip(t, ev, 10*time.Second)
	at := time.Duration(crossing.PTSMS * float64(time.Millisecond))
	t.Logf("crossing %s %s at frame %d (%v); clip %+v", crossing.Line, crossing.Direction, crossing.Frame, at, *c)

	want := fmt.Sprintf("clip-line-3-20250314-092653-walkway-%s.mp4", crossing.Direction)
	if filepath.Base(c.File) != want || c.Reason != "walkway "+crossing.Direction {
		t.Errorf("clip %q for %q, want %s for %q", c.File, c.Reason, want, "walkway "+crossing.Direction)
	}
	// Pre-roll: from the keyframe at or before crossing − 5 s (one a second).
	// Post-roll: to the last picture decoded before crossing + 5 s, which
	// with B-frames may be shown up to two pictures later.
	if c.PreS < 5 || c.PreS >= 6 || c.PostS < 5 || c.PostS > 5.35 {
		t.Errorf("pre_s %.3f, post_s %.3f: want 5 ≤ pre < 6 (to the keyframe before) and post 5 (+ B-frame reordering)", c.PreS, c.PostS)
	}
	checkClip(t, c.File, 10*time.Second, time.Second)
	if parts, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(parts) > 0 {
		t.Errorf("left behind: %v", parts)
	}

	// Stream copy: the clip's pictures are the source's, from the keyframe on.
	source, clipped := framesMD5(t, path), framesMD5(t, c.File)
	first := int((at - time.Duration(c.PreS*float64(time.Second)) + 50*time.Millisecond) / (100 * time.Millisecond))
	if first%10 != 0 || first+len(clipped) > len(source) || !slices.Equal(clipped, source[first:first+len(clipped)]) {
		t.Errorf("the clip's %d pictures are not the source's from frame %d (a keyframe)", len(clipped), first)
	}
}

// openVtest reads the demo video into a new Clips.
func openVtest(t *testing.T, cfg Config) (*Clips, video.Source, *events) {
	t.Helper()
	ev := newEvents()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Events, cfg.Clock = ev, clock.NewFake(stamp)
	clips, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	src, err := video.Open(context.Background(), vtestFile(t), video.Options{Packets: clips})
	if err != nil {
		clips.Close()
		t.Fatal(err)
	}
	return clips, src, ev
}

// checkLeaks fails if an FFmpeg object of this package or a goroutine
// outlives the test.
func checkLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		if n := avObjects.Load(); n != 0 {
			t.Errorf("%d FFmpeg objects (packet references, codec parameters, muxers) not freed", n)
		}
		for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// Ctrl-C mid-post-roll: the run's end (Close) finalises the clip with the
// post-roll read so far; the clip event says how much.
func TestCtrlCMidPostRoll(t *testing.T) {
	checkLeaks(t)
	clips, src, ev := openVtest(t, Config{Pre: 5 * time.Second, Post: 5 * time.Second})
	defer src.Close()
	readUntil(t, src, time.Minute, func(f *video.Frame) bool {
		if f.PTS == 10*time.Second {
			if _, err := clips.Trigger("SIGUSR2", f.PTS); err != nil {
				t.Fatal(err)
			}
		}
		return f.PTS < 12*time.Second
	})
	if err := clips.Close(); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	got := ev.clips()
	if len(got) != 1 {
		t.Fatalf("clip events: %v", describe(ev))
	}
	c := got[0]
	t.Logf("interrupted 2 s into the post-roll: %+v", *c)
	// The demuxer reads a few packets ahead of the frame shown.
	if c.PreS < 5 || c.PreS >= 6 || c.PostS < 2 || c.PostS > 3 {
		t.Errorf("pre_s %.3f post_s %.3f: want 5 ≤ pre < 6 and post about 2", c.PreS, c.PostS)
	}
	checkClip(t, c.File, time.Duration((c.PreS+c.PostS)*float64(time.Second)), 100*time.Millisecond)
	if _, err := clips.Trigger("late", 13*time.Second); err != ErrClosed {
		t.Errorf("a trigger after Close: %v, want ErrClosed", err)
	}
}

// Overlapping triggers extend the clip being written, up to MaxLength;
// past it, or once a clip is complete, a trigger starts a clip of its
// own.
func TestOverlappingTriggers(t *testing.T) {
	tests := []struct {
		name      string
		at        []time.Duration
		maxLength time.Duration
		want      []time.Duration // the clips' lengths, ± one GOP
	}{
		{"one", []time.Duration{10 * time.Second}, 0, []time.Duration{10 * time.Second}},
		{"extended", []time.Duration{10 * time.Second, 13 * time.Second}, 0, []time.Duration{13 * time.Second}},
		{"past the maximum", []time.Duration{10 * time.Second, 13 * time.Second}, 12 * time.Second,
			[]time.Duration{10 * time.Second, 10 * time.Second}},
		{"apart", []time.Duration{10 * time.Second, 30 * time.Second}, 0, []time.Duration{10 * time.Second, 10 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			clips, src, ev := openVtest(t, Config{Pre: 5 * time.Second, Post: 5 * time.Second, MaxLength: tt.maxLength})
			defer src.Close()
			var files []string
			readUntil(t, src, time.Minute, func(f *video.Frame) bool {
				if slices.Contains(tt.at, f.PTS) {
					file, err := clips.Trigger(fmt.Sprintf("t%v", f.PTS.Seconds()), f.PTS)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Contains(files, file) {
						files = append(files, file)
					}
				}
				return len(ev.clips()) < len(tt.want) && f.PTS < tt.at[len(tt.at)-1]+20*time.Second
			})
			clips.Close()
			got := ev.clips()
			if len(files) != len(tt.want) || len(got) != len(tt.want) {
				t.Fatalf("files %v, clip events %v; want %d clips", files, describe(ev), len(tt.want))
			}
			for i, c := range got {
				if c.File != files[i] || c.Reason != fmt.Sprintf("t%v", tt.at[i].Seconds()) {
					t.Errorf("clip %d: %s for %q; want %s for the trigger at %v", i, c.File, c.Reason, files[i], tt.at[i])
				}
				checkClip(t, c.File, tt.want[i], time.Second)
			}
		})
	}
}
