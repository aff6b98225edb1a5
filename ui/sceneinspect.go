package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/text"
)

// addInspection is the editor's mode for drawing an inspection point's
// rectangle.
const addInspection = "inspection"

// newInspection asks for the model and the passing tags of the region
// just drawn, then adds the point.
func (s *scenePanel) newInspection(rect []float64) {
	model := widget.NewEntry()
	model.SetText(s.defaultModel())
	model.SetPlaceHolder("a Custom Vision export folder")
	pass := widget.NewEntry()
	pass.SetPlaceHolder("the tags that mean pass")
	labels := widget.NewLabel("")
	labels.Wrapping = fyne.TextWrapWord
	labels.Importance = widget.LowImportance
	showLabels := func(dir string) {
		if tags := exportLabels(dir); len(tags) > 0 {
			labels.SetText("The model's tags: " + strings.Join(tags, ", "))
			if pass.Text == "" {
				pass.SetText(tags[0])
			}
		}
	}
	model.OnChanged = showLabels
	showLabels(model.Text)
	threshold := widget.NewEntry()
	threshold.SetText(strconv.FormatFloat(scene.DefaultThreshold, 'f', -1, 64))
	mode := widget.NewSelect([]string{scene.ModeContinuous, scene.ModePerTrack}, nil)
	mode.SetSelected(scene.ModeContinuous)
	items := []*widget.FormItem{
		widget.NewFormItem("Model", model), widget.NewFormItem("", labels),
		widget.NewFormItem("Pass", pass), widget.NewFormItem("Review under", threshold),
		widget.NewFormItem("Inspect", mode),
	}
	dialog.ShowForm("New inspection point", "Add", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		t, err := strconv.ParseFloat(strings.TrimSpace(threshold.Text), 64)
		if err != nil {
			t = scene.DefaultThreshold
		}
		in := scene.Inspection{Rect: rect, Model: scene.InspectionModel{Dir: strings.TrimSpace(model.Text)},
			Pass: text.SplitList(pass.Text), Threshold: t, Mode: mode.Selected}
		s.change(func(c *scene.Config) {
			in.Name = uniqueName("point", inspectionNames(*c))
			c.Inspections = append(c.Inspections, in)
		})
	}, s.win)
}

// exportLabels are the tags of a Custom Vision export, from its labels.txt.
func exportLabels(dir string) []string {
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(dir), "labels.txt"))
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(strings.Fields(string(b)), func(s string) bool { return s == "" })
}

// inspectionRows lists the inspection points: their name, what they run,
// their state, counts, rate and yield.
func (s *scenePanel) inspectionRows() {
	s.points.RemoveAll()
	s.pointStats = s.pointStats[:0]
	for i := range s.cfg.Inspections {
		in := s.cfg.Inspections[i]
		st := widget.NewLabel("No verdict yet.")
		st.TextStyle.Monospace = true
		st.Wrapping = fyne.TextWrapWord
		s.pointStats = append(s.pointStats, st)
		model := in.Model.Dir
		if in.Model.Project != "" {
			model = "cloud " + in.Model.PublishedName
		}
		about := lowLabel(fmt.Sprintf("%s · pass: %s · review under %.2f · %s", filepath.Base(model),
			strings.Join(in.Pass, ", "), in.ReviewThreshold(), in.InspectMode()))
		name := widget.NewEntry()
		name.SetText(in.Name)
		name.OnSubmitted = func(v string) {
			old := in.Name
			if !s.change(func(c *scene.Config) {
				c.Inspections[i].Name = strings.TrimSpace(v)
				for k := range c.Rules {
					if c.Rules[k].Point == old {
						c.Rules[k].Point = strings.TrimSpace(v)
					}
				}
			}) {
				name.SetText(old)
			}
		}
		del := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			s.change(func(c *scene.Config) {
				c.Rules = slices.DeleteFunc(c.Rules, func(r scene.Rule) bool { return r.Point == in.Name })
				c.Inspections = slices.Delete(c.Inspections, i, i+1)
			})
			s.rebuild()
		})
		s.points.Add(container.NewVBox(container.NewBorder(nil, nil, nil, del, name), about, st))
	}
	if len(s.cfg.Inspections) == 0 {
		s.points.Add(lowLabel("No inspection point: add one with + Point and a Custom Vision export."))
	}
}

// updateInspections shows each point's state, counts, rate and yield; a
// point in alarm is shown in red.
func (s *scenePanel) updateInspections(v *inspect.View) {
	if v == nil {
		return
	}
	for i, p := range v.Points {
		if i >= len(s.pointStats) {
			break
		}
		st := s.pointStats[i]
		state := p.Verdict.State
		switch {
		case p.Err != "":
			state = "cannot judge: " + p.Err
		case state == "":
			state = "no verdict yet"
		case p.Stale:
			state += fmt.Sprintf(" (%.0f s ago)", p.Verdict.Age.Seconds())
		}
		yield := "—"
		if p.HasYield {
			yield = fmt.Sprintf("%.0f%%", p.Yield)
		}
		setText(st, fmt.Sprintf("%s · pass %d fail %d review %d · yield %s · %.1f a minute",
			strings.ToUpper(state), p.Counts.Pass, p.Counts.Fail, p.Counts.Review, yield, p.PerMinute))
		imp := widget.MediumImportance
		switch {
		case p.Alarm || p.Verdict.State == "fail":
			imp = widget.DangerImportance
		case p.Verdict.State == "review":
			imp = widget.WarningImportance
		case p.Verdict.State == "pass":
			imp = widget.SuccessImportance
		}
		if st.Importance != imp {
			st.Importance = imp
			st.Refresh()
		}
	}
}
