package scene

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Validate checks cfg and returns the first problem as one line that names
// the field: `zones[1] "station": polygon needs at least 3 points, got 2`.
func (cfg Config) Validate() error {
	if err := cfg.Tracking.validate(); err != nil {
		return err
	}
	names := map[string]bool{}
	for i, l := range cfg.Lines {
		if err := l.validate(names); err != nil {
			return fmt.Errorf("lines[%d]%s: %w", i, quoted(l.Name), err)
		}
	}
	clear(names)
	for i, z := range cfg.Zones {
		if err := z.validate(names); err != nil {
			return fmt.Errorf("zones[%d]%s: %w", i, quoted(z.Name), err)
		}
	}
	clear(names)
	for i, in := range cfg.Inspections {
		if err := in.validate(names); err != nil {
			return fmt.Errorf("inspections[%d]%s: %w", i, quoted(in.Name), err)
		}
	}
	clear(names)
	for i, r := range cfg.Rules {
		if err := r.validate(cfg, names); err != nil {
			return fmt.Errorf("rules[%d]%s: %w", i, quoted(r.Name), err)
		}
	}
	return nil
}

func quoted(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}

// Upper bounds, so that no value overflows a duration or asks for a
// buffer the size of the machine.
const (
	maxLostAfterS = 3600
	maxSeconds    = 1e7 // about 115 days
	maxCount      = 1_000_000
)

func (t Tracking) validate() error {
	if t.LostAfterS < 0 || t.LostAfterS > maxLostAfterS {
		return fmt.Errorf("tracking: lost_after_s must be from 0 to %d, got %g", maxLostAfterS, t.LostAfterS)
	}
	if err := validClasses(t.Classes); err != nil {
		return fmt.Errorf("tracking: %w", err)
	}
	return nil
}

// uniqueName checks that name is set and not taken, and takes it.
func uniqueName(name string, taken map[string]bool) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("name is required")
	}
	if taken[name] {
		return errors.New("name used twice")
	}
	taken[name] = true
	return nil
}

func validClasses(classes []string) error {
	for i, c := range classes {
		if strings.TrimSpace(c) == "" {
			return fmt.Errorf("classes[%d] is empty", i)
		}
	}
	return nil
}

func validAnchor(a string) error {
	switch a {
	case "", AnchorBottomCenter, AnchorCenter:
		return nil
	}
	return fmt.Errorf("anchor %q is not %s or %s", a, AnchorBottomCenter, AnchorCenter)
}

// validPoints checks that every point lies in the frame.
func validPoints(field string, pts []Point) error {
	for i, p := range pts {
		for _, v := range [2]float64{p.X, p.Y} {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("%s[%d] [%g, %g] is outside the frame: coordinates are fractions from 0 to 1", field, i, p.X, p.Y)
			}
		}
	}
	return nil
}

func (l Line) validate(names map[string]bool) error {
	if err := uniqueName(l.Name, names); err != nil {
		return err
	}
	if len(l.Points) != 2 {
		return fmt.Errorf("points needs 2 points [[x, y], [x, y]], got %d", len(l.Points))
	}
	if err := validPoints("points", l.Points); err != nil {
		return err
	}
	if l.Points[0] == l.Points[1] {
		return errors.New("points are the same point: a line needs two")
	}
	if err := validClasses(l.Classes); err != nil {
		return err
	}
	return validAnchor(l.Anchor)
}

func (z Zone) validate(names map[string]bool) error {
	if err := uniqueName(z.Name, names); err != nil {
		return err
	}
	if err := validPolygon("polygon", z.Polygon); err != nil {
		return err
	}
	if err := validClasses(z.Classes); err != nil {
		return err
	}
	return validAnchor(z.Anchor)
}

func validPolygon(field string, pts []Point) error {
	if len(pts) < 3 {
		return fmt.Errorf("%s needs at least 3 points, got %d", field, len(pts))
	}
	if len(pts) > MaxPolygonPoints {
		return fmt.Errorf("%s has %d points, at most %d", field, len(pts), MaxPolygonPoints)
	}
	if err := validPoints(field, pts); err != nil {
		return err
	}
	if area(pts) < 1e-9 {
		return fmt.Errorf("%s encloses no area", field)
	}
	return nil
}

// area is a polygon's area by the shoelace formula.
func area(pts []Point) float64 {
	s := 0.0
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		s += p.X*q.Y - q.X*p.Y
	}
	return math.Abs(s) / 2
}

func (in Inspection) validate(names map[string]bool) error {
	if err := uniqueName(in.Name, names); err != nil {
		return err
	}
	if err := in.validRegion(); err != nil {
		return err
	}
	m := in.Model
	switch {
	case m.Dir == "" && m.Project == "":
		return errors.New(`model is required: a folder, or {"project": UUID, "published_name": NAME}`)
	case m.Project != "" && m.PublishedName == "":
		return errors.New("model: published_name is required with project")
	}
	if len(in.Pass) == 0 {
		return errors.New("pass needs at least one tag")
	}
	if in.Threshold < 0 || in.Threshold > 1 {
		return fmt.Errorf("threshold %g is not between 0 and 1", in.Threshold)
	}
	switch in.Mode {
	case "", ModeContinuous, ModePerTrack:
		return nil
	}
	return fmt.Errorf("mode %q is not %s or %s", in.Mode, ModeContinuous, ModePerTrack)
}

func (in Inspection) validRegion() error {
	switch {
	case in.Rect != nil && in.Polygon != nil:
		return errors.New("give rect or polygon, not both")
	case in.Rect == nil:
		return validPolygon("polygon", in.Polygon)
	case len(in.Rect) != 4:
		return fmt.Errorf("rect needs [x, y, w, h], got %d numbers", len(in.Rect))
	}
	x, y, w, h := in.Rect[0], in.Rect[1], in.Rect[2], in.Rect[3]
	if !(w > 0 && h > 0) {
		return fmt.Errorf("rect's width and height must be positive, got %g and %g", w, h)
	}
	if !(x >= 0 && y >= 0 && x+w <= 1+1e-9 && y+h <= 1+1e-9) {
		return fmt.Errorf("rect [%g, %g, %g, %g] is outside the frame: coordinates are fractions from 0 to 1", x, y, w, h)
	}
	return nil
}

// ruleFields says which fields each kind of rule takes.
var ruleFields = map[string]struct{ zone, line, point, count, seconds, percent bool }{
	WhenOccupancyAbove: {zone: true, count: true},
	WhenEmptyFor:       {zone: true, seconds: true},
	WhenDwellAbove:     {zone: true, seconds: true},
	WhenCrossingsBelow: {line: true, count: true, seconds: true},
	WhenInspectionFail: {point: true, count: true},
	WhenYieldBelow:     {point: true, percent: true, seconds: true},
}

func (r Rule) validate(cfg Config, names map[string]bool) error {
	if err := uniqueName(r.Name, names); err != nil {
		return err
	}
	f, ok := ruleFields[r.When]
	if !ok {
		return fmt.Errorf("unknown when %q: want %s, %s, %s, %s, %s or %s", r.When,
			WhenOccupancyAbove, WhenEmptyFor, WhenDwellAbove, WhenCrossingsBelow, WhenInspectionFail, WhenYieldBelow)
	}
	if err := r.validTarget(cfg, f.zone, f.line, f.point); err != nil {
		return err
	}
	switch {
	case !f.count && r.Count != 0:
		return fmt.Errorf("%s takes no count", r.When)
	case !f.seconds && r.Seconds != 0:
		return fmt.Errorf("%s takes no seconds", r.When)
	case !f.percent && r.Percent != 0:
		return fmt.Errorf("%s takes no percent", r.When)
	case r.Count < 0 || r.Count > maxCount:
		return fmt.Errorf("count must be from 0 to %d, got %d", maxCount, r.Count)
	case r.When == WhenCrossingsBelow && r.Count < 1:
		return fmt.Errorf("%s needs a count of at least 1", r.When)
	case f.seconds && !(r.Seconds > 0 && r.Seconds <= maxSeconds):
		return fmt.Errorf("%s needs seconds, more than 0 and at most %g", r.When, float64(maxSeconds))
	case f.percent && !(r.Percent > 0 && r.Percent <= 100):
		return fmt.Errorf("%s needs a percent from 0 to 100, got %g", r.When, r.Percent)
	case r.CooldownS < 0 || r.CooldownS > maxSeconds:
		return fmt.Errorf("cooldown_s must be positive and at most %g, got %g", float64(maxSeconds), r.CooldownS)
	}
	return nil
}

// validTarget checks that the rule names the zone, line or inspection
// point its kind watches, and that it exists.
func (r Rule) validTarget(cfg Config, zone, line, point bool) error {
	check := func(field, value string, wanted bool, exists func(string) bool) error {
		switch {
		case wanted && value == "":
			return fmt.Errorf("%s needs a %s", r.When, field)
		case !wanted && value != "":
			return fmt.Errorf("%s takes no %s", r.When, field)
		case wanted && !exists(value):
			return fmt.Errorf("%s %q does not exist", field, value)
		}
		return nil
	}
	if err := check("zone", r.Zone, zone, func(n string) bool { return index(cfg.Zones, n, Zone.name) >= 0 }); err != nil {
		return err
	}
	if err := check("line", r.Line, line, func(n string) bool { return index(cfg.Lines, n, Line.name) >= 0 }); err != nil {
		return err
	}
	return check("point", r.Point, point, func(n string) bool { return index(cfg.Inspections, n, Inspection.name) >= 0 })
}

func (l Line) name() string        { return l.Name }
func (z Zone) name() string        { return z.Name }
func (in Inspection) name() string { return in.Name }

// index finds the element called name, or -1.
func index[T any](s []T, name string, nameOf func(T) string) int {
	for i, v := range s {
		if nameOf(v) == name {
			return i
		}
	}
	return -1
}
