package ui

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
)

// hdState is what the "hd" scenario reads off the real app.
type hdState struct {
	Frame, Picture, View          image.Point // source pixels, the picture handed to Fyne, the view in pixels
	Playing, Paused               RedrawTimes
	FirstFrameMS, FirstAnalysisMS float64
}

func init() {
	// hd: a 1080p source on screen, then the threshold moved while
	// playing and while paused.
	scenarios["hd"] = func(w *mainWindow) {
		w.waitFirstFrame()
		time.Sleep(2 * time.Second)
		var st hdState
		fyne.DoAndWait(func() {
			st.Picture = w.live.img.Image.Bounds().Size()
			st.View = w.live.pixels(w.live.Size())
		})
		st.Frame = w.p.display.onScreenFrame()
		st.Playing, st.Paused = w.sweepRedraws(8)
		st.FirstFrameMS, st.FirstAnalysisMS = sinceLaunch(processStart(time.Time{}), w.p.display)
		b, _ := json.Marshal(st)
		fmt.Printf("SCENARIO hd %s\n", b)
	}
}

// In the real app a 1080p frame reaches Fyne at the live view's size in
// pixels, not as 8 MB for the GPU to scale; every threshold change is
// timed to the screen, playing and paused; the first results are painted
// after (or with) the first frame, both timed from the launch.
func TestAppShowsHDAtTheViewSizeAndTimesRedraws(t *testing.T) {
	clip := hdClip(t)
	display := xDisplay(t)
	logPath, exited := startApp(t, display, "hd", "SIGHTLINE_MEASURE_SOURCE="+clip)
	var st hdState
	pollApp(t, exited, logPath, 120*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(logPath)
		for _, line := range strings.Split(string(b), "\n") {
			if js, ok := strings.CutPrefix(line, "SCENARIO hd "); ok {
				return json.Unmarshal([]byte(js), &st) == nil, js
			}
		}
		return false, "waiting for the hd scenario"
	})
	t.Logf("%+v", st)
	if st.Frame != image.Pt(1920, 1080) || st.View.X == 0 || st.View.Y == 0 {
		t.Fatalf("frame %v on a view of %v px", st.Frame, st.View)
	}
	if fits := st.Picture.X <= st.View.X && st.Picture.Y <= st.View.Y; !fits || (st.Picture.X < st.View.X-1 && st.Picture.Y < st.View.Y-1) {
		t.Errorf("picture of %v handed to Fyne for a view of %v px", st.Picture, st.View)
	}
	for _, r := range []RedrawTimes{st.Playing, st.Paused} {
		if r.Painted != r.Changes || r.P50 <= 0 || r.P95 < r.P50 {
			t.Errorf("threshold changes timed: %+v", r)
		}
	}
	if st.FirstFrameMS <= 0 || st.FirstAnalysisMS < st.FirstFrameMS {
		t.Errorf("first frame %v ms, first analysis %v ms after the launch", st.FirstFrameMS, st.FirstAnalysisMS)
	}
}
