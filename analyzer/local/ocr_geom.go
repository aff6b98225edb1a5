package local

import (
	"image"
	"math"
	"sort"
)

// Geometry of PP-OCR's DB post-processing (PaddleOCR
// ppocr/postprocess/db_postprocess.py and tools/infer/predict_det.py),
// written out in Go so the boxes keep sub-pixel precision (gocv's
// MinAreaRect rounds its corners to integers) and need no polygon clipper.

// fpt is a point with float coordinates.
type fpt struct{ X, Y float64 }

func (a fpt) sub(b fpt) fpt            { return fpt{a.X - b.X, a.Y - b.Y} }
func (a fpt) add(b fpt) fpt            { return fpt{a.X + b.X, a.Y + b.Y} }
func (a fpt) mul(k float64) fpt        { return fpt{a.X * k, a.Y * k} }
func (a fpt) norm() float64            { return math.Hypot(a.X, a.Y) }
func lerp(a, b fpt, t float64) fpt     { return a.add(b.sub(a).mul(t)) }
func cross(o, a, b image.Point) int    { return (a.X-o.X)*(b.Y-o.Y) - (a.Y-o.Y)*(b.X-o.X) }
func dot(a, b fpt) float64             { return a.X*b.X + a.Y*b.Y }
func toF(p image.Point) fpt            { return fpt{float64(p.X), float64(p.Y)} }
func (a fpt) round() image.Point       { return image.Pt(int(math.Round(a.X)), int(math.Round(a.Y))) }
func clampF(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// convexHull is Andrew's monotone chain, counter-clockwise in image axes,
// without collinear points.
func convexHull(pts []image.Point) []image.Point {
	p := append([]image.Point(nil), pts...)
	sort.Slice(p, func(i, j int) bool { return p[i].X < p[j].X || p[i].X == p[j].X && p[i].Y < p[j].Y })
	if len(p) < 3 {
		return p
	}
	h := make([]image.Point, 0, 2*len(p))
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], p[i]) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p[i])
	}
	return h[:len(h)-1]
}

// minAreaRect is cv2.minAreaRect + cv2.boxPoints: the corners of the
// smallest rotated rectangle holding pts (rotating calipers over the hull),
// and its shorter side.
func minAreaRect(pts []image.Point) (corners [4]fpt, short float64) {
	h := convexHull(pts)
	switch len(h) {
	case 0:
		return corners, 0
	case 1:
		c := toF(h[0])
		return [4]fpt{c, c, c, c}, 0
	case 2:
		a, b := toF(h[0]), toF(h[1])
		return [4]fpt{a, b, b, a}, 0
	}
	best := math.Inf(1)
	for i := range h {
		e := toF(h[(i+1)%len(h)]).sub(toF(h[i]))
		u := e.mul(1 / e.norm())
		v := fpt{-u.Y, u.X}
		minU, maxU, minV, maxV := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, q := range h {
			pu, pv := dot(toF(q), u), dot(toF(q), v)
			minU, maxU = math.Min(minU, pu), math.Max(maxU, pu)
			minV, maxV = math.Min(minV, pv), math.Max(maxV, pv)
		}
		if a := (maxU - minU) * (maxV - minV); a < best-1e-9 {
			best = a
			at := func(a, b float64) fpt { return u.mul(a).add(v.mul(b)) }
			corners = [4]fpt{at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)}
			short = math.Min(maxU-minU, maxV-minV)
		}
	}
	return corners, short
}

// miniBox orders a rectangle's corners as PaddleOCR's get_mini_boxes does:
// sorted by x, then the left pair split into top-left/bottom-left and the
// right pair into top-right/bottom-right by y. The result is
// [top-left, top-right, bottom-right, bottom-left].
func miniBox(c [4]fpt) [4]fpt {
	p := c
	sort.SliceStable(p[:], func(i, j int) bool { return p[i].X < p[j].X })
	i1, i4 := 1, 0
	if p[1].Y > p[0].Y {
		i1, i4 = 0, 1
	}
	i2, i3 := 3, 2
	if p[3].Y > p[2].Y {
		i2, i3 = 2, 3
	}
	return [4]fpt{p[i1], p[i2], p[i3], p[i4]}
}

// unclipRect grows a rectangle as DB's unclip does: the polygon is offset
// outwards by distance = area × ratio / perimeter (pyclipper, round joins).
// For a rectangle, the offset polygon is a rounded rectangle whose minimum
// bounding rectangle is the rectangle with every side pushed out by that
// distance, which is all the next step (get_mini_boxes) keeps.
func unclipRect(r [4]fpt, ratio float64) [4]fpt {
	w, h := r[1].sub(r[0]).norm(), r[3].sub(r[0]).norm()
	if w == 0 || h == 0 {
		return r
	}
	d := w * h * ratio / (2 * (w + h))
	u := r[1].sub(r[0]).mul(1 / w)
	v := r[3].sub(r[0]).mul(1 / h)
	c := r[0].add(r[2]).mul(0.5)
	hu, hv := u.mul(w/2+d), v.mul(h/2+d)
	return [4]fpt{c.sub(hu).sub(hv), c.add(hu).sub(hv), c.add(hu).add(hv), c.sub(hu).add(hv)}
}

// orderClockwise is predict_det's order_points_clockwise: top-left has the
// smallest x+y, bottom-right the largest, and of the other two top-right has
// the smaller y−x.
func orderClockwise(p [4]image.Point) [4]image.Point {
	iMin, iMax := 0, 0
	for i := range p {
		if p[i].X+p[i].Y < p[iMin].X+p[iMin].Y {
			iMin = i
		}
		if p[i].X+p[i].Y > p[iMax].X+p[iMax].Y {
			iMax = i
		}
	}
	var rest []image.Point
	for i := range p {
		if i != iMin && i != iMax {
			rest = append(rest, p[i])
		}
	}
	if iMin == iMax { // all four sums equal: a degenerate box
		rest = []image.Point{p[(iMin+1)%4], p[(iMin+2)%4]}
	}
	tr, bl := rest[0], rest[1]
	if tr.Y-tr.X > bl.Y-bl.X {
		tr, bl = bl, tr
	}
	return [4]image.Point{p[iMin], tr, p[iMax], bl}
}

// sortBoxes is predict_system's sorted_boxes: by the top-left corner's y
// then x, then boxes whose top-left corners are within 10 px vertically are
// reordered left to right, so a row of boxes reads left to right.
func sortBoxes(boxes [][4]image.Point) {
	sort.SliceStable(boxes, func(i, j int) bool {
		a, b := boxes[i][0], boxes[j][0]
		return a.Y < b.Y || a.Y == b.Y && a.X < b.X
	})
	for i := 0; i < len(boxes)-1; i++ {
		for j := i; j >= 0; j-- {
			if abs(boxes[j+1][0].Y-boxes[j][0].Y) < 10 && boxes[j+1][0].X < boxes[j][0].X {
				boxes[j], boxes[j+1] = boxes[j+1], boxes[j]
			} else {
				break
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
