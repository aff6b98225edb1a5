package overlay

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
)

// inspectView has a point in each look DrawInspections gives: a fresh
// pass, a fail in alarm, a part under review, a cloud verdict gone stale,
// and a point without a verdict.
func inspectView() *inspect.View {
	rect := func(x, y, w, h int) []image.Point {
		return []image.Point{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}
	}
	return &inspect.View{Points: []inspect.PointView{
		{Name: "cap", Polygon: rect(20, 40, 160, 120), Verdict: inspect.Verdict{State: "pass", Tag: "cap_ok", Probability: 0.934},
			Counts: event.InspectionCount{Pass: 41, Fail: 2, Review: 1}, HasYield: true, Yield: 95.3},
		{Name: "label", Polygon: rect(230, 40, 160, 120), Verdict: inspect.Verdict{State: "fail", Tag: "torn", Probability: 0.88},
			Counts: event.InspectionCount{Pass: 3, Fail: 5}, HasYield: true, Yield: 37.5, Alarm: true},
		{Name: "tray", Mode: "per_track", Polygon: []image.Point{{440, 40}, {620, 60}, {600, 170}, {450, 150}},
			Verdict: inspect.Verdict{State: "review", Tag: "screw", Probability: 0.61, TrackID: 12, Age: 3 * time.Second},
			Counts:  event.InspectionCount{Pass: 7, Review: 2}, HasYield: true, Yield: 100},
		{Name: "seal", Cloud: true, Polygon: rect(20, 220, 200, 120), Verdict: inspect.Verdict{State: "pass", Tag: "sealed", Probability: 0.97, Age: 150 * time.Second},
			Stale: true, Counts: event.InspectionCount{Pass: 1}, HasYield: true, Yield: 100},
		{Name: "nozzle", Polygon: rect(300, 220, 140, 120), Stale: true},
	}}
}

func TestDrawInspectionsGolden(t *testing.T) {
	img := testFrame(t)
	DrawInspections(&img, inspectView())
	assertGolden(t, img, filepath.Join("testdata", "inspect.png"))
}

func TestDrawInspectionsColours(t *testing.T) {
	img := testFrame(t)
	inside, outside := pixel(img, 300, 140), pixel(img, 100, 190)
	DrawInspections(&img, inspectView())
	tests := []struct {
		name string
		x, y int
		want any
	}{
		{"pass outline", 20, 120, PassColor},
		{"fail outline", 230, 140, FailColor},
		{"review outline", 445, 100, ReviewColor},
		{"stale outline", 20, 300, NoVerdictColor},
		{"no verdict outline", 300, 300, NoVerdictColor},
		{"inside the point in alarm", 300, 140, blendAlpha(inside, AlarmColor, alarmAlpha)},
		{"outside every point", 100, 190, outside},
	}
	for _, tt := range tests {
		if got := pixel(img, tt.x, tt.y); got != tt.want {
			t.Errorf("%s at (%d,%d): %v, want %v", tt.name, tt.x, tt.y, got, tt.want)
		}
	}
}

func TestVerdictLabel(t *testing.T) {
	tests := []struct {
		p    inspect.PointView
		want string
	}{
		{inspect.PointView{Name: "cap", Verdict: inspect.Verdict{State: "pass", Probability: 0.934, Age: 2500 * time.Millisecond}}, "cap: pass 0.93 (2 s ago)"},
		{inspect.PointView{Name: "cap", Verdict: inspect.Verdict{State: "fail", Probability: 0.999, Age: 300 * time.Millisecond}}, "cap: fail 1.00"},
		{inspect.PointView{Name: "cap", Verdict: inspect.Verdict{State: "review", Probability: 0.05, TrackID: 12, Age: 3 * time.Minute}}, "cap #12: review 0.05 (3 min ago)"},
		{inspect.PointView{Name: "cap"}, "cap: no verdict"},
	}
	for _, tt := range tests {
		var b text
		verdictLabel(&b, &tt.p)
		if got := b.String(); got != tt.want {
			t.Errorf("label %q, want %q", got, tt.want)
		}
	}
}

// DrawInspections allocates nothing.
func TestDrawInspectionsAllocatesNothing(t *testing.T) {
	img := testFrame(t)
	v := inspectView()
	if n := testing.AllocsPerRun(20, func() { DrawInspections(&img, v) }); n != 0 {
		t.Errorf("DrawInspections allocates %v times", n)
	}
}

// blendAlpha is what alpha/256 of colour c over b gives, as blendPolygon.
func blendAlpha(b, c color.RGBA, alpha int) color.RGBA {
	mix := func(b, c uint8) uint8 { return uint8(int(b) + (int(c)-int(b))*alpha>>8) }
	return color.RGBA{mix(b.R, c.R), mix(b.G, c.G), mix(b.B, c.B), 255}
}
