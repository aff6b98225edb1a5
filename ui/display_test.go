package ui

import (
	"image"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/video/videotest"
)

// hdClip is 20 seconds of a 1920×1080, 30 fps test pattern.
func hdClip(t *testing.T) string {
	return videotest.Make(t, "hd-1920x1080-30-20s.mp4", "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=20",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
}

// pictures keeps the pictures a display hands the screen, as they are.
type pictures struct {
	mu   sync.Mutex
	imgs []*image.RGBA
}

func (p *pictures) show(img *image.RGBA) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.imgs = append(p.imgs, img)
}

func (p *pictures) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.imgs)
}

// next asks the paused player to redraw and returns the picture it shows.
func (p *pictures) next(t *testing.T, pl *player) *image.RGBA {
	t.Helper()
	n := p.count()
	pl.Redraw()
	waitFor(t, "the redrawn picture", func() bool { return p.count() > n })
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.imgs[len(p.imgs)-1]
}

// A 1080p frame reaches the screen at the live view's size in pixels, its
// shape kept and never scaled up, in at most three buffers reused frame
// after frame; the pixels are the drawn frame's, scaled.
func TestDisplayMakesPicturesAtTheViewSize(t *testing.T) {
	test.NewTempApp(t)
	p, _ := livePlayer(t, schedule.ModeLocal, fixedBuild(&fixedAnalyzer{name: "local"}, nil))
	var pics pictures
	p.display.show = pics.show
	p.SetSource(hdClip(t))
	p.Step()
	waitFor(t, "the 1080p frame", func() bool { return p.display.onScreenFrame() == image.Pt(1920, 1080) })

	tests := []struct {
		view, want image.Point
	}{
		{image.Point{}, image.Pt(1920, 1080)},        // not laid out: the frame's size
		{image.Pt(870, 600), image.Pt(870, 489)},     // wider than tall: fits the width
		{image.Pt(600, 900), image.Pt(600, 338)},     // taller: fits the width too
		{image.Pt(2000, 500), image.Pt(889, 500)},    // fits the height
		{image.Pt(2560, 1440), image.Pt(1920, 1080)}, // larger: the GPU scales up
		{image.Pt(870, 600), image.Pt(870, 489)},     // back: buffers of that size again
	}
	for _, tt := range tests {
		p.display.fitTo(tt.view)
		buffers := map[*image.RGBA]bool{}
		for range 5 {
			img := pics.next(t, p)
			if got := img.Rect.Size(); got != tt.want {
				t.Errorf("view %v: picture %v, want %v", tt.view, got, tt.want)
			}
			buffers[img] = true
		}
		if len(buffers) > 3 {
			t.Errorf("view %v: %d buffers for 5 pictures, want at most 3", tt.view, len(buffers))
		}
	}

	p.display.fitTo(image.Pt(870, 600))
	got := pics.next(t, p)
	frame, _, _ := p.Frame(image.Rectangle{})
	defer frame.Close()
	want := gocv.NewMat()
	defer want.Close()
	gocv.Resize(frame, &want, image.Pt(870, 489), 0, 0, gocv.InterpolationLinear)
	if d := rgbaDiff(got, want); d > 1 {
		t.Errorf("the picture differs from the frame scaled by %.2f grey levels on average", d)
	}
}

// rgbaDiff is the mean absolute difference of an RGBA picture and a BGR Mat
// of its size.
func rgbaDiff(img *image.RGBA, bgr gocv.Mat) float64 {
	px, _ := bgr.DataPtrUint8()
	var sum float64
	for i, j := 0, 0; j+2 < len(px); i, j = i+4, j+3 {
		for c := range 3 {
			d := float64(img.Pix[i+c]) - float64(px[j+2-c])
			sum += max(d, -d)
		}
	}
	return sum / float64(len(px))
}

// A drag on a picture made smaller than its frame selects the region in
// the frame's pixels.
func TestLiveViewMapsScaledPictureToFramePixels(t *testing.T) {
	test.NewTempApp(t)
	v := newLiveView()
	d := newDisplay()
	v.follow(d)
	d.onScreen = &picture{frame: image.Pt(1920, 1080)}
	v.setImage(image.NewRGBA(image.Rect(0, 0, 870, 489)))
	v.Resize(fyne.NewSize(870, 489))
	tests := []struct {
		at   fyne.Position
		want image.Point
	}{
		{fyne.NewPos(0, 0), image.Pt(0, 0)},
		{fyne.NewPos(435, 244.5), image.Pt(960, 540)},
		{fyne.NewPos(870, 489), image.Pt(1920, 1080)},
	}
	for _, tt := range tests {
		if got := v.toSource(tt.at); got != tt.want {
			t.Errorf("toSource(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

// The display times each new frame from its arrival to its paint, the
// first frame and the first results painted, and a threshold change to
// the paint of the first picture drawn with it.
func TestDisplayTiming(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type paint struct {
		pic *picture
		at  time.Time
	}
	tests := []struct {
		name          string
		change        *thresholdChange
		paints        []paint
		ages, redraws []time.Duration
		firstAnalysis time.Time
	}{
		{name: "new frames are aged, repeats are not",
			paints: []paint{
				{&picture{arrived: ms(0), drawnAt: ms(5), threshold: 0.25}, ms(20)},
				{&picture{drawnAt: ms(30), threshold: 0.25}, ms(40)}, // a paused frame drawn again
				{&picture{arrived: ms(33), drawnAt: ms(38), threshold: 0.25, analysed: true}, ms(60)},
			},
			ages: []time.Duration{20 * time.Millisecond, 27 * time.Millisecond}, firstAnalysis: ms(60)},
		{name: "a change counts from itself to the first picture drawn with it",
			change: &thresholdChange{value: 0.5, at: ms(10)},
			paints: []paint{
				{&picture{drawnAt: ms(5), threshold: 0.5}, ms(12)},   // drawn before the change
				{&picture{drawnAt: ms(11), threshold: 0.25}, ms(20)}, // still the old value
				{&picture{drawnAt: ms(21), threshold: 0.5}, ms(30)},
				{&picture{drawnAt: ms(40), threshold: 0.5}, ms(45)}, // timed once
			},
			redraws: []time.Duration{20 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := displayTiming{change: tt.change}
			for _, p := range tt.paints {
				tm.paintedPicture(p.pic, p.at)
			}
			if !slices.Equal(tm.ages, tt.ages) || !slices.Equal(tm.redraws, tt.redraws) {
				t.Errorf("ages %v, redraws %v; want %v, %v", tm.ages, tm.redraws, tt.ages, tt.redraws)
			}
			if !tm.firstPaint.Equal(tt.paints[0].at) || !tm.firstAnalysis.Equal(tt.firstAnalysis) {
				t.Errorf("first paint %v, first results %v", tm.firstPaint, tm.firstAnalysis)
			}
		})
	}
}

// The app's first build leaves the local models to the first analysis, so
// the window does not wait for them; later changes load what they need at
// once, so a missing model is said then.
func TestPlayerLoadsModelsAfterTheFirstFrame(t *testing.T) {
	var later []bool
	build := func(c backend.Config) (schedule.Options, error) {
		later = append(later, c.LoadLater)
		return fixedBuild(&fixedAnalyzer{name: "local"}, nil)(c)
	}
	p := newPlayer(Config{Source: greyClip(t)}, backend.Config{Mode: schedule.ModeLocal}, build, nil, nil, inspect.Options{})
	if err := p.SetPrivacy(false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(later, []bool{true, false}) {
		t.Errorf("LoadLater of the builds: %v, want [true false]", later)
	}
}

// The process started before this test did, and not long before.
func TestProcessStart(t *testing.T) {
	now := time.Now()
	start := processStart(time.Time{})
	if start.After(now) || now.Sub(start) > time.Hour {
		t.Errorf("process started at %v, now %v", start, now)
	}
}
