package inspect

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
)

// The slideshow: real photos, each shown for half a second (5 frames at
// 10 fps) in the middle of a 640×480 frame (the inspection region,
// insetRect) over a Japanese cherry background, so that a region cropped
// wrongly reads as a cherry.
const (
	slideW, slideH = 640, 480
	slideFrames    = 5
)

var insetRect = image.Rect(160, 120, 480, 360)

// insetRegion is insetRect as a scene's rect.
var insetRegion = []float64{0.25, 0.25, 0.5, 0.5}

// slide is a photo, or a part of one (tile: row r, column c of an n×n grid).
type slide struct {
	file    string // under ../shared (beside the repository)
	n, r, c int
	want    string // the state the sample classifier gives it
}

// slides: the sample export's own pictures and Custom Vision's Windows
// sample images; the fourth is a tile of a cherry photo (a branch against
// the sky) that the classifier is unsure of (top probability 0.52–0.60
// through JPEG at quality 95 to 60), a review.
var slides = []slide{
	{file: "azure/images/customvision-windows_hemlock_1.jpg", want: StatePass},
	{file: "azure/images/customvision-windows_test_image.jpg", want: StatePass},
	{file: "azure/images/customvision-windows_japanese_cherry_1.jpg", want: StateFail},
	{file: "models/customvision-classifier-sample/japanese_cherry_6.jpg", n: 5, r: 2, c: 0, want: StateReview},
	{file: "models/customvision-classifier-sample/japanese_cherry_6.jpg", want: StateFail},
	{file: "models/customvision-classifier-sample/hemlock_1.jpg", want: StatePass},
}

// sharedDir is ../shared beside the repository.
func sharedDir(t testing.TB) string {
	return filepath.Dir(azuretest.Load(t).Dir)
}

// slideshow makes the test video with ffmpeg from the slides, composed
// here: H.264 at 10 fps, slideFrames frames a slide.
func slideshow(t testing.TB) string {
	t.Helper()
	shared, dir := sharedDir(t), t.TempDir()
	bg := readImage(t, filepath.Join(shared, "models/customvision-classifier-sample/japanese_cherry_6.jpg"))
	for i, s := range slides {
		photo := readImage(t, filepath.Join(shared, s.file))
		if s.n > 0 {
			w, h := photo.Cols(), photo.Rows()
			tile := photo.Region(image.Rect(s.c*w/s.n, s.r*h/s.n, (s.c+1)*w/s.n, (s.r+1)*h/s.n))
			photo = tile.Clone()
			tile.Close()
			t.Cleanup(func() { photo.Close() })
		}
		frame := gocv.NewMat()
		gocv.Resize(bg, &frame, image.Pt(slideW, slideH), 0, 0, gocv.InterpolationArea)
		inset := frame.Region(insetRect)
		gocv.Resize(photo, &inset, insetRect.Size(), 0, 0, gocv.InterpolationArea)
		inset.Close()
		ok := gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("slide%d.png", i)), frame)
		frame.Close()
		if !ok {
			t.Fatal("writing a slide")
		}
	}
	return videotest.Make(t, "inspect-slideshow-v1.mp4", "-framerate", "2", "-i", filepath.Join(dir, "slide%d.png"),
		"-vf", "fps=10", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p")
}

func readImage(t testing.TB, path string) gocv.Mat {
	t.Helper()
	m := gocv.IMRead(path, gocv.IMReadColor)
	if m.Empty() {
		t.Fatalf("cannot read %s", path)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// eachFrame calls f with every frame of the video, decoded by the
// pipeline's own reader.
func eachFrame(t testing.TB, path string, f func(fr *video.Frame)) int {
	t.Helper()
	ctx := context.Background()
	src, err := video.Open(ctx, path, video.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		fr, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		f(fr)
		fr.Release()
		n++
	}
}

// sample is the shared sample classifier export.
func sample(t testing.TB) string { return onnxtest.CustomVisionSample(t) }

// hemlockPoint is the slideshow's inspection point: hemlock passes.
func hemlockPoint(t testing.TB, name, mode string) scene.Inspection {
	return scene.Inspection{Name: name, Rect: insetRegion, Model: scene.InspectionModel{Dir: sample(t)},
		Pass: []string{"hemlock"}, Mode: mode}
}

// verdicts are the inspection events of events, in order.
func verdicts(events []event.Event) []*event.Inspection {
	var out []*event.Inspection
	for _, e := range events {
		if v, ok := e.(*event.Inspection); ok {
			out = append(out, v)
		}
	}
	return out
}

// fakeClock is a wall clock the tests move.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

var t0 = time.Date(2025, 3, 4, 9, 30, 0, 0, time.Local)

// grey is a flat frame of the slideshow's size.
func grey(t testing.TB) gocv.Mat {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), slideH, slideW, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { m.Close() })
	return m
}

func newInspector(t testing.TB, points []scene.Inspection, o Options) *Inspector {
	t.Helper()
	in, err := New(points, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// frameAt is the k-th frame of a 10 fps stream.
func frameAt(k int, m gocv.Mat, tracks ...TrackPos) Frame {
	ts := time.Duration(k) * 100 * time.Millisecond
	return Frame{At: event.AtFrame(int64(k), ts), T: ts, Mat: m, Tracks: tracks}
}

// waitCalls waits for the cloud calls in flight to come back, leaving
// their results for the next Inspect.
func waitCalls(t *testing.T, in *Inspector) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if in.inFlight() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("cloud calls still in flight after 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
