package local

import (
	"image"
	"slices"
)

// detection is a candidate box in model-input coordinates.
type detection struct {
	box   rectF
	class int
	score float32
}

// rectF is an axis-aligned box as corners (x1,y1)-(x2,y2).
type rectF struct{ x1, y1, x2, y2 float32 }

func (r rectF) area() float32 {
	w, h := r.x2-r.x1, r.y2-r.y1
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// iou is the intersection over union of two boxes.
func iou(a, b rectF) float32 {
	inter := rectF{max(a.x1, b.x1), max(a.y1, b.y1), min(a.x2, b.x2), min(a.y2, b.y2)}.area()
	if inter == 0 {
		return 0
	}
	return inter / (a.area() + b.area() - inter)
}

// nms sorts dets by score (highest first; equal scores keep their order, as
// the references' argmax picks the first) and keeps, in place, those not
// overlapping a kept box of the same class by more than iouThreshold. With
// classAware false every class competes with every other. It returns the
// kept prefix of dets and allocates nothing.
func nms(dets []detection, iouThreshold float32, classAware bool) []detection {
	slices.SortStableFunc(dets, func(a, b detection) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	kept := 0
	for i := range dets {
		keep := true
		for j := 0; j < kept; j++ {
			if classAware && dets[j].class != dets[i].class {
				continue
			}
			if iou(dets[j].box, dets[i].box) > iouThreshold {
				keep = false
				break
			}
		}
		if keep {
			dets[kept] = dets[i]
			kept++
		}
	}
	return dets[:kept]
}

// toSource maps a box from model-input pixels back to a w×h source image:
// divide by the scales (model pixels a source pixel, across and down)
// and clamp to the image.
func (r rectF) toSource(sx, sy float32, w, h int) image.Rectangle {
	clamp := func(v, scale float32, hi int) int {
		p := int(v/scale + 0.5)
		return max(0, min(p, hi))
	}
	return image.Rect(clamp(r.x1, sx, w), clamp(r.y1, sy, h), clamp(r.x2, sx, w), clamp(r.y2, sy, h))
}
