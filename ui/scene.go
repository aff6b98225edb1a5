package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/overlay"
)

// scenePanel edits the scene the live view follows (counting lines,
// zones and alert rules) and shows what they count. Lines and zones are
// drawn and moved on the video itself (sceneEditor); names, classes and
// rules are edited here. Every change reaches the pipeline at once.
type scenePanel struct {
	content fyne.CanvasObject
	win     fyne.Window
	cfg     scene.Config
	// apply hands a valid scene to the pipeline (and saves it for the
	// source); the window sets it.
	apply func(scene.Config) error
	// filter changes the overlay (track IDs, trails).
	filter func(func(*overlay.Filter))
	edit   *sceneEditor

	draw, ids, trails   *widget.Check
	hint, status        *widget.Label
	lines, zones, rules *fyne.Container
	lineStats           []*widget.Label // by line, as listed
	zoneStats           []*widget.Label // by zone
	points              *fyne.Container // inspection points
	pointStats          []*widget.Label
	// defaultModel is the Custom Vision export a new point starts with.
	defaultModel func() string
	alerts       *widget.Label
	clips        *clipsList // the clips written, each to open
	chart        *plot
	history      []sceneSample // the last minute of totals
	recent       []string      // the latest alerts, newest first
}

// sceneSample is the scene's totals at a time, for per-minute rates.
type sceneSample struct {
	at    time.Time
	lines map[string]event.LineCount
}

func newScenePanel(win fyne.Window) *scenePanel {
	s := &scenePanel{win: win, apply: func(scene.Config) error { return nil }, filter: func(func(*overlay.Filter)) {},
		defaultModel: func() string { return "" }}
	s.hint = widget.NewLabel("Counting lines count what crosses them, zones what is inside. Draw them on the video; they count at once.")
	s.hint.Wrapping = fyne.TextWrapWord
	s.hint.Importance = widget.LowImportance
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Hide()
	s.draw = widget.NewCheck("Edit on the video", func(on bool) {
		if s.edit != nil {
			s.edit.setActive(on)
		}
	})
	s.ids = widget.NewCheck("Track IDs", func(on bool) { s.filter(func(f *overlay.Filter) { f.HideTrackIDs = !on }) })
	s.trails = widget.NewCheck("Trails", func(on bool) { s.filter(func(f *overlay.Filter) { f.HideTrails = !on }) })
	s.ids.SetChecked(true)
	s.trails.SetChecked(true)
	lineBtn := widget.NewButtonWithIcon("Line", theme.ContentAddIcon(), func() { s.startAdding(addLine) })
	zoneBtn := widget.NewButtonWithIcon("Zone", theme.ContentAddIcon(), func() { s.startAdding(addZone) })
	ruleBtn := widget.NewButtonWithIcon("Rule", theme.ContentAddIcon(), s.addRule)
	pointBtn := widget.NewButtonWithIcon("Point", theme.ContentAddIcon(), func() { s.startAdding(addInspection) })
	open := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), s.openFile)
	save := widget.NewButtonWithIcon("", theme.DocumentSaveIcon(), s.saveFile)
	clear := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		dialog.ShowConfirm("Clear the scene", "Remove every line, zone and rule of this source?", func(ok bool) {
			if ok {
				s.change(func(c *scene.Config) { *c = scene.Config{Tracking: c.Tracking} })
			}
		}, s.win)
	})
	s.lines, s.zones, s.rules, s.points = container.NewVBox(), container.NewVBox(), container.NewVBox(), container.NewVBox()
	s.clips = newClipsList()
	s.alerts = widget.NewLabel("No alert yet.")
	s.alerts.Wrapping = fyne.TextWrapWord
	s.chart = newPlot("Crossings", "/min", color.NRGBA{0xff, 0xc1, 0x07, 0xff}, 0)
	s.content = container.NewVScroll(container.NewVBox(
		container.NewBorder(nil, nil, container.NewHBox(lineBtn, zoneBtn), container.NewHBox(open, save, clear)),
		s.draw, container.NewHBox(s.ids, s.trails), s.hint, s.status,
		heading("Lines"), s.lines,
		heading("Zones"), s.zones,
		container.NewBorder(nil, nil, heading("Inspection points"), pointBtn), s.points,
		container.NewBorder(nil, nil, heading("Rules"), ruleBtn), s.rules,
		s.chart.content,
		heading("Alerts"), s.alerts,
		heading("Clips"), s.clips.content,
	))
	s.rebuild()
	return s
}

// Adding modes, as the editor understands them.
const (
	addLine = "line"
	addZone = "zone"
)

// startAdding lets the user draw a line or a zone on the video.
func (s *scenePanel) startAdding(kind string) {
	s.draw.SetChecked(true)
	if s.edit != nil {
		s.edit.startAdding(kind)
	}
	switch kind {
	case addLine:
		s.say("Drag on the video from one end of the line to the other.", false)
	case addInspection:
		s.say("Drag a rectangle around what is inspected: a label, a cap, a seal.", false)
	default:
		s.say("Click the zone's corners on the video; click the first one again to close it (Esc cancels).", false)
	}
}

// say shows a note or a problem under the buttons; "" hides it.
func (s *scenePanel) say(msg string, problem bool) {
	s.status.Importance = widget.MediumImportance
	if problem {
		s.status.Importance = widget.DangerImportance
	}
	s.status.SetText(msg)
	s.status.Hidden = msg == ""
	s.status.Refresh()
}

// set shows cfg (a source switched, a file opened) without applying it.
func (s *scenePanel) set(cfg scene.Config) {
	s.cfg = cfg
	s.history = nil
	s.rebuild()
	if s.edit != nil {
		s.edit.refresh()
	}
}

// change edits the scene and applies it; an edit that does not hold
// together is refused with the reason, and the scene stays as it was.
func (s *scenePanel) change(edit func(*scene.Config)) bool {
	next := cloneScene(s.cfg)
	edit(&next)
	if err := next.Validate(); err != nil {
		s.say(text.OneLine(err.Error(), 160), true)
		return false
	}
	if err := s.apply(next); err != nil {
		s.say(text.OneLine(err.Error(), 160), true)
		return false
	}
	structural := len(next.Lines) != len(s.cfg.Lines) || len(next.Zones) != len(s.cfg.Zones) ||
		len(next.Rules) != len(s.cfg.Rules) || len(next.Inspections) != len(s.cfg.Inspections)
	s.cfg = next
	s.say("", false)
	s.history = nil // counts start again
	if structural {
		s.rebuild()
	}
	if s.edit != nil {
		s.edit.refresh()
	}
	return true
}

// cloneScene copies cfg deeply enough that edits to the copy leave it be.
func cloneScene(cfg scene.Config) scene.Config {
	c := cfg
	c.Lines, c.Zones, c.Rules, c.Inspections = slices.Clone(cfg.Lines), slices.Clone(cfg.Zones), slices.Clone(cfg.Rules), slices.Clone(cfg.Inspections)
	for i := range c.Lines {
		c.Lines[i].Points = slices.Clone(c.Lines[i].Points)
	}
	for i := range c.Zones {
		c.Zones[i].Polygon = slices.Clone(c.Zones[i].Polygon)
	}
	return c
}

// uniqueName is base followed by the first number no name of taken has.
func uniqueName(base string, taken []string) string {
	for n := 1; ; n++ {
		name := base + " " + strconv.Itoa(n)
		if !slices.Contains(taken, name) {
			return name
		}
	}
}

func lineNames(c scene.Config) []string {
	return namesOf(c.Lines, func(l scene.Line) string { return l.Name })
}

func zoneNames(c scene.Config) []string {
	return namesOf(c.Zones, func(z scene.Zone) string { return z.Name })
}

func inspectionNames(c scene.Config) []string {
	return namesOf(c.Inspections, func(in scene.Inspection) string { return in.Name })
}

// listRows fills box with a row a item, each with a label for its figures
// (kept in stats, in order), or says empty when there are none.
func listRows(box *fyne.Container, stats *[]*widget.Label, n int, empty string, row func(i int, st *widget.Label) fyne.CanvasObject) {
	box.RemoveAll()
	*stats = (*stats)[:0]
	for i := range n {
		st := widget.NewLabel("")
		*stats = append(*stats, st)
		box.Add(row(i, st))
	}
	if n == 0 {
		box.Add(lowLabel(empty))
	}
}

// namesOf are the names of a scene's lines, zones or points, in order.
func namesOf[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

// rebuild lists the lines, zones and rules anew; UI thread.
func (s *scenePanel) rebuild() {
	listRows(s.lines, &s.lineStats, len(s.cfg.Lines), "No counting line: add one with + Line.", func(i int, st *widget.Label) fyne.CanvasObject {
		l := s.cfg.Lines[i]
		return s.itemRow(l.Name, strings.Join(l.Classes, ", "), st,
			func(c *scene.Config) *string { return &c.Lines[i].Name },
			func(c *scene.Config, cl []string) { c.Lines[i].Classes = cl },
			func(c *scene.Config) { renameTarget(c, l.Name, ""); c.Lines = slices.Delete(c.Lines, i, i+1) })
	})
	listRows(s.zones, &s.zoneStats, len(s.cfg.Zones), "No zone: add one with + Zone.", func(i int, st *widget.Label) fyne.CanvasObject {
		z := s.cfg.Zones[i]
		return s.itemRow(z.Name, strings.Join(z.Classes, ", "), st,
			func(c *scene.Config) *string { return &c.Zones[i].Name },
			func(c *scene.Config, cl []string) { c.Zones[i].Classes = cl },
			func(c *scene.Config) { renameTarget(c, z.Name, ""); c.Zones = slices.Delete(c.Zones, i, i+1) })
	})
	s.inspectionRows()
	if len(s.cfg.Lines) == 0 {
		s.chart.content.Hide()
	} else {
		s.chart.content.Show()
	}
	s.rules.RemoveAll()
	for i := range s.cfg.Rules {
		s.rules.Add(s.ruleRow(i))
	}
	if len(s.cfg.Rules) == 0 {
		s.rules.Add(lowLabel("No rule: alerts come from rules on lines and zones."))
	}
}

func lowLabel(msg string) *widget.Label {
	l := widget.NewLabel(msg)
	l.Importance = widget.LowImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}

// itemRow is a line's or a zone's row: its name, the classes it counts,
// what it counted, and a delete button.
func (s *scenePanel) itemRow(name, classes string, stats *widget.Label, nameOf func(*scene.Config) *string,
	setClasses func(*scene.Config, []string), remove func(*scene.Config)) fyne.CanvasObject {
	nameEntry := widget.NewEntry()
	nameEntry.SetText(name)
	nameEntry.OnSubmitted = func(v string) {
		v = strings.TrimSpace(v)
		if !s.change(func(c *scene.Config) {
			old := *nameOf(c)
			*nameOf(c) = v
			renameTarget(c, old, v)
		}) {
			nameEntry.SetText(name)
		}
	}
	classEntry := widget.NewEntry()
	classEntry.SetPlaceHolder("every class")
	classEntry.SetText(classes)
	classEntry.OnSubmitted = func(v string) { s.change(func(c *scene.Config) { setClasses(c, text.SplitList(strings.ToLower(v))) }) }
	del := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { s.change(remove) })
	stats.TextStyle.Monospace = true
	return container.NewVBox(container.NewBorder(nil, nil, nil, del, nameEntry),
		container.NewBorder(nil, nil, widget.NewLabel("Classes"), nil, classEntry), stats)
}

// renameTarget makes the rules that name old (a line or a zone) name to;
// an empty to removes those rules, as their target goes.
func renameTarget(c *scene.Config, old, to string) {
	kept := c.Rules[:0]
	for _, r := range c.Rules {
		switch {
		case r.Zone == old && to == "", r.Line == old && to == "":
			continue
		case r.Zone == old:
			r.Zone = to
		case r.Line == old:
			r.Line = to
		}
		kept = append(kept, r)
	}
	c.Rules = kept
}

// update shows what the scene counted, once a second; UI thread.
func (s *scenePanel) update(v *scene.View, iv *inspect.View, totals event.Summary, now time.Time) {
	s.updateInspections(iv)
	s.history = append(s.history, sceneSample{at: now, lines: totals.Lines})
	for len(s.history) > 1 && now.Sub(s.history[0].at) > time.Minute {
		s.history = s.history[1:]
	}
	minuteAgo := s.history[0]
	span := now.Sub(minuteAgo.at).Minutes()
	var perMinute float64
	for i, l := range s.cfg.Lines {
		if i >= len(s.lineStats) {
			break
		}
		c, was := totals.Lines[l.Name], minuteAgo.lines[l.Name]
		rate := 0.0
		if span > 0 {
			rate = float64(c.In+c.Out-was.In-was.Out) / span
		}
		perMinute += rate
		setText(s.lineStats[i], fmt.Sprintf("in %d · out %d · %.1f a minute", c.In, c.Out, rate))
	}
	for i, z := range s.cfg.Zones {
		if i >= len(s.zoneStats) {
			break
		}
		occ, dwell := 0, time.Duration(0)
		if v != nil && i < len(v.Zones) {
			occ, dwell = v.Zones[i].Occupancy, v.Zones[i].MeanDwell
		}
		zc := totals.Zones[z.Name]
		setText(s.zoneStats[i], fmt.Sprintf("%d inside · %d entries · dwell %.1f s", occ, zc.Entries, dwell.Seconds()))
	}
	if len(s.cfg.Lines) > 0 {
		s.chart.push(perMinute)
	}
}

func setText(l *widget.Label, t string) {
	if l.Text != t {
		l.SetText(t)
	}
}

// alert lists an alert at the top of the recent ones; UI thread.
func (s *scenePanel) alert(a *event.Alert, at time.Time) {
	line := at.Format("15:04:05") + " " + a.Rule + ": " + a.Detail
	s.recent = append([]string{line}, s.recent[:min(len(s.recent), 9)]...)
	s.alerts.SetText(strings.Join(s.recent, "\n"))
	s.alerts.Importance = widget.DangerImportance
	s.alerts.Refresh()
}

// openFile loads a scene file for this source.
func (s *scenePanel) openFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		cfg, err := scene.Load(r.URI().Path())
		if err != nil {
			s.say(text.OneLine(err.Error(), 160), true)
			return
		}
		if s.change(func(c *scene.Config) { *c = cfg }) {
			s.rebuild()
			s.say("Opened "+r.URI().Path(), false)
		}
	}, s.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
	d.Show()
}

// saveFile writes the scene to a file `run --scene` reads.
func (s *scenePanel) saveFile() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		if err := scene.Save(path, s.cfg); err != nil {
			s.say(text.OneLine(err.Error(), 160), true)
			return
		}
		s.say("Saved "+path+" (sightline run --scene reads it)", false)
	}, s.win)
	d.SetFileName("scene.json")
	d.Show()
}
