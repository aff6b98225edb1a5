//go:build realvideo

// The real-video harness: YOLOX through the local backend on real clips,
// fed to a Scene, with annotated output to look at. It needs the models
// and takes minutes, so it runs only with the realvideo tag:
//
//	go test -tags realvideo -run Vtest -v ./internal/scene/
//
// Media go to $SIGHTLINE_SCENE_OUT (default $TMPDIR/sightline-scene).
package scene_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/overlay"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// outDir is where the harness writes its media and caches.
func outDir(t *testing.T) string {
	dir := os.Getenv("SIGHTLINE_SCENE_OUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sightline-scene")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// detectClip runs YOLOX through the local backend on every frame of clip
// at threshold (low, so that ByteTrack's second stage has boxes to use),
// caching the objects in cache.
func detectClip(t *testing.T, clip, cache string, threshold float64) []detFrame {
	t.Helper()
	if b, err := os.ReadFile(cache); err == nil {
		var frames []detFrame
		if err := json.Unmarshal(b, &frames); err == nil {
			return frames
		}
	}
	be := local.New(local.Options{})
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects},
		Options: analyzer.Options{Threshold: threshold}}
	var frames []detFrame
	eachFrame(t, clip, func(img gocv.Mat) {
		a, err := be.Analyze(context.Background(), analyzer.Image{Mat: img}, req)
		if err != nil {
			t.Fatalf("frame %d: %v", len(frames), err)
		}
		frames = append(frames, detFrame{Objects: a.Objects})
	})
	b, err := json.Marshal(frames)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return frames
}

// writePeople writes the person detections of frames as a gzipped CSV
// (frame,x,y,w,h,confidence): the fixture the unit tests replay
// (testdata/*-people.csv.gz).
func writePeople(t *testing.T, frames []detFrame, path string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	fmt.Fprintln(zw, "frame,x,y,w,h,confidence")
	for i, f := range frames {
		for _, o := range f.Objects {
			if o.Name == "person" {
				bb := o.BoundingBox
				fmt.Fprintf(zw, "%d,%d,%d,%d,%d,%.3f\n", i, bb.X, bb.Y, bb.W, bb.H, o.Confidence)
			}
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// eachFrame calls f with every decoded frame of clip, in order.
func eachFrame(t *testing.T, clip string, f func(gocv.Mat)) {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(clip)
	if err != nil {
		t.Fatalf("open %s: %v", clip, err)
	}
	defer vc.Close()
	img := gocv.NewMat()
	defer img.Close()
	for vc.Read(&img) && !img.Empty() {
		f(img)
	}
}

// encoder pipes BGR frames to ffmpeg, which writes an H.264 file.
type encoder struct {
	cmd *exec.Cmd
	in  io.WriteCloser
}

func newEncoder(t *testing.T, path string, w, h int, fps float64) *encoder {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
		"-s", fmt.Sprintf("%dx%d", w, h), "-r", fmt.Sprint(fps), "-i", "-",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", path)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	return &encoder{cmd: cmd, in: in}
}

func (e *encoder) write(t *testing.T, img gocv.Mat) {
	if _, err := e.in.Write(img.ToBytes()); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
}

func (e *encoder) close(t *testing.T) {
	e.in.Close()
	if err := e.cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
}

// still is a crop of an annotated frame to keep: piece k of strip name.
type still struct {
	name string
	k    int
	rect image.Rectangle
}

// annotate writes clip with r drawn on it to path (H.264), and for every
// crossing a strip of three crops around the track, half a second apart,
// to check by eye.
func annotate(t *testing.T, clip string, r result, fps float64, path string) []string {
	t.Helper()
	stills := map[int][]still{}
	var strips []string
	for _, e := range r.events {
		c, ok := e.(*event.LineCross)
		if !ok {
			continue
		}
		f := int(c.Frame)
		name := filepath.Join(filepath.Dir(path), fmt.Sprintf("cross-%03d-%d-%s.png", f, c.TrackID, c.Direction))
		strips = append(strips, name)
		var box image.Rectangle
		for _, tv := range r.views[f].Tracks {
			if tv.ID == c.TrackID {
				box = tv.Box
			}
		}
		centre := box.Min.Add(box.Max).Div(2)
		rect := image.Rect(centre.X-110, centre.Y-110, centre.X+110, centre.Y+110).Intersect(image.Rect(0, 0, r.views[f].Width, r.views[f].Height))
		for k, d := range []int{-5, 0, 5} {
			stills[f+d] = append(stills[f+d], still{name, k, rect})
		}
	}
	pieces := map[string][3]gocv.Mat{}
	var enc *encoder
	i := 0
	eachFrame(t, clip, func(img gocv.Mat) {
		if enc == nil {
			enc = newEncoder(t, path, img.Cols(), img.Rows(), fps)
		}
		if i < len(r.views) {
			overlay.Draw(&img, &analyzer.Analysis{Objects: r.objects[i]}, overlay.Filter{Threshold: 0.5, Hidden: map[string]bool{"car": true, "truck": true, "bus": true}})
			overlay.DrawScene(&img, &r.views[i], overlay.SceneOptions{})
			gocv.PutText(&img, fmt.Sprintf("frame %d  %.1f s", i, float64(i)/fps), image.Pt(8, img.Rows()-10), gocv.FontHersheySimplex, 0.6, overlay.TextColor, 2)
		}
		for _, st := range stills[i] {
			roi := img.Region(st.rect)
			p := pieces[st.name]
			p[st.k] = gocv.NewMatWithSize(220, 220, gocv.MatTypeCV8UC3)
			gocv.Resize(roi, &p[st.k], image.Pt(220, 220), 0, 0, gocv.InterpolationLinear)
			roi.Close()
			pieces[st.name] = p
		}
		enc.write(t, img)
		i++
	})
	enc.close(t)
	for _, name := range strips {
		p := pieces[name]
		strip := gocv.NewMat()
		gocv.Hconcat(p[0], p[1], &strip)
		gocv.Hconcat(strip, p[2], &strip)
		gocv.IMWrite(name, strip)
		strip.Close()
		for _, m := range p {
			m.Close()
		}
	}
	return strips
}

// TestVtest counts people crossing vtest's walkway at the clip's 10
// analyses a second and at lower rates, and writes the annotated clip and
// a still of every crossing to check by eye.
func TestVtest(t *testing.T) {
	dir := outDir(t)
	frames := detectClip(t, vtest, filepath.Join(dir, "vtest-dets.json"), 0.1)
	writePeople(t, frames, filepath.Join(dir, "vtest-people.csv.gz"))
	cfg := scene.Config{Tracking: scene.Tracking{Classes: []string{"person"}}, Lines: []scene.Line{walkway}}
	const fps = 10
	for _, step := range []int{1, 2, 3, 5} {
		r := playScene(t, cfg, frames, fps, step, 768, 576, false)
		t.Logf("%4.1f analyses/s: %d person tracks, walkway in %d out %d", fps/float64(step),
			r.summary.Tracks["person"], r.summary.Lines["walkway"].In, r.summary.Lines["walkway"].Out)
	}
	r := playScene(t, cfg, frames, fps, 1, 768, 576, true)
	for _, e := range r.events {
		if c, ok := e.(*event.LineCross); ok {
			t.Logf("frame %3d (%5.1f s): person %d %s", c.Frame, c.PTSMS/1000, c.TrackID, c.Direction)
		}
	}
	annotate(t, vtest, r, fps, filepath.Join(dir, "vtest-scene.mp4"))
	if changes := crossCheck(t, r, 0.365*768, 0.29*576, 0.60*576); changes != vtestIn+vtestOut {
		t.Errorf("tracks changed sides of the walkway %d times, the scene counted %d", changes, vtestIn+vtestOut)
	}
	if c := r.summary.Lines["walkway"]; c.In != vtestIn || c.Out != vtestOut {
		t.Errorf("walkway in %d out %d; the counts checked by eye are %d and %d", c.In, c.Out, vtestIn, vtestOut)
	}
	t.Logf("annotated clip and stills in %s", dir)
	logTracks(t, r.events)
}

// crossCheck counts, independently of the scene's line logic, how often
// each track's feet change sides of the vertical line x (between y0 and
// y1) by more than 5 px, logs the tracks where that differs from the
// crossings the scene counted (the ones to look at), and returns the total.
func crossCheck(t *testing.T, r result, x, y0, y1 float64) int {
	side := map[int]int{}
	changes := map[int]int{}
	for _, v := range r.views {
		for _, tv := range v.Tracks {
			fx, fy := float64(tv.Box.Min.X+tv.Box.Max.X)/2, float64(tv.Box.Max.Y)
			if fy < y0 || fy > y1 || (fx > x-5 && fx < x+5) {
				continue
			}
			s := 1
			if fx < x {
				s = -1
			}
			if side[tv.ID] != 0 && side[tv.ID] != s {
				changes[tv.ID]++
			}
			side[tv.ID] = s
		}
	}
	counted := map[int]int{}
	for _, e := range r.events {
		if c, ok := e.(*event.LineCross); ok {
			counted[c.TrackID]++
		}
	}
	total := 0
	for id, n := range changes {
		total += n
		if counted[id] != n {
			t.Logf("track %d changed sides %d times, counted %d", id, n, counted[id])
		}
	}
	t.Logf("side changes of tracks: %d", total)
	if testing.Verbose() {
		first, last := map[int]string{}, map[int]string{}
		for i, v := range r.views {
			for _, tv := range v.Tracks {
				at := fmt.Sprintf("%.1fs(%d,%d)", float64(i)/10, (tv.Box.Min.X+tv.Box.Max.X)/2, tv.Box.Max.Y)
				if first[tv.ID] == "" {
					first[tv.ID] = at
				}
				last[tv.ID] = at
			}
		}
		for id := 1; id <= len(first); id++ {
			t.Logf("track %2d: %s → %s", id, first[id], last[id])
		}
	}
	return total
}

// logTracks logs every track's span.
func logTracks(t *testing.T, events []event.Event) {
	var b strings.Builder
	for _, e := range events {
		if tr, ok := e.(*event.Track); ok && tr.State == "end" {
			fmt.Fprintf(&b, " %d:%.1fs", tr.TrackID, *tr.DurationS)
		}
	}
	t.Logf("tracks (id:duration):%s", b.String())
}
