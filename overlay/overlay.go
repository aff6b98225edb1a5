// Package overlay draws analysis results onto frames: one function of
// (frame, result, filter) → pixels, shared by the GUI, recordings and
// snapshots so that all three show the same thing.
package overlay

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"math"
	"strings"
	"sync"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

// Filter decides what is drawn. It applies to cached results at draw time,
// so changing it never needs a new analysis.
type Filter struct {
	// Threshold is the minimum confidence drawn normally.
	Threshold float64
	// PerClass overrides Threshold for some classes (lower-case names).
	PerClass map[string]float64
	// Hidden classes are never drawn (lower-case names).
	Hidden map[string]bool
	// Dimmed draws boxes under the threshold faintly instead of hiding them.
	Dimmed bool
	// HideTrackIDs and HideTrails leave a scene's track IDs and the
	// tracks' recent paths off (DrawScene).
	HideTrackIDs, HideTrails bool
	// HideObjects, HidePeople, HideFaces, HideDense and HideRead switch off
	// whole layers; the zero Filter draws everything.
	HideObjects, HidePeople, HideFaces, HideDense, HideRead bool
	// BlurFaces pixelates faces (privacy).
	BlurFaces bool
	// Highlight lists keywords (case-insensitive): OCR lines containing one
	// are filled in HighlightColor so they stand out on a busy document.
	Highlight []string
}

// Highlighted reports whether an OCR line contains one of f's keywords.
func (f Filter) Highlighted(text string) bool {
	lower := strings.ToLower(text)
	for _, k := range f.Highlight {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" && strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// ThresholdFor is the confidence a box of class name needs to be drawn.
func (f Filter) ThresholdFor(name string) float64 {
	if t, ok := f.PerClass[strings.ToLower(name)]; ok {
		return t
	}
	return f.Threshold
}

// visibility of one box under the filter.
type visibility int

const (
	hidden visibility = iota
	dimmed
	shown
)

// strength is 1 for a shown box and its share of its threshold for a
// dimmed one.
func (f Filter) strength(name string, conf float64, v visibility) float64 {
	if v != dimmed {
		return 1
	}
	if t := f.ThresholdFor(name); t > 0 {
		return conf / t
	}
	return 0
}

func (f Filter) visibility(name string, conf float64) visibility {
	if f.Hidden[strings.ToLower(name)] {
		return hidden
	}
	if conf >= f.ThresholdFor(name) {
		return shown
	}
	if f.Dimmed {
		return dimmed
	}
	return hidden
}

// Colours are fixed so a class keeps its colour across runs and machines.
var (
	PersonColor = color.RGBA{0, 230, 118, 255}  // people: always this green
	FaceColor   = color.RGBA{255, 64, 129, 255} // faces: pink
	TextColor   = color.RGBA{255, 235, 59, 255} // OCR polygons: yellow
	DenseColor  = color.RGBA{178, 235, 242, 255}
	// HighlightColor fills OCR lines that contain a keyword: orange.
	HighlightColor = color.RGBA{255, 145, 0, 255}
	palette        = []color.RGBA{
		{33, 150, 243, 255}, {255, 152, 0, 255}, {156, 39, 176, 255}, {244, 67, 54, 255},
		{0, 188, 212, 255}, {205, 220, 57, 255}, {121, 85, 72, 255}, {63, 81, 181, 255},
		{255, 87, 34, 255}, {96, 125, 139, 255}, {233, 30, 99, 255}, {0, 150, 136, 255},
		{255, 193, 7, 255}, {103, 58, 183, 255}, {139, 195, 74, 255}, {3, 169, 244, 255},
	}
)

// ClassColor is the colour of a class: people and faces have their own,
// other classes hash into a fixed palette.
func ClassColor(name string) color.RGBA {
	switch strings.ToLower(name) {
	case "person", "people":
		return PersonColor
	case "face":
		return FaceColor
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return palette[h.Sum32()%uint32(len(palette))]
}

// Draw paints a's boxes, labels and polygons onto img (8-bit BGR) in place.
func Draw(img *gocv.Mat, a *analyzer.Analysis, f Filter) {
	if a == nil || img.Empty() {
		return
	}
	st := newStyle(img.Cols(), img.Rows())
	if f.BlurFaces {
		for _, face := range a.Faces {
			analyzer.Pixelate(img, rect(face.BoundingBox))
		}
	}
	// Frames first, labels second, so that no box's line crosses another
	// box's label.
	eachBox(a, f, func(b box) { st.frame(img, b.r, b.c, b.strength) })
	var placed labelSpots
	eachBox(a, f, func(b box) { st.label(img, b, &placed) })
	if !f.HideRead && a.ReadResult != nil {
		for _, b := range a.ReadResult.Blocks {
			for _, l := range b.Lines {
				if f.Highlighted(l.Text) {
					st.fill(img, l.BoundingPolygon, HighlightColor)
					st.polygon(img, l.BoundingPolygon, HighlightColor)
					continue
				}
				st.polygon(img, l.BoundingPolygon, TextColor)
			}
		}
	}
}

// box is one box to draw. strength is 1 for a box at or over its
// threshold, its share of the threshold (confidence / threshold) for one
// under it, drawn dimmed; id is its track's, 0 untracked.
type box struct {
	r        image.Rectangle
	c        color.RGBA
	name     string
	conf     float64
	strength float64
	id       int
}

// eachBox calls draw for every box f lets through, in drawing order.
func eachBox(a *analyzer.Analysis, f Filter, draw func(box)) {
	id := func(n int) int {
		if f.HideTrackIDs {
			return 0
		}
		return n
	}
	if !f.HideDense {
		for _, d := range a.DenseCaptions {
			if d.Confidence >= f.Threshold {
				draw(box{rect(d.BoundingBox), DenseColor, d.Text, d.Confidence, 1, 0})
			}
		}
	}
	if !f.HideObjects {
		for _, o := range a.Objects {
			// People are drawn from the people list when there is one, so a
			// person is not boxed twice.
			if a.People != nil && strings.EqualFold(o.Name, "person") {
				continue
			}
			if v := f.visibility(o.Name, o.Confidence); v != hidden {
				draw(box{rect(o.BoundingBox), ClassColor(o.Name), o.Name, o.Confidence, f.strength(o.Name, o.Confidence, v), id(o.TrackID)})
			}
		}
	}
	if !f.HidePeople {
		for _, p := range a.People {
			if v := f.visibility("person", p.Confidence); v != hidden {
				draw(box{rect(p.BoundingBox), PersonColor, "person", p.Confidence, f.strength("person", p.Confidence, v), id(p.TrackID)})
			}
		}
	}
	if !f.HideFaces {
		for _, face := range a.Faces {
			if v := f.visibility("face", face.Confidence); v != hidden {
				draw(box{rect(face.BoundingBox), FaceColor, "face", face.Confidence, f.strength("face", face.Confidence, v), 0})
			}
		}
	}
}

func rect(b analyzer.BoundingBox) image.Rectangle { return image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H) }

// style scales line widths and fonts to the frame so labels stay readable
// on 480p and 4K alike.
type style struct {
	thick     int
	fontScale float64
	fontThick int
}

func newStyle(w, h int) style {
	s := float64(min(w, h)) / 720
	return style{
		thick:     max(2, int(3*s+0.5)),
		fontScale: max(0.45, 0.7*s),
		fontThick: max(1, int(1.6*s+0.5)),
	}
}

const font = gocv.FontHersheySimplex

// frame draws a box's outline: thin, and the fainter the further under
// its threshold, when dimmed.
func (st style) frame(img *gocv.Mat, r image.Rectangle, c color.RGBA, strength float64) {
	if strength < 1 {
		gocv.Rectangle(img, r, fadedBy(c, strength), 1)
		return
	}
	gocv.Rectangle(img, r, c, st.thick)
}

// labelSpots remembers where labels went, so that the next one can avoid
// them; a fixed array keeps drawing free of allocations (past its size,
// labels may overlap again).
type labelSpots struct {
	rects [64]image.Rectangle
	n     int
}

// covered is how many pixels of r earlier labels cover.
func (p *labelSpots) covered(r image.Rectangle) int {
	n := 0
	for _, q := range p.rects[:p.n] {
		i := q.Intersect(r)
		n += i.Dx() * i.Dy()
	}
	return n
}

func (p *labelSpots) add(r image.Rectangle) {
	if p.n < len(p.rects) {
		p.rects[p.n] = r
		p.n++
	}
}

// label captions a box on a filled background: above it, or where it
// covers no earlier label (at its right end, inside its top, below it,
// inside its bottom; if every spot is taken, where it covers least), and
// always within the frame, so that crowded or edge boxes stay readable.
// Dimmed boxes are labelled only near their threshold (at half of it or
// more), without a background, and only where no other label is: a
// crowd of doubtful boxes must not bury the confident ones' labels.
func (st style) label(img *gocv.Mat, b box, placed *labelSpots) {
	r, c := b.r, b.c
	text := TrackLabel(b.name, b.id, b.conf)
	if b.strength < 1 {
		st.dimLabel(img, r, c, text, b.strength, placed)
		return
	}
	size := gocv.GetTextSize(text, font, st.fontScale, st.fontThick)
	const pad = 3
	w, h := size.X+2*pad, size.Y+2*pad
	clampX := func(x int) int { return max(min(x, img.Cols()-w), 0) }
	left, right := clampX(r.Min.X-st.thick/2), clampX(r.Max.X+st.thick/2-w)
	bg := image.Rect(left, 0, left+w, h) // if the frame is too small for any spot
	least := -1
spots:
	for _, top := range [4]int{r.Min.Y - h, r.Min.Y, r.Max.Y, r.Max.Y - h} {
		if top < 0 || top+h > img.Rows() {
			continue
		}
		for _, x := range [2]int{left, right} {
			spot := image.Rect(x, top, x+w, top+h)
			if cov := placed.covered(spot); least < 0 || cov < least {
				bg, least = spot, cov
				if cov == 0 {
					break spots
				}
			}
		}
	}
	placed.add(bg)
	gocv.Rectangle(img, bg, c, -1)
	gocv.PutText(img, text, image.Pt(bg.Min.X+pad, bg.Max.Y-pad), font, st.fontScale, textOn(c), st.fontThick)
}

// dimLabel writes a dimmed box's label inside its top, when the box is
// near its threshold and the spot is free.
func (st style) dimLabel(img *gocv.Mat, r image.Rectangle, c color.RGBA, text string, strength float64, placed *labelSpots) {
	if strength < 0.5 {
		return
	}
	scale := st.fontScale * 0.8
	size := gocv.GetTextSize(text, font, scale, 1)
	spot := image.Rect(r.Min.X+2, r.Min.Y+2, r.Min.X+2+size.X, r.Min.Y+4+size.Y)
	if placed.covered(spot) > 0 || !spot.In(image.Rect(0, 0, img.Cols(), img.Rows())) {
		return
	}
	placed.add(spot)
	gocv.PutText(img, text, image.Pt(spot.Min.X, spot.Max.Y-2), font, scale, fadedBy(c, strength), 1)
}

// fadedBy darkens c the more, the weaker a box is: from a quarter of its
// brightness for a box at no confidence to 80 % just under its threshold.
func fadedBy(c color.RGBA, strength float64) color.RGBA {
	k := 0.25 + 0.55*max(0, min(1, strength))
	return color.RGBA{uint8(float64(c.R) * k), uint8(float64(c.G) * k), uint8(float64(c.B) * k), 255}
}

func (st style) polygon(img *gocv.Mat, pts []analyzer.Point, c color.RGBA) {
	if len(pts) < 2 {
		return
	}
	ip := make([]image.Point, len(pts))
	for i, p := range pts {
		ip[i] = image.Pt(p.X, p.Y)
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{ip})
	defer pv.Close()
	gocv.Polylines(img, pv, true, c, max(1, st.thick-1))
}

// fill shades the inside of a polygon with c at 40 % so the text under it
// stays legible.
func (st style) fill(img *gocv.Mat, pts []analyzer.Point, c color.RGBA) {
	if len(pts) < 3 {
		return
	}
	r := image.Rectangle{Min: image.Pt(pts[0].X, pts[0].Y), Max: image.Pt(pts[0].X, pts[0].Y)}
	for _, p := range pts[1:] {
		r = r.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
	}
	r = r.Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if r.Dx() < 1 || r.Dy() < 1 {
		return
	}
	roi := img.Region(r)
	defer roi.Close()
	shade := roi.Clone()
	defer shade.Close()
	ip := make([]image.Point, len(pts))
	for i, p := range pts {
		ip[i] = image.Pt(p.X-r.Min.X, p.Y-r.Min.Y)
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{ip})
	defer pv.Close()
	gocv.FillPoly(&shade, pv, c)
	gocv.AddWeighted(shade, 0.4, roi, 0.6, 0, &roi)
}

// Outline draws a polygon onto img in c, thick pixels wide, shading its
// inside too when filled: a document's fields on a picture drawn at the
// size it is shown.
func Outline(img *gocv.Mat, pts []analyzer.Point, c color.RGBA, thick int, filled bool) {
	st := style{thick: thick + 1} // polygon draws one thinner than frames
	if filled {
		st.fill(img, pts, c)
	}
	st.polygon(img, pts, c)
}

// Label is a box's caption: the class name and its confidence, as "person 0.87".
func Label(name string, conf float64) string { return TrackLabel(name, 0, conf) }

// TrackLabel is the caption of a tracked box: "person #12 0.87" (id 0:
// untracked, as Label).
func TrackLabel(name string, id int, conf float64) string {
	pct := int(math.Round(min(max(conf, 0), 1) * 100))
	key := labelKey{name, id, pct}
	labels.Lock()
	defer labels.Unlock()
	if l, ok := labels.m[key]; ok {
		return l
	}
	if len(labels.m) >= maxLabels || labels.m == nil {
		labels.m = make(map[labelKey]string, 256) // free-text names (dense captions) must not grow it forever
	}
	l := fmt.Sprintf("%s %d.%02d", name, pct/100, pct%100)
	if id > 0 {
		l = fmt.Sprintf("%s #%d %d.%02d", name, id, pct/100, pct%100)
	}
	labels.m[key] = l
	return l
}

// Labels are cached so that drawing the same classes frame after frame
// allocates nothing.
type labelKey struct {
	name    string
	id, pct int
}

const maxLabels = 4096

var labels struct {
	sync.Mutex
	m map[labelKey]string
}

// textOn picks black or white text for legibility on background c.
func textOn(c color.RGBA) color.RGBA {
	if 299*int(c.R)+587*int(c.G)+114*int(c.B) > 140000 {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{255, 255, 255, 255}
}
