// Package eval scores a detector against a labelled dataset: COCO average
// precision exactly as pycocotools defines it (101-point interpolated
// precision, IoU 0.50:0.05:0.95, greedy matching by score, one match a
// ground-truth box, crowd boxes ignored, area "all", 100 detections an
// image and class, classes averaged over those with ground truth), and
// for each class the confidence threshold that maximises F1, with the
// precision/recall/F1 curve against threshold that tuning needs.
package eval

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/sightline/sightline/internal/dataset"
)

// DefaultIoU is the overlap at which thresholds are tuned.
const DefaultIoU = 0.5

// Detection is one box a detector found in a dataset image.
type Detection struct {
	ImageID    int64
	CategoryID int64
	Score      float64
	BBox       [4]float64 // [x, y, w, h] in pixels
}

// Options configure Evaluate. The zero value is COCO's evaluation with
// thresholds tuned at IoU 0.5 over every image.
type Options struct {
	// IoU is the overlap a detection needs to count as found when choosing
	// thresholds and drawing curves (DefaultIoU when 0). AP is always
	// COCO's, over 0.50:0.05:0.95.
	IoU float64
	// Images restricts the evaluation to these image ids (all when nil),
	// e.g. to leave out images the detector could not read.
	Images []int64
}

// Result is the `eval` command's line, with each class's curve for plots.
type Result struct {
	Images  int                    `json:"images"`
	MAP50   float64                `json:"map50"`
	MAP5095 float64                `json:"map50_95"`
	Classes map[string]ClassResult `json:"classes"`

	iou        float64
	categories []categoryEval
}

// ClassResult is one class's figures. BestThreshold is the confidence
// whose detections (those scoring at least it) give the highest F1 at the
// tuning IoU; Precision, Recall and F1 are there. With no true positive at
// any threshold, BestThreshold is 1 and the rest 0.
type ClassResult struct {
	AP50          float64 `json:"ap50"`
	AP5095        float64 `json:"ap50_95"`
	GroundTruth   int     `json:"ground_truth"`
	BestThreshold float64 `json:"best_threshold"`
	Precision     float64 `json:"precision"`
	Recall        float64 `json:"recall"`
	F1            float64 `json:"f1"`
	Curve         Curve   `json:"-"`
}

// Curve is a class's precision, recall and F1 at the tuning IoU against
// the confidence threshold: point i keeps the detections scoring at least
// Threshold[i], from the highest score down to the lowest.
type Curve struct {
	Threshold []float64 `json:"threshold"`
	Precision []float64 `json:"precision"`
	Recall    []float64 `json:"recall"`
	F1        []float64 `json:"f1"`
}

// categoryEval keeps what a class's figures were computed from, for Mistakes.
type categoryEval struct {
	category dataset.Category
	images   []*imageEval
	order    []ranked
	tuning   int // index of the tuning IoU among the thresholds
}

// Evaluate scores dets against gt. Detections of categories gt does not
// have, or of images outside opts.Images, are left out, as pycocotools
// leaves them out.
func Evaluate(gt *dataset.Dataset, dets []Detection, opts Options) (*Result, error) {
	iou := cmp.Or(opts.IoU, DefaultIoU)
	if !(iou > 0 && iou <= 1) {
		return nil, fmt.Errorf("eval: IoU %g must be in (0, 1]", iou)
	}
	thresholds, tuning := withTuning(iou)
	imageIDs := selectImages(gt, opts.Images)
	if len(imageIDs) == 0 {
		return nil, fmt.Errorf("eval: no images to evaluate")
	}
	gts, dts := groupByImageAndCategory(gt, dets)
	r := &Result{Images: len(imageIDs), Classes: map[string]ClassResult{}, iou: iou}
	var ap50, ap5095 []float64
	cats := slices.SortedFunc(slices.Values(gt.Categories), func(a, b dataset.Category) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range cats {
		ce := categoryEval{category: c, tuning: tuning}
		groundTruth := 0
		for _, id := range imageIDs {
			k := key{id, c.ID}
			if len(gts[k]) == 0 && len(dts[k]) == 0 {
				continue
			}
			e := evaluateImage(id, gts[k], dts[k], thresholds)
			ce.images = append(ce.images, e)
			groundTruth += e.nonCrowd
		}
		if groundTruth == 0 {
			continue // AP is undefined without ground truth: not averaged
		}
		ce.order = rank(ce.images)
		cr := ce.figures(groundTruth)
		r.Classes[c.Name] = cr
		r.categories = append(r.categories, ce)
		ap50 = append(ap50, cr.AP50)
		ap5095 = append(ap5095, cr.AP5095)
	}
	if len(r.Classes) == 0 {
		return nil, fmt.Errorf("eval: the dataset has no boxes in the images evaluated, so there is nothing to score against")
	}
	r.MAP50, r.MAP5095 = mean(ap50), mean(ap5095)
	return r, nil
}

// withTuning returns COCO's thresholds and the index of iou among them,
// adding it when it is not one of them.
func withTuning(iou float64) ([]float64, int) {
	for i, t := range cocoIoUs {
		if math.Abs(t-iou) < 1e-9 {
			return cocoIoUs, i
		}
	}
	return append(slices.Clone(cocoIoUs), iou), len(cocoIoUs)
}

// figures computes a class's AP and its best threshold.
func (ce *categoryEval) figures(groundTruth int) ClassResult {
	cr := ClassResult{GroundTruth: groundTruth}
	var all []float64
	for t := range cocoIoUs {
		q := interpolatedPrecision(ce.images, ce.order, t, groundTruth)
		if t == 0 {
			cr.AP50 = mean(q)
		}
		all = append(all, q...)
	}
	cr.AP5095 = mean(all)
	cr.Curve = ce.curve(groundTruth)
	cr.BestThreshold = 1
	for i, f1 := range cr.Curve.F1 {
		if f1 > cr.F1 { // ties keep the higher threshold, found first
			cr.BestThreshold, cr.Precision, cr.Recall, cr.F1 = cr.Curve.Threshold[i], cr.Curve.Precision[i], cr.Curve.Recall[i], f1
		}
	}
	return cr
}

// curve is precision, recall and F1 at each distinct score, highest first.
// Matching is greedy by score, so the detections above a threshold match
// exactly as they do among all detections: one pass over the ranking gives
// every threshold's counts.
func (ce *categoryEval) curve(groundTruth int) Curve {
	tp, fp := cumulative(ce.images, ce.order, ce.tuning)
	var c Curve
	for i, r := range ce.order {
		if i+1 < len(ce.order) && ce.order[i+1].score == r.score {
			continue // a threshold keeps all detections of equal score
		}
		p, rec := 0.0, tp[i]/float64(groundTruth)
		if tp[i]+fp[i] > 0 {
			p = tp[i] / (tp[i] + fp[i])
		}
		f1 := 0.0
		if p+rec > 0 {
			f1 = 2 * p * rec / (p + rec)
		}
		c.Threshold = append(c.Threshold, r.score)
		c.Precision = append(c.Precision, p)
		c.Recall = append(c.Recall, rec)
		c.F1 = append(c.F1, f1)
	}
	return c
}

type key struct{ image, category int64 }

func groupByImageAndCategory(gt *dataset.Dataset, dets []Detection) (gts map[key][]dataset.Annotation, dts map[key][]Detection) {
	gts = map[key][]dataset.Annotation{}
	for _, a := range gt.Annotations {
		k := key{a.ImageID, a.CategoryID}
		gts[k] = append(gts[k], a)
	}
	dts = map[key][]Detection{}
	for _, d := range dets {
		k := key{d.ImageID, d.CategoryID}
		dts[k] = append(dts[k], d)
	}
	return gts, dts
}

// selectImages returns the ids of gt's images, restricted to only when it
// is not nil, in increasing order as pycocotools takes them.
func selectImages(gt *dataset.Dataset, only []int64) []int64 {
	keep := make(map[int64]bool, len(only))
	for _, id := range only {
		keep[id] = true
	}
	var ids []int64
	for _, im := range gt.Images {
		if only == nil || keep[im.ID] {
			ids = append(ids, im.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Mistakes are what a class gets wrong at a confidence threshold.
type Mistakes struct {
	FalsePositives []Detection          // kept detections that match no box
	Misses         []dataset.Annotation // boxes no kept detection matches
}

// Mistakes lists class's false positives and misses at threshold, at the
// tuning IoU, so that each can be opened on its image. Crowd boxes are
// never misses, and detections on them never false positives.
func (r *Result) Mistakes(class string, threshold float64) Mistakes {
	var m Mistakes
	for _, ce := range r.categories {
		if ce.category.Name != class {
			continue
		}
		t := ce.tuning
		for _, e := range ce.images {
			for d, det := range e.dets {
				if det.Score >= threshold && e.matchOf[t][d] < 0 {
					m.FalsePositives = append(m.FalsePositives, det)
				}
			}
			for g, gt := range e.gts {
				d := e.gtMatch[t][g]
				if !e.crowd[g] && (d < 0 || e.dets[d].Score < threshold) {
					m.Misses = append(m.Misses, gt)
				}
			}
		}
	}
	return m
}

// Curves is the --curves file: each class's curve at the tuning IoU.
type Curves struct {
	IoU     float64          `json:"iou"`
	Classes map[string]Curve `json:"classes"`
}

// Curves returns every class's curve, for plots.
func (r *Result) Curves() Curves {
	c := Curves{IoU: r.iou, Classes: make(map[string]Curve, len(r.Classes))}
	for name, cr := range r.Classes {
		c.Classes[name] = cr.Curve
	}
	return c
}

// IoU is the overlap the thresholds and curves were tuned at.
func (r *Result) IoU() float64 { return r.iou }
