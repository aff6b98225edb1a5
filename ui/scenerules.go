package ui

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/scene"
)

// ruleKind is a rule kind as the panel offers it: what it watches and
// which numbers it takes.
type ruleKind struct {
	when, label             string
	target                  string // "zone", "line" or "point"
	count, seconds, percent bool
}

var ruleKinds = []ruleKind{
	{scene.WhenOccupancyAbove, "more than N in a zone", "zone", true, false, false},
	{scene.WhenEmptyFor, "a zone empty for T s", "zone", false, true, false},
	{scene.WhenDwellAbove, "someone in a zone over T s", "zone", false, true, false},
	{scene.WhenCrossingsBelow, "under N crossings in T s", "line", true, true, false},
	{scene.WhenInspectionFail, "N fails in a row", "point", true, false, false},
	{scene.WhenYieldBelow, "yield under P % over T s", "point", false, true, true},
}

func kindOf(when string) ruleKind {
	for _, k := range ruleKinds {
		if k.when == when {
			return k
		}
	}
	return ruleKinds[0]
}

// addRule adds a rule on the first zone (or line) for the user to shape.
func (s *scenePanel) addRule() {
	var r scene.Rule
	switch {
	case len(s.cfg.Zones) > 0:
		r = scene.Rule{When: scene.WhenOccupancyAbove, Zone: s.cfg.Zones[0].Name, Count: 1}
	case len(s.cfg.Lines) > 0:
		r = scene.Rule{When: scene.WhenCrossingsBelow, Line: s.cfg.Lines[0].Name, Count: 1, Seconds: 60}
	default:
		s.say("Add a line or a zone first: rules watch them.", true)
		return
	}
	names := make([]string, len(s.cfg.Rules))
	for i, x := range s.cfg.Rules {
		names[i] = x.Name
	}
	r.Name = uniqueName("rule", names)
	s.change(func(c *scene.Config) { c.Rules = append(c.Rules, r) })
}

// targets are the names a rule of kind k can watch.
func (s *scenePanel) targets(k ruleKind) []string {
	switch k.target {
	case "zone":
		return zoneNames(s.cfg)
	case "line":
		return lineNames(s.cfg)
	}
	out := make([]string, len(s.cfg.Inspections))
	for i, in := range s.cfg.Inspections {
		out[i] = in.Name
	}
	return out
}

// ruleRow edits rule i: its name, kind, target, numbers and cooldown.
func (s *scenePanel) ruleRow(i int) fyne.CanvasObject {
	r := s.cfg.Rules[i]
	k := kindOf(r.When)
	set := func(edit func(*scene.Rule)) {
		if s.change(func(c *scene.Config) { edit(&c.Rules[i]) }) {
			s.rebuild() // the row's fields follow its kind
		}
	}
	name := widget.NewEntry()
	name.SetText(r.Name)
	name.OnSubmitted = func(v string) { set(func(r *scene.Rule) { r.Name = strings.TrimSpace(v) }) }
	labels := make([]string, len(ruleKinds))
	for j, x := range ruleKinds {
		labels[j] = x.label
	}
	kind := widget.NewSelect(labels, nil)
	kind.SetSelected(k.label)
	kind.OnChanged = func(label string) {
		for _, nk := range ruleKinds {
			if nk.label == label && nk.when != r.When {
				set(func(r *scene.Rule) { reshape(r, nk, s.targets(nk)) })
			}
		}
	}
	target := widget.NewSelect(s.targets(k), nil)
	target.SetSelected(r.Zone + r.Line + r.Point)
	target.OnChanged = func(v string) {
		set(func(r *scene.Rule) {
			r.Zone, r.Line, r.Point = pick(k.target, "zone", v), pick(k.target, "line", v), pick(k.target, "point", v)
		})
	}
	fields := container.NewGridWithColumns(2)
	number := func(label string, v float64, apply func(*scene.Rule, float64)) {
		e := widget.NewEntry()
		e.SetText(strconv.FormatFloat(v, 'f', -1, 64))
		e.OnSubmitted = func(t string) {
			if x, err := strconv.ParseFloat(strings.TrimSpace(t), 64); err == nil {
				set(func(r *scene.Rule) { apply(r, x) })
			}
		}
		fields.Add(container.NewBorder(nil, nil, widget.NewLabel(label), nil, e))
	}
	if k.count {
		number("N", float64(r.Count), func(r *scene.Rule, x float64) { r.Count = int(x) })
	}
	if k.seconds {
		number("T s", r.Seconds, func(r *scene.Rule, x float64) { r.Seconds = x })
	}
	if k.percent {
		number("P %", r.Percent, func(r *scene.Rule, x float64) { r.Percent = x })
	}
	number("again after s", r.Cooldown(), func(r *scene.Rule, x float64) { r.CooldownS = x })
	del := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		if s.change(func(c *scene.Config) { c.Rules = append(c.Rules[:i:i], c.Rules[i+1:]...) }) {
			s.rebuild()
		}
	})
	return container.NewVBox(container.NewBorder(nil, nil, nil, del, name), kind, target, fields, widget.NewSeparator())
}

// reshape turns r into a rule of kind k on its first possible target,
// with numbers that make sense.
func reshape(r *scene.Rule, k ruleKind, targets []string) {
	t := ""
	if len(targets) > 0 {
		t = targets[0]
	}
	*r = scene.Rule{Name: r.Name, When: k.when, CooldownS: r.CooldownS,
		Zone: pick(k.target, "zone", t), Line: pick(k.target, "line", t), Point: pick(k.target, "point", t)}
	if k.count {
		r.Count = 1
	}
	if k.seconds {
		r.Seconds = 60
	}
	if k.percent {
		r.Percent = 90
	}
}

// pick is v when the rule's target kind is want.
func pick(kind, want, v string) string {
	if kind == want {
		return v
	}
	return ""
}
