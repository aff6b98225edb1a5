// Package analyzer defines what Sightline asks of an image analysis backend
// and the result model every backend fills, so that callers (the commands,
// the scheduler, the overlay) never care whether Azure or a local model answered.
package analyzer

import (
	"context"
	"image"
	"strings"
	"time"

	"gocv.io/x/gocv"
)

// Feature names are the Azure Image Analysis 4.0 names, which users already
// script against.
type Feature string

const (
	FeatureCaption       Feature = "caption"
	FeatureDenseCaptions Feature = "denseCaptions"
	FeatureTags          Feature = "tags"
	FeatureObjects       Feature = "objects"
	FeaturePeople        Feature = "people"
	FeatureSmartCrops    Feature = "smartCrops"
	FeatureRead          Feature = "read"
	// FeatureFaces is Sightline's own: local face detection for privacy blur
	// and the faces overlay.
	FeatureFaces Feature = "faces"
)

// AllFeatures lists the seven Image Analysis features in the service's order.
var AllFeatures = []Feature{FeatureCaption, FeatureDenseCaptions, FeatureTags,
	FeatureObjects, FeaturePeople, FeatureSmartCrops, FeatureRead}

// Features is a set of requested features.
type Features []Feature

// Has reports whether f was requested.
func (fs Features) Has(f Feature) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// String joins the features with commas, as on the command line and in the
// service's query string.
func (fs Features) String() string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

// BoundingBox is an axis-aligned box in source-image pixels.
type BoundingBox struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Point is a polygon vertex in source-image pixels.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

type Caption struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

type DenseCaption struct {
	Text        string      `json:"text"`
	Confidence  float64     `json:"confidence"`
	BoundingBox BoundingBox `json:"bounding_box"`
}

type Tag struct {
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
}

// Object is a detected object; Name and Confidence are its first tag's.
type Object struct {
	Name        string      `json:"name"`
	Confidence  float64     `json:"confidence"`
	BoundingBox BoundingBox `json:"bounding_box"`
	// TrackID is the object's confirmed track when tracking is on.
	TrackID int `json:"track_id,omitempty"`
}

type Person struct {
	Confidence  float64     `json:"confidence"`
	BoundingBox BoundingBox `json:"bounding_box"`
	TrackID     int         `json:"track_id,omitempty"`
}

// Face is a detected face (local BlazeFace only).
type Face struct {
	Confidence  float64     `json:"confidence"`
	BoundingBox BoundingBox `json:"bounding_box"`
}

type SmartCrop struct {
	AspectRatio float64     `json:"aspect_ratio"`
	BoundingBox BoundingBox `json:"bounding_box"`
}

type Word struct {
	Text            string  `json:"text"`
	Confidence      float64 `json:"confidence"`
	BoundingPolygon []Point `json:"bounding_polygon"`
}

type Line struct {
	Text            string  `json:"text"`
	BoundingPolygon []Point `json:"bounding_polygon"`
	Words           []Word  `json:"words"`
}

type Block struct {
	Lines []Line `json:"lines"`
}

type ReadResult struct {
	Blocks []Block `json:"blocks"`
}

type Metadata struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Analysis is the result model of ../shared/docs/interfaces.md. A feature
// that was not requested is nil and absent from the JSON; one that was
// requested but found nothing is an empty, non-nil slice and prints as [].
type Analysis struct {
	Caption       *Caption       `json:"caption,omitempty"`
	DenseCaptions []DenseCaption `json:"dense_captions,omitzero"`
	Tags          []Tag          `json:"tags,omitzero"`
	Objects       []Object       `json:"objects,omitzero"`
	People        []Person       `json:"people,omitzero"`
	Faces         []Face         `json:"faces,omitzero"`
	SmartCrops    []SmartCrop    `json:"smart_crops,omitzero"`
	ReadResult    *ReadResult    `json:"read_results,omitempty"`
	Metadata      Metadata       `json:"metadata"`
	ModelVersion  string         `json:"model_version"`
}

// Options are the per-request settings of ../shared/docs/interfaces.md.
// Zero values mean "the service's default" and are not sent.
type Options struct {
	Language             string
	GenderNeutralCaption bool
	SmartCropsRatios     []float64
	ModelVersion         string
	// Threshold is the minimum confidence of objects, people and tags kept
	// in the result. Zero means the backend's default: 0.25 for local
	// models, unfiltered for the cloud.
	Threshold float64
}

// Request says what to analyse.
type Request struct {
	Features Features
	Options  Options
}

// Image is one image to analyse in whichever forms the caller has. Mat, when
// not empty, is BGR pixels owned by the caller; Bytes is an encoded image
// file; URL is a remote image that cloud backends pass on as a URL.
type Image struct {
	Mat gocv.Mat
	// Full, when set, is the size of the picture Mat was scaled down from
	// (a frame decoded at a model's size): results are in its pixels. Only
	// analyzers that say they work on such frames get them
	// (local.Backend.FrameSize).
	Full  image.Point
	Bytes []byte
	URL   string
}

// Analyzer is an image analysis backend.
type Analyzer interface {
	// Analyze runs the requested features on img. Implementations must be
	// safe for one call at a time; the scheduler never overlaps calls to
	// the same analyzer.
	Analyze(ctx context.Context, img Image, req Request) (*Analysis, error)
	// Supports reports whether the backend can compute f.
	Supports(f Feature) bool
	// Name is "local" or "azure", as in the `source` field of results.
	Name() string
}

// Result is a finished analysis with the frame it came from.
type Result struct {
	*Analysis
	Frame    int64         // sequence number of the analysed frame
	PTS      time.Duration // its presentation time
	Source   string        // "local", "azure" or "cache"
	Started  time.Time     // when the analysis began (wall clock)
	Latency  time.Duration
	Finished time.Time
	Err      error
	// Epoch is the frame's Epoch (see schedule.Frame): which opening of
	// which source it came from.
	Epoch int64
}

// HasMat reports whether img carries decoded pixels. A zero gocv.Mat has no
// C object behind it, and calling Empty on it would crash.
func (img Image) HasMat() bool { return img.Mat.Ptr() != nil && !img.Mat.Empty() }

// fillFrom sets every feature of a that is still nil from b: merging the
// newest result first keeps the newest value of each feature.
func (a *Analysis) fillFrom(b *Analysis) {
	if a.Caption == nil {
		a.Caption = b.Caption
	}
	if a.DenseCaptions == nil {
		a.DenseCaptions = b.DenseCaptions
	}
	if a.Tags == nil {
		a.Tags = b.Tags
	}
	if a.Objects == nil {
		a.Objects = b.Objects
	}
	if a.People == nil {
		a.People = b.People
	}
	if a.Faces == nil {
		a.Faces = b.Faces
	}
	if a.SmartCrops == nil {
		a.SmartCrops = b.SmartCrops
	}
	if a.ReadResult == nil {
		a.ReadResult = b.ReadResult
	}
}
