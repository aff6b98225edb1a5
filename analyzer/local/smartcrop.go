package local

import (
	"math"

	"github.com/sightline/sightline/analyzer"
)

// Smart crops, computed from what the local models found.
//
// For each requested aspect ratio r (width/height) the crop is the largest
// r-shaped rectangle inside the image: full height when the image is wider
// than r, full width otherwise, so it can only slide along one axis. Its
// position is the one that keeps the most importance, where each detected
// region contributes its weight times the fraction of its area inside the
// crop. Weights put faces first, then people, then other objects, each
// scaled by the detector's confidence:
//
//	face 4 × confidence, person 2 × confidence, other object 1 × confidence
//
// (objects named "person" are skipped as they are already among the
// people). Cropping half a face therefore costs more than dropping a whole
// chair. Ties, including an image with nothing detected, go to the position
// whose centre is nearest the weighted centre of the kept regions, then
// the image centre.
//
// With no ratios requested, one crop is returned, as Azure does, at the
// ratio of the important content's bounding box clamped to Azure's range
// [0.75, 1.8], or 1 when nothing was found.
const (
	smartCropFaceWeight   = 4
	smartCropPersonWeight = 2
	smartCropObjectWeight = 1
	smartCropMinRatio     = 0.75
	smartCropMaxRatio     = 1.8
)

// region is an important area of the image and its weight.
type region struct {
	x0, y0, x1, y1 float64
	w              float64
}

// SmartCrops returns one crop per aspect ratio for a w×h image, in the
// requested order, using the faces, people and objects of a (which may be nil).
func SmartCrops(w, h int, ratios []float64, a *analyzer.Analysis) []analyzer.SmartCrop {
	crops := []analyzer.SmartCrop{}
	if w <= 0 || h <= 0 {
		return crops
	}
	regs := importantRegions(w, h, a)
	if len(ratios) == 0 {
		ratios = []float64{defaultCropRatio(regs)}
	}
	for _, r := range ratios {
		if !(r > 0) || math.IsInf(r, 0) {
			continue
		}
		crops = append(crops, analyzer.SmartCrop{AspectRatio: r, BoundingBox: bestCrop(w, h, r, regs)})
	}
	return crops
}

func importantRegions(w, h int, a *analyzer.Analysis) []region {
	if a == nil {
		return nil
	}
	var regs []region
	add := func(b analyzer.BoundingBox, weight float64) {
		x0, y0 := clampF(float64(b.X), 0, float64(w)), clampF(float64(b.Y), 0, float64(h))
		x1, y1 := clampF(float64(b.X+b.W), 0, float64(w)), clampF(float64(b.Y+b.H), 0, float64(h))
		if x1 > x0 && y1 > y0 && weight > 0 {
			regs = append(regs, region{x0, y0, x1, y1, weight})
		}
	}
	for _, f := range a.Faces {
		add(f.BoundingBox, smartCropFaceWeight*f.Confidence)
	}
	for _, p := range a.People {
		add(p.BoundingBox, smartCropPersonWeight*p.Confidence)
	}
	for _, o := range a.Objects {
		if o.Name != personClass {
			add(o.BoundingBox, smartCropObjectWeight*o.Confidence)
		}
	}
	return regs
}

// defaultCropRatio is the aspect ratio of the regions' bounding box within
// Azure's range, or 1 with no regions.
func defaultCropRatio(regs []region) float64 {
	if len(regs) == 0 {
		return 1
	}
	x0, y0, x1, y1 := regs[0].x0, regs[0].y0, regs[0].x1, regs[0].y1
	for _, r := range regs[1:] {
		x0, y0, x1, y1 = math.Min(x0, r.x0), math.Min(y0, r.y0), math.Max(x1, r.x1), math.Max(y1, r.y1)
	}
	ratio := clampF((x1-x0)/(y1-y0), smartCropMinRatio, smartCropMaxRatio)
	return math.Round(ratio*100) / 100
}

// bestCrop places the largest crop of ratio r where it keeps the most
// importance. The kept importance is piecewise linear in the offset, so its
// maximum lies where a crop edge meets a region edge or at an end; those
// offsets are the only candidates.
func bestCrop(w, h int, r float64, regs []region) analyzer.BoundingBox {
	cw, ch := float64(w), float64(h)
	if cw/ch > r {
		cw = math.Max(1, math.Round(ch*r))
	} else {
		ch = math.Max(1, math.Round(cw/r))
	}
	horizontal := cw < float64(w) // the crop slides along x
	size, span := ch, float64(h)
	if horizontal {
		size, span = cw, float64(w)
	}
	maxOff := span - size
	lo := func(g region) float64 {
		if horizontal {
			return g.x0
		}
		return g.y0
	}
	hi := func(g region) float64 {
		if horizontal {
			return g.x1
		}
		return g.y1
	}
	cands := []float64{0, maxOff, math.Floor(maxOff / 2)}
	// Also the crop centred on all regions' weighted centre, the natural
	// choice when several positions keep everything.
	var wsum, csum float64
	for _, g := range regs {
		wsum += g.w
		csum += g.w * (lo(g) + hi(g)) / 2
	}
	if wsum > 0 {
		cands = append(cands, math.Round(clampF(csum/wsum-size/2, 0, maxOff)))
	}
	for _, g := range regs {
		for _, c := range []float64{lo(g), hi(g) - size, hi(g), lo(g) - size} {
			cands = append(cands, math.Round(clampF(c, 0, maxOff)))
		}
	}
	kept := func(off float64) (score, centre float64) {
		var wsum, csum float64
		for _, g := range regs {
			in := (math.Min(hi(g), off+size) - math.Max(lo(g), off)) / (hi(g) - lo(g))
			if in <= 0 {
				continue
			}
			score += g.w * in
			wsum += g.w * in
			csum += g.w * in * (math.Max(lo(g), off) + math.Min(hi(g), off+size)) / 2
		}
		if wsum == 0 {
			return 0, span / 2
		}
		return score, csum / wsum
	}
	best, bestScore, bestDist := 0.0, -1.0, math.Inf(1)
	for _, off := range cands {
		s, c := kept(off)
		d := math.Abs(off + size/2 - c)
		if s > bestScore+1e-9 || math.Abs(s-bestScore) <= 1e-9 && d < bestDist {
			best, bestScore, bestDist = off, s, d
		}
	}
	b := analyzer.BoundingBox{W: int(cw), H: int(ch)}
	if horizontal {
		b.X = int(best)
	} else {
		b.Y = int(best)
	}
	return b
}
