package inspect

import (
	"context"
	"encoding/csv"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/video"
)

type wantVerdict struct {
	frame int64
	state string
	track int
}

func checkVerdicts(t *testing.T, got []*event.Inspection, want []wantVerdict) {
	t.Helper()
	if len(got) != len(want) {
		for _, v := range got {
			t.Logf("frame %d %s %s %.3f", v.Frame, v.State, v.Tag, v.Probability)
		}
		t.Fatalf("%d verdicts, want %d", len(got), len(want))
	}
	for i, w := range want {
		v := got[i]
		track := 0
		if v.TrackID != nil {
			track = *v.TrackID
		}
		if v.Frame != w.frame || v.State != w.state || track != w.track || v.Point == "" {
			t.Errorf("verdict %d: frame %d %s track %d (%s %.3f), want frame %d %s track %d",
				i, v.Frame, v.State, track, v.Tag, v.Probability, w.frame, w.state, w.track)
		}
	}
}

// Continuous mode on the slideshow: an event at each change of state, in
// the exact sequence of the slides, counted, told to the scene (whose
// inspection_fail rule then fires with the fail's crop), and logged with
// crops of the fails and the review.
func TestContinuousSlideshow(t *testing.T) {
	clip := slideshow(t)
	rules := []scene.Rule{{Name: "two fails", When: scene.WhenInspectionFail, Point: "leaf", Count: 2}}
	sc, err := scene.New(scene.Config{Inspections: []scene.Inspection{hemlockPoint(t, "leaf", "")}, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	var recorded []string
	record := func(point, state string, at time.Duration) {
		recorded = append(recorded, state)
		sc.RecordInspection(point, state, at)
	}
	logDir := filepath.Join(t.TempDir(), "log")
	clk := &fakeClock{t0}
	// "twin" names the same export: it shares the model.
	in := newInspector(t, []scene.Inspection{hemlockPoint(t, "leaf", ""), hemlockPoint(t, "twin", scene.ModeContinuous)},
		Options{LogDir: logDir, Clock: clk, Record: record, Rules: rules})
	if len(in.models) != 1 {
		t.Errorf("%d models loaded for two points on one folder, want 1", len(in.models))
	}
	var events, alerts []event.Event
	frames := eachFrame(t, clip, func(fr *video.Frame) {
		clk.t = t0.Add(fr.PTS)
		at := event.AtFrame(fr.Seq, fr.PTS)
		events = in.Inspect(context.Background(), Frame{At: at, T: fr.PTS, Mat: fr.Mat}, events)
		// As the pipeline: the scene follows the same analysed frame.
		n := len(alerts)
		alerts = sc.Update(scene.Frame{At: at, T: fr.PTS, Width: slideW, Height: slideH}, alerts)
		in.AttachCrops(alerts[n:])
	})
	if frames != len(slides)*slideFrames {
		t.Fatalf("the slideshow has %d frames, want %d", frames, len(slides)*slideFrames)
	}
	var leaf []*event.Inspection
	for _, v := range verdicts(events) {
		if v.Point == "leaf" {
			leaf = append(leaf, v)
		}
	}
	for _, v := range leaf {
		t.Logf("frame %d %s %s %.4f", v.Frame, v.State, v.Tag, v.Probability)
	}
	checkVerdicts(t, leaf, []wantVerdict{{0, "pass", 0}, {10, "fail", 0}, {15, "review", 0}, {20, "fail", 0}, {25, "pass", 0}})
	if got := strings.Join(recorded, " "); got != "pass pass fail fail review review fail fail pass pass" {
		t.Errorf("recorded %q: want each verdict of both points, as counted", got)
	}
	want := event.InspectionCount{Pass: 2, Fail: 2, Review: 1}
	var sum event.Summary
	in.Summary(&sum)
	if sum.Inspections["leaf"] != want || sum.Inspections["twin"] != want {
		t.Errorf("summary inspections %v, want %v each", sum.Inspections, want)
	}

	// fail, review, fail: two fails in a row (a review does not end a run).
	if len(alerts) != 1 {
		t.Fatalf("scene events %v, want the inspection_fail alert", alerts)
	}
	if a := alerts[0].(*event.Alert); a.Frame != 20 || a.Snapshot != leaf[3].Crop || a.Snapshot == "" {
		t.Errorf("alert at frame %d with snapshot %q, want frame 20 with the fail's crop %q", a.Frame, a.Snapshot, leaf[3].Crop)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	checkLog(t, logDir, leaf)
}

// checkLog reads the log back as a spreadsheet would: one row a verdict,
// and a PNG crop of the region for each fail and review.
func checkLog(t *testing.T, dir string, leaf []*event.Inspection) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, LogCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 11 || strings.Join(rows[0], ",") != "time,frame,pts_ms,point,state,tag,probability,track_id,crop" {
		t.Fatalf("%d rows, header %v: want a header and 10 verdicts", len(rows), rows[0])
	}
	if r := rows[1]; r[0] != "2025-03-04 09:30:00.000" || r[1] != "0" || r[3] != "leaf" || r[4] != "pass" || r[5] != "hemlock" || r[8] != "" {
		t.Errorf("first row %v", r)
	}
	b, err := os.ReadFile(filepath.Join(dir, LogJSONL))
	if err != nil || strings.Count(string(b), "\n") != 10 || !strings.Contains(string(b), `"time":"2025-03-04T09:30:01.000`) {
		t.Errorf("JSON lines (%v):\n%s", err, b)
	}
	for _, v := range leaf {
		if (v.Crop != "") != (v.State != "pass") {
			t.Errorf("frame %d %s: crop %q (fails and reviews only)", v.Frame, v.State, v.Crop)
			continue
		}
		if v.Crop == "" {
			continue
		}
		if !strings.Contains(filepath.Base(v.Crop), "-leaf-"+v.State+"-f") {
			t.Errorf("crop name %s does not say the point and state", v.Crop)
		}
		m := gocv.IMRead(v.Crop, gocv.IMReadColor)
		if m.Cols() != insetRect.Dx() || m.Rows() != insetRect.Dy() {
			t.Errorf("crop %s is %dx%d, want the region's %v", v.Crop, m.Cols(), m.Rows(), insetRect.Size())
		}
		m.Close()
	}
}

// Per-track mode on the slideshow with synthetic tracks: each part that
// settles in the region is inspected once, on the slide showing then; a
// part that passes straight through is not, and one that stays is never
// inspected twice.
func TestPerTrackSlideshow(t *testing.T) {
	clip := slideshow(t)
	in := newInspector(t, []scene.Inspection{hemlockPoint(t, "leaf", scene.ModePerTrack)}, Options{})
	var events []event.Event
	eachFrame(t, clip, func(fr *video.Frame) {
		events = in.Inspect(context.Background(), Frame{At: event.AtFrame(fr.Seq, fr.PTS), T: fr.PTS, Mat: fr.Mat, Tracks: slideTracks(int(fr.Seq))}, events)
	})
	// Settled on the third analysis inside, 200 ms after the first.
	checkVerdicts(t, verdicts(events), []wantVerdict{{4, "pass", 1}, {12, "fail", 2}, {18, "review", 4}, {27, "pass", 5}})
	var v View
	in.View(&v)
	p := v.Points[0]
	if p.Counts != (event.InspectionCount{Pass: 2, Fail: 1, Review: 1}) || p.Verdict.TrackID != 5 || p.Mode != scene.ModePerTrack {
		t.Errorf("view %+v", p)
	}
}

// slideTracks are the synthetic parts of the per_track tests on the
// slideshow's frame k.
func slideTracks(k int) []TrackPos {
	at := func(x, y int) image.Rectangle { return image.Rect(x-30, y-30, x+30, y+30) }
	var ts []TrackPos
	switch { // track 1: arrives, settles on slide 0 and stays until frame 14
	case k < 2:
		ts = append(ts, TrackPos{1, at(60+40*k, 240)})
	case k < 15:
		ts = append(ts, TrackPos{1, at(300, 240)})
	}
	if k >= 10 && k < 20 { // track 2: settles on slide 2 (a cherry)
		ts = append(ts, TrackPos{2, at(400, 300)})
	}
	if k >= 15 && k < 25 { // track 3: straight through, 40 px a frame
		ts = append(ts, TrackPos{3, at(100+40*(k-15), 200)})
	}
	if k >= 16 && k < 22 { // track 4: settles on slide 3 (the review)
		ts = append(ts, TrackPos{4, at(250, 180)})
	}
	if k >= 25 { // track 5: jitters (within the drift) on slide 5
		ts = append(ts, TrackPos{5, at(350+5*(k%2), 250-4*(k%2))})
	}
	return ts
}

// Offloaded local models give the same verdicts as inline ones, on the
// frames they judged, when each call comes back before the next frame.
func TestOffloadedMatchesInline(t *testing.T) {
	clip := slideshow(t)
	for _, mode := range []string{scene.ModeContinuous, scene.ModePerTrack} {
		t.Run(mode, func(t *testing.T) {
			// run returns the verdicts and, for each, the frame whose
			// Inspect returned it.
			run := func(offload bool) ([]*event.Inspection, []int64) {
				in := newInspector(t, []scene.Inspection{hemlockPoint(t, "leaf", mode)}, Options{Offload: offload})
				var all []*event.Inspection
				var returnedOn []int64
				eachFrame(t, clip, func(fr *video.Frame) {
					f := Frame{At: event.AtFrame(fr.Seq, fr.PTS), T: fr.PTS, Mat: fr.Mat, Tracks: slideTracks(int(fr.Seq))}
					for _, v := range verdicts(in.Inspect(context.Background(), f, nil)) {
						all, returnedOn = append(all, v), append(returnedOn, fr.Seq)
					}
					waitCalls(t, in)
				})
				return all, returnedOn
			}
			inline, _ := run(false)
			offloaded, returnedOn := run(true)
			for i, v := range offloaded {
				if returnedOn[i] != v.Frame+1 {
					t.Errorf("the verdict of frame %d came on frame %d: the call was not off the loop", v.Frame, returnedOn[i])
				}
			}
			var want []wantVerdict
			for _, v := range inline {
				track := 0
				if v.TrackID != nil {
					track = *v.TrackID
				}
				want = append(want, wantVerdict{v.Frame, v.State, track})
			}
			if len(want) < 4 {
				t.Fatalf("%d inline verdicts", len(want))
			}
			checkVerdicts(t, offloaded, want)
		})
	}
}
