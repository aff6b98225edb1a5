package azure

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"

	"github.com/sightline/sightline/analyzer"
)

// Wire types of Image Analysis 4.0 (ImageAnalysisResult in the 2023-10-01
// spec). Results are pointers so that "absent" and "empty" differ.
type wireAnalysis struct {
	ModelVersion        string                        `json:"modelVersion"`
	Metadata            *wireMetadata                 `json:"metadata"`
	CaptionResult       *wireCaption                  `json:"captionResult"`
	DenseCaptionsResult *wireValues[wireDenseCaption] `json:"denseCaptionsResult"`
	TagsResult          *wireValues[wireTag]          `json:"tagsResult"`
	ObjectsResult       *wireValues[wireObject]       `json:"objectsResult"`
	PeopleResult        *wireValues[wirePerson]       `json:"peopleResult"`
	SmartCropsResult    *wireValues[wireCrop]         `json:"smartCropsResult"`
	ReadResult          *wireRead                     `json:"readResult"`
}

type wireValues[T any] struct {
	Values []T `json:"values"`
}

type wireMetadata struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

type wireCaption struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

type wireBox struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

type wireDenseCaption struct {
	Text        string  `json:"text"`
	Confidence  float64 `json:"confidence"`
	BoundingBox wireBox `json:"boundingBox"`
}

type wireTag struct {
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
}

type wireObject struct {
	BoundingBox wireBox   `json:"boundingBox"`
	Tags        []wireTag `json:"tags"`
}

type wirePerson struct {
	BoundingBox wireBox `json:"boundingBox"`
	Confidence  float64 `json:"confidence"`
}

type wireCrop struct {
	AspectRatio float64 `json:"aspectRatio"`
	BoundingBox wireBox `json:"boundingBox"`
}

type wireRead struct {
	Blocks []struct {
		Lines []struct {
			Text            string           `json:"text"`
			BoundingPolygon []analyzer.Point `json:"boundingPolygon"`
			Words           []struct {
				Text            string           `json:"text"`
				BoundingPolygon []analyzer.Point `json:"boundingPolygon"`
				Confidence      float64          `json:"confidence"`
			} `json:"words"`
		} `json:"lines"`
	} `json:"blocks"`
}

func (b wireBox) box() analyzer.BoundingBox {
	return analyzer.BoundingBox{X: b.X, Y: b.Y, W: b.W, H: b.H}
}

// DecodeAnalysis converts an Image Analysis 4.0 response body into the
// result model, keeping every result the body carries. Coordinates stay in
// the pixels of the image the service saw. It fails on anything that is not
// an analysis result (invalid JSON, wrong types, no metadata).
func DecodeAnalysis(body []byte) (*analyzer.Analysis, error) {
	var w wireAnalysis
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decoding analysis result: %w", describeJSONError(err))
	}
	if w.Metadata == nil {
		return nil, errors.New("decoding analysis result: unexpected response shape: no metadata")
	}
	a := &analyzer.Analysis{
		Metadata:     analyzer.Metadata{Width: w.Metadata.Width, Height: w.Metadata.Height},
		ModelVersion: w.ModelVersion,
	}
	if c := w.CaptionResult; c != nil {
		a.Caption = &analyzer.Caption{Text: c.Text, Confidence: c.Confidence}
	}
	if r := w.DenseCaptionsResult; r != nil {
		a.DenseCaptions = make([]analyzer.DenseCaption, 0, len(r.Values))
		for _, v := range r.Values {
			a.DenseCaptions = append(a.DenseCaptions, analyzer.DenseCaption{
				Text: v.Text, Confidence: v.Confidence, BoundingBox: v.BoundingBox.box()})
		}
	}
	if r := w.TagsResult; r != nil {
		a.Tags = make([]analyzer.Tag, 0, len(r.Values))
		for _, v := range r.Values {
			a.Tags = append(a.Tags, analyzer.Tag{Name: v.Name, Confidence: v.Confidence})
		}
	}
	if r := w.ObjectsResult; r != nil {
		a.Objects = make([]analyzer.Object, 0, len(r.Values))
		for _, v := range r.Values {
			o := analyzer.Object{BoundingBox: v.BoundingBox.box()}
			if len(v.Tags) > 0 { // the service lists the most likely tag first
				o.Name, o.Confidence = v.Tags[0].Name, v.Tags[0].Confidence
			}
			a.Objects = append(a.Objects, o)
		}
	}
	if r := w.PeopleResult; r != nil {
		a.People = make([]analyzer.Person, 0, len(r.Values))
		for _, v := range r.Values {
			a.People = append(a.People, analyzer.Person{Confidence: v.Confidence, BoundingBox: v.BoundingBox.box()})
		}
	}
	if r := w.SmartCropsResult; r != nil {
		a.SmartCrops = make([]analyzer.SmartCrop, 0, len(r.Values))
		for _, v := range r.Values {
			a.SmartCrops = append(a.SmartCrops, analyzer.SmartCrop{AspectRatio: v.AspectRatio, BoundingBox: v.BoundingBox.box()})
		}
	}
	if r := w.ReadResult; r != nil {
		a.ReadResult = &analyzer.ReadResult{Blocks: make([]analyzer.Block, 0, len(r.Blocks))}
		for _, b := range r.Blocks {
			block := analyzer.Block{Lines: make([]analyzer.Line, 0, len(b.Lines))}
			for _, l := range b.Lines {
				line := analyzer.Line{Text: l.Text, BoundingPolygon: nonNil(l.BoundingPolygon),
					Words: make([]analyzer.Word, 0, len(l.Words))}
				for _, wd := range l.Words {
					line.Words = append(line.Words, analyzer.Word{Text: wd.Text, Confidence: wd.Confidence,
						BoundingPolygon: nonNil(wd.BoundingPolygon)})
				}
				block.Lines = append(block.Lines, line)
			}
			a.ReadResult.Blocks = append(a.ReadResult.Blocks, block)
		}
	}
	return a, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// finishAnalysis makes the decoded result match what was asked: requested
// features that came back absent are empty (not nil), coordinates are mapped
// to the caller's image, and the threshold, if any, is applied.
func finishAnalysis(a *analyzer.Analysis, features analyzer.Features, opts analyzer.Options, up *upload) {
	for _, f := range features {
		switch f {
		case analyzer.FeatureDenseCaptions:
			a.DenseCaptions = nonNil(a.DenseCaptions)
		case analyzer.FeatureTags:
			a.Tags = nonNil(a.Tags)
		case analyzer.FeatureObjects:
			a.Objects = nonNil(a.Objects)
		case analyzer.FeaturePeople:
			a.People = nonNil(a.People)
		case analyzer.FeatureSmartCrops:
			a.SmartCrops = nonNil(a.SmartCrops)
		case analyzer.FeatureRead:
			if a.ReadResult == nil {
				a.ReadResult = &analyzer.ReadResult{Blocks: []analyzer.Block{}}
			}
		}
	}
	if up != nil && up.scaled() {
		mapCoordinates(a, newScaler(*up))
	}
	// The cloud's answers pass through unfiltered unless a threshold is given.
	if t := opts.Threshold; t > 0 {
		a.Tags = filter(a.Tags, func(v analyzer.Tag) bool { return v.Confidence >= t })
		a.Objects = filter(a.Objects, func(v analyzer.Object) bool { return v.Confidence >= t })
		a.People = filter(a.People, func(v analyzer.Person) bool { return v.Confidence >= t })
	}
}

// filter keeps the elements for which keep is true; nil stays nil.
func filter[T any](s []T, keep func(T) bool) []T {
	if s == nil {
		return nil
	}
	out := s[:0:0]
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// mapCoordinates rewrites every coordinate of a into the original image's pixels.
func mapCoordinates(a *analyzer.Analysis, s scaler) {
	for i := range a.DenseCaptions {
		a.DenseCaptions[i].BoundingBox = s.box(a.DenseCaptions[i].BoundingBox)
	}
	for i := range a.Objects {
		a.Objects[i].BoundingBox = s.box(a.Objects[i].BoundingBox)
	}
	for i := range a.People {
		a.People[i].BoundingBox = s.box(a.People[i].BoundingBox)
	}
	for i := range a.SmartCrops {
		a.SmartCrops[i].BoundingBox = s.box(a.SmartCrops[i].BoundingBox)
	}
	if a.ReadResult != nil {
		for _, b := range a.ReadResult.Blocks {
			for _, l := range b.Lines {
				mapPolygon(l.BoundingPolygon, s)
				for _, w := range l.Words {
					mapPolygon(w.BoundingPolygon, s)
				}
			}
		}
	}
	a.Metadata = analyzer.Metadata{Width: s.origW, Height: s.origH}
}

func mapPolygon(p []analyzer.Point, s scaler) {
	for i := range p {
		p[i] = s.point(p[i])
	}
}

// wirePredictions is Custom Vision's ImagePrediction.
type wirePredictions struct {
	ID          string `json:"id"`
	Project     string `json:"project"`
	Iteration   string `json:"iteration"`
	Predictions *[]struct {
		Probability float64               `json:"probability"`
		TagID       string                `json:"tagId"`
		TagName     string                `json:"tagName"`
		BoundingBox *analyzer.RelativeBox `json:"boundingBox"`
	} `json:"predictions"`
}

// DecodePrediction converts a Custom Vision ImagePrediction body into
// predictions sorted by probability, highest first.
func DecodePrediction(body []byte) ([]analyzer.Prediction, error) {
	var w wirePredictions
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decoding prediction result: %w", describeJSONError(err))
	}
	if w.Predictions == nil {
		return nil, errors.New("decoding prediction result: unexpected response shape: no predictions")
	}
	out := make([]analyzer.Prediction, 0, len(*w.Predictions))
	for _, p := range *w.Predictions {
		out = append(out, analyzer.Prediction{Tag: p.TagName, Probability: p.Probability, BoundingBox: p.BoundingBox})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Probability > out[j].Probability })
	return out, nil
}

// describeJSONError turns encoding/json's errors into the words a user
// reading a one-line error needs.
func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Errorf("unexpected response shape: the body is a JSON %s, want an object", typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("unexpected response shape: %s is a JSON %s, want %s", typeErr.Field, typeErr.Value, jsonKind(typeErr.Type))
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at byte %d: %w", syntaxErr.Offset, err)
	}
	return err
}

// jsonKind names what a Go type decodes from, in JSON's words: users read
// these errors, not Go's type syntax.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}
