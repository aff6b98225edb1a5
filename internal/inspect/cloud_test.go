package inspect

import (
	"context"
	"image"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
)

// The recorded classification answers Tag1 at 0.9999961.
const (
	cloudProject   = "e3c7fd20-0c05-4c8c-886d-be4ea92e01c8"
	cloudPublished = "Training UnitTest Iteration"
)

// prediction is a Custom Vision classification body with one tag.
func prediction(tag, probability string) azuretest.Reply {
	return azuretest.Raw(http.StatusOK, nil, `{"id":"x","project":"`+cloudProject+`","iteration":"i","created":"2025-03-04T09:30:00Z",`+
		`"predictions":[{"probability":`+probability+`,"tagId":"t","tagName":"`+tag+`","tagType":"Regular"}]}`)
}

// cloudModels builds prediction clients on srv, counting them.
func cloudModels(srv *azuretest.Server, made *int) CloudFunc {
	return func(project, published string) (analyzer.Predictor, error) {
		*made++
		return azure.NewPredictionClient(srv.URL, srv.Key, project, published,
			&azure.PredictionOptions{ClientOptions: azure.ClientOptions{Retries: azure.NoRetries}})
	}
}

func cloudPoint(name, mode string) scene.Inspection {
	return scene.Inspection{Name: name, Rect: insetRegion, Mode: mode, Pass: []string{"Tag1"},
		Model: scene.InspectionModel{Project: cloudProject, PublishedName: cloudPublished}}
}

// A continuous cloud point: calls go at the budget's pace (one a second),
// each off the frame loop; between calls the last verdict stands and ages;
// a failed call invents nothing; a throttled one holds the budget for the
// wait the service asked.
func TestCloudContinuous(t *testing.T) {
	srv := azuretest.New(t)
	made := 0
	clk := &fakeClock{t0}
	in := newInspector(t, []scene.Inspection{cloudPoint("seal", "")},
		Options{Cloud: cloudModels(srv, &made), Budget: schedule.NewBudget(60, 0), Clock: clk, StaleAfter: 2 * time.Second})
	m := grey(t)
	var events []event.Event
	var v View
	step := func(k int) []event.Event {
		clk.t = t0.Add(time.Duration(k) * 100 * time.Millisecond)
		n := len(events)
		events = in.Inspect(context.Background(), frameAt(k, m), events)
		in.View(&v)
		return events[n:]
	}
	expect := func(k int, calls int, state string, age time.Duration, stale bool) {
		t.Helper()
		if got := srv.Count(); got != calls {
			t.Errorf("frame %d: %d calls, want %d", k, got, calls)
		}
		p := v.Points[0]
		if p.Verdict.State != state || p.Verdict.Age != age || p.Stale != stale {
			t.Errorf("frame %d: verdict %q age %v stale %v, want %q age %v stale %v", k, p.Verdict.State, p.Verdict.Age, p.Stale, state, age, stale)
		}
	}

	// Nothing is known until the first answer: no verdict is made up.
	if got := step(0); len(got) != 0 || !v.Points[0].Pending {
		t.Fatalf("frame 0: events %v before any answer; pending %v", got, v.Points[0].Pending)
	}
	waitCalls(t, in)
	expect(0, 1, "", 0, true)
	if got := verdicts(step(1)); len(got) != 1 || got[0].State != "pass" || got[0].Tag != "Tag1" || got[0].Frame != 0 {
		t.Fatalf("frame 1: %v, want the pass of frame 0", got)
	}
	for k := 2; k < 10; k++ {
		if got := step(k); len(got) != 0 {
			t.Fatalf("frame %d: events %v between calls", k, got)
		}
	}
	expect(9, 1, "pass", 900*time.Millisecond, false)

	srv.Enqueue(azuretest.Error(http.StatusInternalServerError, "InternalServerError", "boom"))
	step(10)
	waitCalls(t, in)
	got := step(11)
	if len(got) != 1 || got[0].Head().Type != event.TypeAnalysisError || !strings.Contains(got[0].(*event.AnalysisError).Error, "inspection seal") {
		t.Fatalf("frame 11: %v, want one analysis_error", got)
	}
	expect(11, 2, "pass", 1100*time.Millisecond, false) // the old verdict stands, older

	srv.Enqueue(prediction("Tag2", "0.95"))
	for k := 12; k <= 20; k++ {
		step(k)
	}
	waitCalls(t, in)
	if got := verdicts(step(21)); len(got) != 1 || got[0].State != "fail" || got[0].Frame != 20 {
		t.Fatalf("frame 21: %v, want the fail of frame 20", got)
	}

	srv.Enqueue(azuretest.Throttled("5"))
	for k := 22; k <= 30; k++ {
		step(k)
	}
	waitCalls(t, in)
	for k := 31; k < 81; k++ { // held from the answer (3.1 s) for 5 s
		step(k)
	}
	expect(80, 4, "fail", 6*time.Second, true)
	step(81)
	waitCalls(t, in)
	if got := verdicts(step(82)); len(got) != 1 || got[0].State != "pass" {
		t.Fatalf("frame 82: %v, want the pass of frame 81", got)
	}
	expect(82, 5, "pass", 100*time.Millisecond, false)
	if c := v.Points[0].Counts; c != (event.InspectionCount{Pass: 2, Fail: 1}) {
		t.Errorf("counts %+v", c)
	}
	if made != 1 {
		t.Errorf("%d prediction clients made, want 1", made)
	}
	if sent := srv.Last(); len(sent.Image) == 0 || !strings.Contains(sent.EscapedPath, "/classify/") {
		t.Errorf("sent %s with %d bytes", sent.EscapedPath, len(sent.Image))
	}
}

// Two cloud points share the budget and take turns; a per_track point's
// part waits for the budget while it stays in the region, and is missed
// if it leaves first.
func TestCloudSharedBudgetAndPerTrack(t *testing.T) {
	srv := azuretest.New(t)
	made := 0
	clk := &fakeClock{t0}
	in := newInspector(t, []scene.Inspection{cloudPoint("a", ""), cloudPoint("b", ""), cloudPoint("parts", scene.ModePerTrack)},
		Options{Cloud: cloudModels(srv, &made), Budget: schedule.NewBudget(60, 0), Clock: clk})
	if made != 1 {
		t.Errorf("%d clients for one iteration, want 1", made)
	}
	m := grey(t)
	box := image.Rect(290, 210, 350, 270) // in the region
	tracks := func(k int) []TrackPos {
		ts := []TrackPos{{ID: 7, Box: box}, {ID: 8, Box: box.Add(image.Pt(40, 0))}}
		if k >= 12 { // track 8 moves on, out of the region
			ts[1].Box = box.Add(image.Pt(250, 0))
		}
		return ts
	}
	var events []event.Event
	for k := 0; k < 60; k++ {
		clk.t = t0.Add(time.Duration(k) * 100 * time.Millisecond)
		events = in.Inspect(context.Background(), frameAt(k, m, tracks(k)...), events)
		waitCalls(t, in)
	}
	events = in.Drain(context.Background(), events)
	// One call a second: a (0 s), b (1 s), then the part 7 (settled at
	// 0.2 s, waiting; 2 s), a (3 s), b (4 s), a (5 s); part 8 left at 1.2 s.
	var order []string
	for _, v := range verdicts(events) {
		s := v.Point
		if v.TrackID != nil {
			s += "#" + string(rune('0'+*v.TrackID))
		}
		order = append(order, s)
	}
	if got := strings.Join(order, " "); got != "a b parts#7" {
		t.Errorf("verdicts %q, want a b parts#7 (a state change each, one part)", got)
	}
	if srv.Count() != 6 {
		t.Errorf("%d calls in 6 s at one a second, want 6", srv.Count())
	}
	var v View
	in.View(&v)
	if v.Points[2].Missed != 1 {
		t.Errorf("missed %d parts, want 1 (track 8 left before its turn)", v.Points[2].Missed)
	}
}

// Inspect never waits for the network: a call that hangs leaves the frame
// loop running, and Close ends it.
func TestCloudHangDoesNotBlock(t *testing.T) {
	srv := azuretest.New(t)
	made := 0
	in := newInspector(t, []scene.Inspection{cloudPoint("seal", "")},
		Options{Cloud: cloudModels(srv, &made), Budget: schedule.NewBudget(0, 0)})
	srv.Enqueue(azuretest.Hang())
	m := grey(t)
	start := time.Now()
	for k := 0; k < 20; k++ {
		if got := in.Inspect(context.Background(), frameAt(k, m), nil); len(got) != 0 {
			t.Fatalf("frame %d: %v while the call hangs", k, got)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("20 frames took %v while a call hung", d)
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Count() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if srv.Count() != 1 {
		t.Errorf("%d calls: one hanging call should hold the point", srv.Count())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if got := in.Drain(ctx, nil); len(got) != 0 {
		t.Errorf("drain of a hanging call: %v", got)
	}
	start = time.Now()
	in.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v with a hanging call", d)
	}
}
