package capture

import (
	"math"
	"strings"

	"github.com/sightline/sightline/internal/scene/track"
	"github.com/sightline/sightline/overlay"
)

// Reasons a frame is saved, as its record lists them.
const (
	// ReasonUncertain: a box's confidence is within the band around its
	// class's threshold, where the threshold decides.
	ReasonUncertain = "uncertain"
	// ReasonDisagreement: the cloud and the local model, on the same
	// frame, each found a box of a class both know that the other did not.
	ReasonDisagreement = "disagreement"
	// ReasonMarked: the user asked for the frame.
	ReasonMarked = "marked"
	// ReasonSample: picked at random, so the dataset also holds ordinary
	// frames.
	ReasonSample = "sample"
)

// uncertain reports whether a box that the filter does not hide lies
// within band of its class's threshold.
func uncertain(bs []Box, f overlay.Filter, band float64) bool {
	for _, b := range bs {
		if f.Hidden[strings.ToLower(b.Name)] {
			continue
		}
		if math.Abs(b.Confidence-f.ThresholdFor(b.Name)) <= band {
			return true
		}
	}
	return false
}

// disagree reports whether a box shown (at or over its threshold) in one
// result has no box of the same class overlapping it by iou in the other.
// A class counts only when the other model has named it at least once
// (its vocabulary): Azure's "Laptop" is no disagreement with a local model
// that has no such class.
func disagree(local, cloud []Box, localVocab, cloudVocab map[string]bool, f overlay.Filter, iou float64) bool {
	local, cloud = shown(local, f), shown(cloud, f)
	return unmatched(local, cloud, cloudVocab, iou) || unmatched(cloud, local, localVocab, iou)
}

// unmatched reports whether a box of a that the other model knows has no
// counterpart in b.
func unmatched(a, b []Box, known map[string]bool, iou float64) bool {
	for _, x := range a {
		if !known[strings.ToLower(x.Name)] {
			continue
		}
		found := false
		for _, y := range b {
			if strings.EqualFold(x.Name, y.Name) && overlap(x.BBox, y.BBox) >= iou {
				found = true
				break
			}
		}
		if !found {
			return true
		}
	}
	return false
}

// shown keeps the boxes the filter draws in full.
func shown(bs []Box, f overlay.Filter) []Box {
	var out []Box
	for _, b := range bs {
		if !f.Hidden[strings.ToLower(b.Name)] && b.Confidence >= f.ThresholdFor(b.Name) {
			out = append(out, b)
		}
	}
	return out
}

// overlap is the intersection over union of boxes [x, y, w, h].
func overlap(a, b [4]float64) float64 { return track.IoU(corners(a), corners(b)) }

func corners(b [4]float64) track.Box {
	return track.Box{X1: b[0], Y1: b[1], X2: b[0] + b[2], Y2: b[1] + b[3]}
}
