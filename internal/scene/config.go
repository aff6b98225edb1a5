package scene

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Config is a scene file (the contract's "Scenes" and "Inspection points"):
// what to follow, where to count, and when to raise an alert.
type Config struct {
	Tracking    Tracking     `json:"tracking"`
	Lines       []Line       `json:"lines,omitempty"`
	Zones       []Zone       `json:"zones,omitempty"`
	Rules       []Rule       `json:"rules,omitempty"`
	Inspections []Inspection `json:"inspections,omitempty"`
}

// Tracking says which classes are followed and for how long an unseen
// object is waited for.
type Tracking struct {
	Classes    []string `json:"classes,omitempty"`      // absent: every class
	LostAfterS float64  `json:"lost_after_s,omitempty"` // absent: 1 s
}

// Point is a position in fractions of the frame's width and height (x
// right, y down); in JSON, [x, y].
type Point struct{ X, Y float64 }

// Line is a counting line from Points[0] (A) to Points[1] (B).
type Line struct {
	Name    string   `json:"name"`
	Points  []Point  `json:"points"`
	Classes []string `json:"classes,omitempty"`
	Anchor  string   `json:"anchor,omitempty"`
}

// Zone is a polygon whose occupancy, entries and dwell are followed.
type Zone struct {
	Name    string   `json:"name"`
	Polygon []Point  `json:"polygon"`
	Classes []string `json:"classes,omitempty"`
	Anchor  string   `json:"anchor,omitempty"`
}

// Rule raises an alert when its condition holds, at most once every
// CooldownS. Which fields it takes depends on When (see the When* kinds).
type Rule struct {
	Name      string  `json:"name"`
	When      string  `json:"when"`
	Zone      string  `json:"zone,omitempty"`
	Line      string  `json:"line,omitempty"`
	Point     string  `json:"point,omitempty"`
	Count     int     `json:"count,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`
	Percent   float64 `json:"percent,omitempty"`
	CooldownS float64 `json:"cooldown_s,omitempty"` // absent: 30 s
}

// Rule kinds.
const (
	WhenOccupancyAbove = "occupancy_above" // zone, count: more than count inside
	WhenEmptyFor       = "empty_for"       // zone, seconds: nobody inside for seconds
	WhenDwellAbove     = "dwell_above"     // zone, seconds: someone inside for longer
	WhenCrossingsBelow = "crossings_below" // line, count, seconds: fewer crossings in the last seconds
	WhenInspectionFail = "inspection_fail" // point, count (default 1): fails in a row
	WhenYieldBelow     = "yield_below"     // point, percent, seconds: pass rate over the last seconds
)

// Inspection is an inspection point: a region checked by a classifier.
// Scenes parse and validate them; evaluating them is the pipeline's.
type Inspection struct {
	Name      string          `json:"name"`
	Rect      []float64       `json:"rect,omitempty"` // [x, y, w, h]
	Polygon   []Point         `json:"polygon,omitempty"`
	Model     InspectionModel `json:"model"`
	Pass      []string        `json:"pass"`
	Threshold float64         `json:"threshold,omitempty"` // absent: 0.7
	Mode      string          `json:"mode,omitempty"`      // continuous (default) or per_track
}

// InspectionModel is a local Custom Vision export folder (Dir), or a cloud
// project; in JSON, "folder" or {"project": UUID, "published_name": NAME}.
type InspectionModel struct {
	Dir           string
	Project       string
	PublishedName string
}

// Anchors: the point of a box that crosses lines and is inside zones.
const (
	AnchorBottomCenter = "bottom_center"
	AnchorCenter       = "center"
)

// Inspection modes.
const (
	ModeContinuous = "continuous"
	ModePerTrack   = "per_track"
)

// Defaults for absent fields.
const (
	DefaultLostAfterS = 1.0
	DefaultCooldownS  = 30.0
	DefaultThreshold  = 0.7
)

// MaxPolygonPoints bounds a zone's or inspection region's corners, so
// that drawing and testing one needs no allocation.
const MaxPolygonPoints = 64

// Load reads and validates a scene file.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a scene file's contents. Unknown fields are
// errors, so that a misspelt key is not silently ignored.
func Parse(b []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, describeJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, errors.New("unexpected data after the scene's JSON object")
	}
	return cfg, cfg.Validate()
}

// Save writes cfg to path atomically: a reader sees the old file or the
// new one, never half of one. An invalid cfg is not written.
func Save(path string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// describeJSON turns encoding/json's errors into one line that names the
// field.
func describeJSON(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON (at byte %d): %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the scene"
		}
		return fmt.Errorf("%s: want %s, got %s", field, expected(typ.Type.String()), typ.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty file: a scene is a JSON object")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

// expected names a Go type as the JSON a user should write.
func expected(goType string) string {
	switch {
	case strings.HasSuffix(goType, "scene.Point"):
		return "a point [x, y]"
	case strings.HasSuffix(goType, "InspectionModel"):
		return `a folder or {"project": …, "published_name": …}`
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "string":
		return "a string"
	case goType == "int":
		return "a whole number"
	case goType == "float64":
		return "a number"
	}
	return "an object"
}

// MarshalJSON writes p as [x, y].
func (p Point) MarshalJSON() ([]byte, error) { return json.Marshal([2]float64{p.X, p.Y}) }

// UnmarshalJSON reads [x, y].
func (p *Point) UnmarshalJSON(b []byte) error {
	var xy []float64
	if err := json.Unmarshal(b, &xy); err != nil || len(xy) != 2 {
		got := strings.TrimSpace(string(b))
		if len(got) > 40 {
			got = got[:40] + "…"
		}
		return &json.UnmarshalTypeError{Value: got, Type: pointType}
	}
	p.X, p.Y = xy[0], xy[1]
	return nil
}

var pointType = reflect.TypeFor[Point]()

// MarshalJSON writes a folder as a string and a cloud project as an object.
func (m InspectionModel) MarshalJSON() ([]byte, error) {
	if m.Dir != "" {
		return json.Marshal(m.Dir)
	}
	return json.Marshal(cloudModel{m.Project, m.PublishedName})
}

// UnmarshalJSON reads either form.
func (m *InspectionModel) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.Dir); err == nil {
		return nil
	}
	var c cloudModel
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return &json.UnmarshalTypeError{Value: strings.TrimSpace(string(b)), Type: modelType}
	}
	m.Project, m.PublishedName = c.Project, c.PublishedName
	return nil
}

type cloudModel struct {
	Project       string `json:"project"`
	PublishedName string `json:"published_name"`
}

var modelType = reflect.TypeFor[InspectionModel]()

// Region is an inspection point's region as a polygon: its rectangle's
// corners, or its polygon.
func (in Inspection) Region() []Point {
	if len(in.Rect) == 4 {
		x, y, w, h := in.Rect[0], in.Rect[1], in.Rect[2], in.Rect[3]
		return []Point{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}
	}
	return in.Polygon
}

// Contains reports whether p is inside the inspection's region (even-odd
// rule, as zones), in fractions of the frame. It allocates nothing.
func (in Inspection) Contains(p Point) bool {
	var buf [MaxPolygonPoints]vec
	poly := buf[:0]
	if len(in.Rect) == 4 {
		x, y, w, h := in.Rect[0], in.Rect[1], in.Rect[2], in.Rect[3]
		poly = append(poly, vec{x, y}, vec{x + w, y}, vec{x + w, y + h}, vec{x, y + h})
	}
	for _, q := range in.Polygon {
		if len(poly) < MaxPolygonPoints {
			poly = append(poly, vec{q.X, q.Y})
		}
	}
	return inside(poly, vec{p.X, p.Y})
}

// LostAfter is how long an unseen track is waited for, in seconds.
func (t Tracking) LostAfter() float64 {
	if t.LostAfterS > 0 {
		return t.LostAfterS
	}
	return DefaultLostAfterS
}

// Cooldown is the rule's cooldown in seconds.
// ReviewThreshold is the probability under which a verdict is a review
// (DefaultThreshold when absent).
func (in Inspection) ReviewThreshold() float64 {
	if in.Threshold > 0 {
		return in.Threshold
	}
	return DefaultThreshold
}

// InspectMode is when the point inspects (ModeContinuous when absent).
func (in Inspection) InspectMode() string {
	if in.Mode != "" {
		return in.Mode
	}
	return ModeContinuous
}

func (r Rule) Cooldown() float64 {
	if r.CooldownS > 0 {
		return r.CooldownS
	}
	return DefaultCooldownS
}
