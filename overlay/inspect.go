package overlay

import (
	"image"
	"image/color"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/inspect"
)

// Inspection colours: a state at a glance, from across the room.
var (
	PassColor      = color.RGBA{67, 160, 71, 255}
	FailColor      = AlarmColor
	ReviewColor    = color.RGBA{255, 160, 0, 255}
	NoVerdictColor = color.RGBA{158, 158, 158, 255} // none yet, or stale
)

// alarmAlpha is how much red a point in alarm is filled with: more than a
// zone's tint, to be seen across the room, little enough to see the part.
const alarmAlpha = 96

// InspectionColor is the colour of a point's state: green pass, red fail,
// amber review, grey without a verdict or with a stale one.
func InspectionColor(p *inspect.PointView) color.RGBA {
	if p.Stale {
		return NoVerdictColor
	}
	switch p.Verdict.State {
	case inspect.StatePass:
		return PassColor
	case inspect.StateFail:
		return FailColor
	case inspect.StateReview:
		return ReviewColor
	}
	return NoVerdictColor
}

// DrawInspections paints the inspection points onto img (8-bit BGR) in
// place: each region outlined in its state's colour (filled red when a
// rule on it is in alarm), a label "cap: pass 0.93 (2 s ago)" at its top
// and under it its counts and recent yield, "P 41  F 2  R 1  95%". Like DrawScene it allocates nothing.
func DrawInspections(img *gocv.Mat, v *inspect.View) {
	if v == nil || img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return
	}
	st := newStyle(img.Cols(), img.Rows())
	for i := range v.Points {
		st.inspection(img, &v.Points[i])
	}
}

func (st style) inspection(img *gocv.Mat, p *inspect.PointView) {
	if len(p.Polygon) < 3 {
		return
	}
	c := InspectionColor(p)
	thick := st.thick
	if p.Alarm {
		blendPolygon(img, p.Polygon, AlarmColor, alarmAlpha)
		thick *= 2
	}
	top := p.Polygon[0]
	for i, q := range p.Polygon {
		gocv.Line(img, q, p.Polygon[(i+1)%len(p.Polygon)], c, thick)
		if q.Y < top.Y || (q.Y == top.Y && q.X < top.X) {
			top = q
		}
	}
	var b text
	verdictLabel(&b, p)
	r := st.tag(img, top, b.String(), c, true)
	var n text
	n.str("P ").int(p.Counts.Pass).str("  F ").int(p.Counts.Fail).str("  R ").int(p.Counts.Review)
	if p.HasYield {
		n.str("  ").int(int(p.Yield + 0.5)).str("%")
	}
	st.tag(img, image.Pt(r.Min.X, r.Max.Y), n.String(), c, false)
}

// verdictLabel writes "cap: pass 0.93 (2 s ago)", "cap #12: fail 0.88"
// for a part, or "cap: no verdict".
func verdictLabel(b *text, p *inspect.PointView) {
	b.str(p.Name)
	v := &p.Verdict
	if v.TrackID != 0 {
		b.str(" #").int(v.TrackID)
	}
	if v.State == "" {
		b.str(": no verdict")
		return
	}
	b.str(": ").str(v.State).str(" ").probability(v.Probability)
	switch {
	case v.Age >= 2*time.Minute:
		b.str(" (").int(int(v.Age / time.Minute)).str(" min ago)")
	case v.Age >= time.Second:
		b.str(" (").int(int(v.Age / time.Second)).str(" s ago)")
	}
}

// probability writes p with two decimals.
func (t *text) probability(p float64) *text {
	hundredths := int(p*100 + 0.5)
	t.int(hundredths / 100).str(".")
	if hundredths%100 < 10 {
		t.str("0")
	}
	return t.int(hundredths % 100)
}
