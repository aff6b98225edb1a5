package overlay

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"unsafe"

	"gocv.io/x/gocv"

	scenes "github.com/sightline/sightline/internal/scene" // overlay's tests have a scene of their own
)

// SceneOptions say what of a scene is drawn; the zero value draws all.
type SceneOptions struct {
	HideIDs    bool // track IDs on the boxes
	HideTrails bool // the tracks' recent paths
}

// Scene colours: lines amber, zones cyan, anything in alarm red.
var (
	LineColor  = color.RGBA{255, 193, 7, 255}
	ZoneColor  = color.RGBA{0, 188, 212, 255}
	AlarmColor = color.RGBA{244, 67, 54, 255}
)

// zoneAlpha is how much of a zone's colour its fill lays over the picture,
// in 256ths: enough to see the zone, little enough to see what is in it.
const zoneAlpha = 64

// DrawScene paints a scene's zones (filled, with their occupancy), lines
// (with their in and out counts and the side that is in), tracks (ID and
// trail) and active alerts onto img (8-bit BGR) in place, the way Draw
// paints an analysis: a function of its inputs, allocating nothing.
func DrawScene(img *gocv.Mat, v *scenes.View, o SceneOptions) {
	if v == nil || img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return
	}
	st := newStyle(img.Cols(), img.Rows())
	for i := range v.Zones {
		st.zone(img, &v.Zones[i])
	}
	for i := range v.Lines {
		st.line(img, &v.Lines[i])
	}
	for i := range v.Tracks {
		t := &v.Tracks[i]
		c := ClassColor(t.Name)
		if !o.HideTrails {
			for k := 1; k < t.N; k++ {
				gocv.Line(img, t.Trail[k-1], t.Trail[k], c, st.thick)
			}
		}
		if !o.HideIDs {
			var b text
			b.str("#").int(t.ID)
			st.tag(img, image.Pt(t.Box.Min.X, t.Box.Max.Y), b.String(), c, false)
		}
	}
	y := 0
	for i := range v.Alerts {
		var b text
		b.str(v.Alerts[i].Rule).str(": ").str(v.Alerts[i].Detail)
		y = st.tag(img, image.Pt(0, y), b.String(), AlarmColor, true).Max.Y
	}
}

// zone fills a zone and outlines it, with its name and occupancy at its
// top corner.
func (st style) zone(img *gocv.Mat, z *scenes.ZoneView) {
	if len(z.Polygon) < 3 {
		return
	}
	c := ZoneColor
	if z.Alarm {
		c = AlarmColor
	}
	blendPolygon(img, z.Polygon, c, zoneAlpha)
	top := z.Polygon[0]
	for i, p := range z.Polygon {
		gocv.Line(img, p, z.Polygon[(i+1)%len(z.Polygon)], c, max(1, st.thick-1))
		if p.Y < top.Y || (p.Y == top.Y && p.X < top.X) {
			top = p
		}
	}
	var b text
	b.str(z.Name).str(" ").int(z.Occupancy)
	st.tag(img, top, b.String(), c, false)
}

// line draws a counting line with an arrow from its middle towards the
// side crossed into for "in", and its counts on the other side.
func (st style) line(img *gocv.Mat, l *scenes.LineView) {
	c := LineColor
	if l.Alarm {
		c = AlarmColor
	}
	gocv.Line(img, l.A, l.B, c, st.thick)
	mid := l.A.Add(l.B).Div(2)
	// The "in" side is where (B−A)×(P−A) > 0: in image coordinates (y
	// down) that is the direction (−dy, dx) from the line.
	d := l.B.Sub(l.A)
	nx, ny := float64(-d.Y), float64(d.X)
	norm := max(1, math.Hypot(nx, ny))
	nx, ny = nx/norm, ny/norm
	st.arrow(img, mid, nx, ny, c)
	var b text
	b.str(l.Name).str(" in ").int(l.In).str(" out ").int(l.Out)
	// The label goes beside the line's start on the out side, clear of
	// the middle, where what it counts crosses: as far off the line along
	// the normal as the label's half-extent in that direction.
	w, h := st.tagSize(b.String(), false)
	off := math.Abs(nx)*float64(w)/2 + math.Abs(ny)*float64(h)/2 + float64(st.thick)
	along := l.A.Add(d.Mul(15).Div(100))
	centre := image.Pt(along.X-int(nx*off), along.Y-int(ny*off))
	st.tag(img, centre.Sub(image.Pt(w/2, h/2)), b.String(), c, false)
}

// arrow draws an arrow from p along the unit vector (nx, ny).
func (st style) arrow(img *gocv.Mat, p image.Point, nx, ny float64, c color.RGBA) {
	at := func(along, across float64) image.Point {
		return p.Add(image.Pt(int(math.Round(nx*along-ny*across)), int(math.Round(ny*along+nx*across))))
	}
	length, head := float64(12*st.thick), float64(4*st.thick)
	tip := at(length, 0)
	gocv.Line(img, p, tip, c, st.thick)
	gocv.Line(img, tip, at(length-head, head), c, st.thick)
	gocv.Line(img, tip, at(length-head, -head), c, st.thick)
}

// tagPad is the room around a tag's text.
const tagPad = 3

// tagSize is the size of s's tag.
func (st style) tagSize(s string, big bool) (w, h int) {
	size := gocv.GetTextSize(s, font, st.tagScale(big), st.fontThick)
	return size.X + 2*tagPad, size.Y + 2*tagPad
}

func (st style) tagScale(big bool) float64 {
	if big {
		return st.fontScale
	}
	return st.fontScale * 0.8
}

// tag writes s on a filled background with its top-left at p (kept in the
// frame) and returns the background's rectangle.
func (st style) tag(img *gocv.Mat, p image.Point, s string, c color.RGBA, big bool) image.Rectangle {
	w, h := st.tagSize(s, big)
	x := max(min(p.X, img.Cols()-w), 0)
	y := max(min(p.Y, img.Rows()-h), 0)
	bg := image.Rect(x, y, x+w, y+h)
	gocv.Rectangle(img, bg, c, -1)
	gocv.PutText(img, s, image.Pt(x+tagPad, y+h-tagPad), font, st.tagScale(big), textOn(c), st.fontThick)
	return bg
}

// blendPolygon lays colour c over the inside of a polygon at alpha/256,
// one scanline at a time (even-odd rule, pixel centres), straight on the
// frame's pixels: no mask, no copy of the frame.
func blendPolygon(img *gocv.Mat, poly []image.Point, c color.RGBA, alpha int) {
	data, err := img.DataPtrUint8()
	if err != nil || len(poly) > scenes.MaxPolygonPoints {
		return // not continuous: a view of a frame, which Sightline never draws on
	}
	cols, rows := img.Cols(), img.Rows()
	y0, y1 := rows, -1
	for _, p := range poly {
		y0, y1 = min(y0, p.Y), max(y1, p.Y)
	}
	// What each channel value becomes under c, looked up rather than
	// computed: a third of the time a pixel.
	var lut [3][256]uint8
	for ch, cv := range [3]int{int(c.B), int(c.G), int(c.R)} {
		for v := range 256 {
			lut[ch][v] = uint8(v + (cv-v)*alpha>>8)
		}
	}
	var xs [scenes.MaxPolygonPoints]int
	for y := max(y0, 0); y <= min(y1, rows-1); y++ {
		n := crossings(poly, float64(y)+0.5, &xs)
		for k := 0; k+1 < n; k += 2 {
			blendRow(data[y*cols*3:(y+1)*cols*3], max(xs[k], 0), min(xs[k+1], cols), &lut)
		}
	}
}

// crossings finds where the polygon's edges cross the horizontal line at
// y, rounded to the pixel whose centre is inside, sorted.
func crossings(poly []image.Point, y float64, xs *[scenes.MaxPolygonPoints]int) int {
	n := 0
	for i, a := range poly {
		b := poly[(i+1)%len(poly)]
		ay, by := float64(a.Y), float64(b.Y)
		if (ay <= y) == (by <= y) {
			continue
		}
		x := float64(a.X) + (y-ay)*float64(b.X-a.X)/(by-ay)
		v := int(x + 0.5) // first pixel whose centre is right of the edge
		j := n
		for ; j > 0 && xs[j-1] > v; j-- {
			xs[j] = xs[j-1]
		}
		xs[j] = v
		n++
	}
	return n
}

// blendRow blends pixels [x0, x1) of one BGR row through lut.
func blendRow(row []uint8, x0, x1 int, lut *[3][256]uint8) {
	if x0 >= x1 {
		return
	}
	px := row[x0*3 : x1*3]
	for i := 0; i+2 < len(px); i += 3 {
		px[i], px[i+1], px[i+2] = lut[0][px[i]], lut[1][px[i+1]], lut[2][px[i+2]]
	}
}

// text builds a label in a fixed buffer, so drawing allocates nothing;
// past its size, text is cut.
type text struct {
	b [96]byte
	n int
}

func (t *text) str(s string) *text {
	t.n += copy(t.b[t.n:], s)
	return t
}

func (t *text) int(v int) *text {
	var digits [20]byte
	return t.str(string(strconv.AppendInt(digits[:0], int64(v), 10)))
}

// String returns the text without copying it: it is only read by OpenCV
// during the call it is passed to, which copies it, while t lives on.
func (t *text) String() string { return unsafe.String(&t.b[0], t.n) }
