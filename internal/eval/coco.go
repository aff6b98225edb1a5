package eval

import (
	"cmp"
	"math"
	"slices"

	"github.com/sightline/sightline/internal/dataset"
)

// COCO's evaluation parameters for boxes (pycocotools' Params, iouType
// "bbox", area range "all").
const (
	maxDets      = 100
	recallPoints = 101
	// eps is NumPy's spacing(1), which pycocotools adds to tp+fp so that a
	// precision is never 0/0.
	eps = 2.220446049250313e-16
	// maxIoU caps a threshold, as pycocotools' min(t, 1-1e-10) does.
	maxIoU = 1 - 1e-10
)

// cocoIoUs are 0.50:0.05:0.95, computed as np.linspace computes them, so
// that an IoU exactly on a threshold falls on the same side as in
// pycocotools.
var cocoIoUs = linspace(0.5, 0.95, 10)

// recallThresholds are 0:0.01:1, likewise.
var recallThresholds = linspace(0, 1, recallPoints)

func linspace(start, stop float64, n int) []float64 {
	step := (stop - start) / float64(n-1)
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i)*step + start
	}
	out[n-1] = stop
	return out
}

// imageEval is pycocotools' evaluateImg for one image and one category:
// its detections (best first, at most maxDets), its ground truth (crowd
// boxes last) and, for each IoU threshold, which box each detection
// matched (-1: none) and whether it is ignored (it matched a crowd box).
type imageEval struct {
	imageID  int64
	dets     []Detection
	gts      []dataset.Annotation
	crowd    []bool
	matchOf  [][]int  // [threshold][detection] → index in gts, or -1
	ignored  [][]bool // [threshold][detection]
	gtMatch  [][]int  // [threshold][ground truth] → index in dets, or -1
	nonCrowd int
}

// evaluateImage matches dets to gts greedily, best detection first, at
// each of thresholds, as pycocotools does: a detection takes the unmatched
// box it overlaps most (at least the threshold), preferring ordinary boxes
// to crowd boxes, which any number of detections may match.
func evaluateImage(imageID int64, gts []dataset.Annotation, dets []Detection, thresholds []float64) *imageEval {
	e := &imageEval{imageID: imageID}
	// Crowd boxes last, otherwise in file order (a stable sort).
	e.gts = slices.Clone(gts)
	slices.SortStableFunc(e.gts, func(a, b dataset.Annotation) int { return cmp.Compare(a.IsCrowd, b.IsCrowd) })
	e.crowd = make([]bool, len(e.gts))
	for i, g := range e.gts {
		e.crowd[i] = g.IsCrowd == 1
		if !e.crowd[i] {
			e.nonCrowd++
		}
	}
	e.dets = slices.Clone(dets)
	slices.SortStableFunc(e.dets, func(a, b Detection) int { return cmp.Compare(b.Score, a.Score) })
	e.dets = e.dets[:min(len(e.dets), maxDets)]

	ious := make([][]float64, len(e.dets))
	for d, det := range e.dets {
		ious[d] = make([]float64, len(e.gts))
		for g, gt := range e.gts {
			ious[d][g] = boxIoU(det.BBox, gt.BBox, e.crowd[g])
		}
	}
	for _, t := range thresholds {
		matchOf, ignored, gtMatch := e.match(ious, t)
		e.matchOf = append(e.matchOf, matchOf)
		e.ignored = append(e.ignored, ignored)
		e.gtMatch = append(e.gtMatch, gtMatch)
	}
	return e
}

// match is one threshold's greedy matching.
func (e *imageEval) match(ious [][]float64, threshold float64) (matchOf []int, ignored []bool, gtMatch []int) {
	matchOf = make([]int, len(e.dets))
	ignored = make([]bool, len(e.dets))
	gtMatch = make([]int, len(e.gts))
	for g := range gtMatch {
		gtMatch[g] = -1
	}
	for d := range e.dets {
		best, m := min(threshold, maxIoU), -1
		for g := range e.gts {
			if gtMatch[g] >= 0 && !e.crowd[g] {
				continue // taken
			}
			if m >= 0 && !e.crowd[m] && e.crowd[g] {
				break // an ordinary box matched; crowd boxes come only after
			}
			if ious[d][g] < best {
				continue
			}
			best, m = ious[d][g], g
		}
		matchOf[d] = m
		if m >= 0 {
			ignored[d] = e.crowd[m]
			gtMatch[m] = d
		}
	}
	return matchOf, ignored, gtMatch
}

// boxIoU is the overlap of boxes [x,y,w,h]: intersection over union, or
// over the detection's own area for a crowd box.
func boxIoU(d, g [4]float64, crowd bool) float64 {
	w := math.Min(d[0]+d[2], g[0]+g[2]) - math.Max(d[0], g[0])
	h := math.Min(d[1]+d[3], g[1]+g[3]) - math.Max(d[1], g[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	union := d[2] * d[3]
	if !crowd {
		union += g[2]*g[3] - inter
	}
	return inter / union
}

// ranked is one detection of a category in the order pycocotools
// accumulates them: every image's (best first, at most maxDets), images in
// id order, then sorted by score, highest first, ties kept in that order.
type ranked struct {
	score      float64
	image, det int // indices into the category's images and their dets
}

func rank(images []*imageEval) []ranked {
	var out []ranked
	for i, e := range images {
		for d, det := range e.dets {
			out = append(out, ranked{score: det.Score, image: i, det: d})
		}
	}
	slices.SortStableFunc(out, func(a, b ranked) int { return cmp.Compare(b.score, a.score) })
	return out
}

// cumulative counts true and false positives down the ranking at threshold
// index t; ignored detections count as neither but keep their place.
func cumulative(images []*imageEval, order []ranked, t int) (tp, fp []float64) {
	tp, fp = make([]float64, len(order)), make([]float64, len(order))
	var tps, fps float64
	for i, r := range order {
		e := images[r.image]
		switch {
		case e.ignored[t][r.det]:
		case e.matchOf[t][r.det] >= 0:
			tps++
		default:
			fps++
		}
		tp[i], fp[i] = tps, fps
	}
	return tp, fp
}

// interpolatedPrecision is COCO's 101-point precision at threshold index
// t: the precision envelope (best precision at any recall at least as
// high) read at recall 0, 0.01, …, 1; 0 beyond the highest recall reached.
func interpolatedPrecision(images []*imageEval, order []ranked, t int, groundTruth int) []float64 {
	tp, fp := cumulative(images, order, t)
	n := len(tp)
	recall, precision := make([]float64, n), make([]float64, n)
	for i := range tp {
		recall[i] = tp[i] / float64(groundTruth)
		precision[i] = tp[i] / (fp[i] + tp[i] + eps)
	}
	for i := n - 1; i > 0; i-- {
		precision[i-1] = max(precision[i-1], precision[i])
	}
	q := make([]float64, recallPoints)
	for r, thr := range recallThresholds {
		// The first rank reaching the recall (np.searchsorted, side left).
		i, _ := slices.BinarySearch(recall, thr)
		if i >= n {
			break
		}
		q[r] = precision[i]
	}
	return q
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
