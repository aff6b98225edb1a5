package capture

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/overlay"
)

// Files a capture writes: the frame as a JPEG and, beside it, its record.
const (
	ImageExt   = ".jpg"
	SidecarExt = ".capture.json"
)

// Record is what is saved beside a captured frame: why it was saved, the
// thresholds in use, and the boxes the models found on it, so that Review
// starts from them.
type Record struct {
	Image      string    `json:"image"` // the JPEG's file name, in the same folder
	Frame      int64     `json:"frame"`
	PTSMS      float64   `json:"pts_ms"`
	CapturedAt time.Time `json:"captured_at"`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	Reasons    []string  `json:"reasons"`
	// Threshold and PerClass are the live view's confidence thresholds
	// then; Band is the uncertainty band around them.
	Threshold float64            `json:"threshold"`
	PerClass  map[string]float64 `json:"per_class,omitempty"`
	Band      float64            `json:"band"`
	// Model is the model_version of the predictions.
	Model string `json:"model,omitempty"`
	// Predictions are the boxes of the frame's own analysis (local when
	// there is one); Cloud the cloud's on the same frame, when it had one.
	Predictions []Box `json:"predictions"`
	Cloud       []Box `json:"cloud,omitempty"`
}

// Box is a detection: [x, y, w, h] in pixels, as in COCO.
type Box struct {
	Name       string     `json:"name"`
	Confidence float64    `json:"confidence"`
	BBox       [4]float64 `json:"bbox"`
}

// Proposed are the predictions Review starts from: those at or above the
// lower edge of the band around their class's threshold, so that the
// doubtful boxes are there to accept or delete.
func (r *Record) Proposed() []Box {
	f := overlay.Filter{Threshold: r.Threshold, PerClass: r.PerClass}
	var out []Box
	for _, b := range r.Predictions {
		if b.Confidence >= f.ThresholdFor(b.Name)-r.Band {
			out = append(out, b)
		}
	}
	return out
}

// ReadRecord reads a capture's record.
func ReadRecord(path string) (*Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("capture: %s: %w", path, err)
	}
	if r.Image == "" || r.Width <= 0 || r.Height <= 0 {
		return nil, fmt.Errorf("capture: %s: not a capture record (no image or size)", path)
	}
	return &r, nil
}

// SidecarOf is the record's path for an image's path.
func SidecarOf(imagePath string) string {
	return strings.TrimSuffix(imagePath, filepath.Ext(imagePath)) + SidecarExt
}

// boxes lists an analysis's objects and people as boxes; people come from
// the people list when there is one, so that none is listed twice.
func boxes(a *analyzer.Analysis) []Box {
	if a == nil {
		return nil
	}
	out := []Box{}
	for _, o := range a.Objects {
		if a.People != nil && strings.EqualFold(o.Name, "person") {
			continue
		}
		out = append(out, box(o.Name, o.Confidence, o.BoundingBox))
	}
	for _, p := range a.People {
		out = append(out, box("person", p.Confidence, p.BoundingBox))
	}
	return out
}

func box(name string, conf float64, b analyzer.BoundingBox) Box {
	return Box{Name: name, Confidence: conf, BBox: [4]float64{float64(b.X), float64(b.Y), float64(b.W), float64(b.H)}}
}
