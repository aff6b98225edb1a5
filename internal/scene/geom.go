package scene

import (
	"image"
	"math"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/scene/track"
)

// vec is a position in pixels.
type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) cross(b vec) float64 { return a.x*b.y - a.y*b.x }
func (a vec) point() image.Point  { return image.Pt(int(math.Round(a.x)), int(math.Round(a.y))) }
func (a vec) scaled(w, h int) vec { return vec{a.x * float64(w), a.y * float64(h)} }
func toVec(p Point, w, h int) vec { return vec{p.X, p.Y}.scaled(w, h) }

func sign(v float64) int8 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// side is where p lies from the line a→b: the contract's (B−A)×(P−A).
func side(a, b, p vec) float64 { return b.sub(a).cross(p.sub(a)) }

// segmentsCross reports whether segment p→q meets segment a→b, touching
// included.
func segmentsCross(p, q, a, b vec) bool {
	d1, d2 := side(a, b, p), side(a, b, q)
	d3, d4 := side(p, q, a), side(p, q, b)
	if (d1 > 0 && d2 > 0) || (d1 < 0 && d2 < 0) || (d3 > 0 && d4 > 0) || (d3 < 0 && d4 < 0) {
		return false
	}
	if d1 == 0 && d2 == 0 { // collinear: do the extents overlap?
		return min(p.x, q.x) <= max(a.x, b.x) && min(a.x, b.x) <= max(p.x, q.x) &&
			min(p.y, q.y) <= max(a.y, b.y) && min(a.y, b.y) <= max(p.y, q.y)
	}
	return true
}

// inside reports whether p is inside the polygon (even-odd rule).
func inside(poly []vec, p vec) bool {
	in := false
	for i, a := range poly {
		b := poly[(i+1)%len(poly)]
		if (a.y > p.y) != (b.y > p.y) && p.x < a.x+(p.y-a.y)*(b.x-a.x)/(b.y-a.y) {
			in = !in
		}
	}
	return in
}

// edgeDistance is how far p is from the polygon's nearest edge.
func edgeDistance(poly []vec, p vec) float64 {
	d := math.Inf(1)
	for i, a := range poly {
		b := poly[(i+1)%len(poly)]
		ab, ap := b.sub(a), p.sub(a)
		t := 0.0
		if l2 := ab.x*ab.x + ab.y*ab.y; l2 > 0 {
			t = min(max((ab.x*ap.x+ab.y*ap.y)/l2, 0), 1)
		}
		d = min(d, math.Hypot(ap.x-t*ab.x, ap.y-t*ab.y))
	}
	return d
}

// anchorOf is the point of box b that lines and zones look at.
func anchorOf(b analyzer.BoundingBox, anchor string) vec {
	x := float64(b.X) + float64(b.W)/2
	if anchor == AnchorCenter {
		return vec{x, float64(b.Y) + float64(b.H)/2}
	}
	return vec{x, float64(b.Y + b.H)}
}

func boxOf(b analyzer.BoundingBox) track.Box {
	return track.Box{X1: float64(b.X), Y1: float64(b.Y), X2: float64(b.X + b.W), Y2: float64(b.Y + b.H)}
}

func rectOf(b analyzer.BoundingBox) image.Rectangle { return image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H) }
