package ui

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/overlay"
)

// Backend choices, as shown and as the scheduler names them.
var backendChoices = []struct {
	label string
	mode  schedule.Mode
}{{"Local", schedule.ModeLocal}, {"Azure", schedule.ModeCloud}, {"Auto", schedule.ModeAuto}}

// layer is one feature toggle: a draw-time filter switch, plus the
// features the scheduler must compute for it.
type layer struct {
	label     string
	needs     analyzer.Features
	hide      func(*overlay.Filter, bool)
	on        bool
	cloudOnly bool
}

func layers() []layer {
	return []layer{
		{label: "Objects", needs: analyzer.Features{analyzer.FeatureObjects}, hide: func(f *overlay.Filter, v bool) { f.HideObjects = v }, on: true},
		{label: "People", needs: analyzer.Features{analyzer.FeaturePeople}, hide: func(f *overlay.Filter, v bool) { f.HidePeople = v }, on: true},
		{label: "Faces", needs: analyzer.Features{analyzer.FeatureFaces}, hide: func(f *overlay.Filter, v bool) { f.HideFaces = v }},
		{label: "Tags and caption", needs: analyzer.Features{analyzer.FeatureTags, analyzer.FeatureCaption}, hide: func(*overlay.Filter, bool) {}, on: true},
		{label: "Dense captions", needs: analyzer.Features{analyzer.FeatureDenseCaptions}, hide: func(f *overlay.Filter, v bool) { f.HideDense = v }, cloudOnly: true},
		{label: "Read text", needs: analyzer.Features{analyzer.FeatureRead}, hide: func(f *overlay.Filter, v bool) { f.HideRead = v }},
	}
}

// controls is the Live tab: source, backend, confidence, classes, layers
// and the analysis rate.
type controls struct {
	content fyne.CanvasObject
	p       *player
	win     fyne.Window

	source      *widget.SelectEntry
	backend     *widget.RadioGroup
	thresh      *widget.Slider
	threshText  *widget.Label
	dimmed      *widget.Check
	classSel    *widget.Select
	classSl     *widget.Slider
	classText   *widget.Label
	classes     *fyne.Container
	noClasses   *widget.Label
	classChecks map[string]*widget.Check
	// seen are the classes seen on this source; shownClasses those listed.
	seen         map[string]bool
	shownClasses []string
	layerChecks  map[string]*widget.Check
	rate         *widget.Select

	recent   []string
	onSource func(uri string) // the window saves it as a recent source
	onError  func(error)      // a choice that could not be applied
}

// threshold step for the slider and the +/- keys.
const threshStep = 0.05

func newControls(win fyne.Window, p *player, recent []string) *controls {
	c := &controls{p: p, win: win, recent: recent, classChecks: map[string]*widget.Check{}, seen: map[string]bool{}, layerChecks: map[string]*widget.Check{}}

	sourceRow := c.newSourceRow()
	c.newBackendChoice()
	c.newThresholds()
	perClass := c.newPerClass()
	c.classes = container.NewGridWithColumns(2)
	c.noClasses = widget.NewLabel("Classes appear here as they are detected.")
	c.noClasses.Importance = widget.LowImportance
	c.noClasses.Wrapping = fyne.TextWrapWord

	layerBox, readNote := c.newLayers()
	c.newRateLimit()
	c.content = container.NewVScroll(container.NewVBox(
		heading("Source"), sourceRow,
		heading("Backend"), c.backend,
		heading("Confidence"), container.NewBorder(nil, nil, c.threshText, nil, c.thresh), c.dimmed,
		widget.NewLabel("Per class"), perClass,
		heading("Classes shown"), c.noClasses, c.classes,
		heading("Layers"), layerBox, readNote,
		heading("Analyses"), container.NewBorder(nil, nil, widget.NewLabel("At most"), nil, c.rate),
	))
	return c
}

// newSourceRow is the source picker: webcams found, the demo video and
// recent sources; any path or rtsp:// URL can be typed.
func (c *controls) newSourceRow() fyne.CanvasObject {
	p, win := c.p, c.win
	c.source = widget.NewSelectEntry(sourceOptions(c.recent))
	c.source.SetText(p.Source())
	c.source.SetPlaceHolder("file, rtsp://…, webcam:0")
	c.source.OnSubmitted = func(uri string) { c.play(uri) }
	play := widget.NewButton("Play", func() { c.play(c.source.Text) })
	play.Importance = widget.HighImportance
	open := widget.NewButton("File…", func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			c.source.SetText(r.URI().Path())
			c.play(r.URI().Path())
		}, win)
	})
	return container.NewBorder(nil, nil, nil, container.NewHBox(open, play), c.source)
}

// newBackendChoice is Local / Azure / Auto.
func (c *controls) newBackendChoice() {
	p := c.p
	c.backend = widget.NewRadioGroup(nil, func(label string) {
		for _, b := range backendChoices {
			if b.label == label {
				p.SetMode(b.mode)
			}
		}
		c.unfocus()
	})
	for _, b := range backendChoices {
		c.backend.Options = append(c.backend.Options, b.label)
	}
	c.backend.Horizontal = true
	c.backend.Required = true
	for _, b := range backendChoices {
		if b.mode == p.Mode() {
			c.backend.SetSelected(b.label)
		}
	}
}

// newThresholds is the confidence slider and the faded boxes under it.
func (c *controls) newThresholds() {
	p := c.p
	f := p.Filter()
	c.threshText = widget.NewLabel(thresholdText(f.Threshold))
	c.thresh = widget.NewSlider(analysisThreshold, 0.95)
	c.thresh.Step = 0.01
	c.thresh.SetValue(f.Threshold)
	c.thresh.OnChanged = func(v float64) {
		p.SetThreshold(v) // first: the pipeline redraws while the label changes
		c.threshText.SetText(thresholdText(v))
	}
	c.thresh.OnChangeEnded = func(float64) { c.unfocus() }
	c.dimmed = widget.NewCheck("Also show boxes under it, faded", func(v bool) {
		p.SetFilter(func(f *overlay.Filter) { f.Dimmed = v })
		c.unfocus()
	})
}

// newPerClass is a per-class threshold: pick a class seen so far, then
// its own slider.
func (c *controls) newPerClass() fyne.CanvasObject {
	p := c.p
	c.classText = widget.NewLabel("")
	c.classSl = widget.NewSlider(analysisThreshold, 0.95)
	c.classSl.Step = 0.01
	c.classSl.Disable()
	c.classSel = widget.NewSelect(nil, func(name string) {
		t := p.Filter().ThresholdFor(name)
		c.classSl.Enable()
		c.classSl.OnChanged = nil
		c.classSl.SetValue(t)
		c.classText.SetText(fmt.Sprintf("%.2f", t))
		c.classSl.OnChangeEnded = func(float64) { c.unfocus() }
		c.classSl.OnChanged = func(v float64) {
			c.classText.SetText(fmt.Sprintf("%.2f", v))
			p.SetFilter(func(f *overlay.Filter) {
				f.PerClass = cloneMap(f.PerClass)
				f.PerClass[strings.ToLower(name)] = v
			})
		}
	})
	c.classSel.PlaceHolder = "class…"
	reset := widget.NewButton("Reset", func() {
		name := c.classSel.Selected
		if name == "" {
			return
		}
		p.SetFilter(func(f *overlay.Filter) {
			f.PerClass = cloneMap(f.PerClass)
			delete(f.PerClass, strings.ToLower(name))
		})
		c.classSel.OnChanged(name)
	})
	perClass := container.NewBorder(nil, nil, c.classSel, container.NewHBox(c.classText, reset), c.classSl)
	return perClass
}

// newLayers is a check a layer, and a note on reading text live.
func (c *controls) newLayers() (fyne.CanvasObject, fyne.CanvasObject) {
	p := c.p
	layerBox := container.NewGridWithColumns(1)
	for _, l := range layers() {
		l := l
		ck := widget.NewCheck(l.label, func(on bool) { c.setLayer(l, on); c.unfocus() })
		ck.SetChecked(l.on)
		if !l.on {
			p.SetFilter(func(f *overlay.Filter) { l.hide(f, true) })
		}
		c.layerChecks[l.label] = ck
		layerBox.Add(ck)
	}
	c.refreshCloud()
	readNote := widget.NewLabel("Reading text locally takes about a second a frame, so boxes refresh more slowly while it is on.")
	readNote.Wrapping = fyne.TextWrapWord
	readNote.Importance = widget.LowImportance

	return layerBox, readNote
}

// newRateLimit caps analyses a second.
func (c *controls) newRateLimit() {
	p := c.p
	c.rate = widget.NewSelect([]string{"As fast as possible", "15 / s", "10 / s", "5 / s", "2 / s", "1 / s"}, func(s string) {
		v, _ := strconv.ParseFloat(strings.Fields(s)[0], 64)
		p.SetFPSLimit(v)
		c.unfocus()
	})
	if lim := p.FPSLimit(); lim > 0 {
		c.rate.Options = append(c.rate.Options, fmt.Sprintf("%g / s", lim))
		c.rate.SetSelected(fmt.Sprintf("%g / s", lim))
	} else {
		c.rate.SetSelected(c.rate.Options[0])
	}
}

func thresholdText(v float64) string { return fmt.Sprintf("≥ %.2f", v) }

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// setLayer shows or hides a layer; showing one the scheduler does not
// compute yet asks for it (a scheduler restart).
func (c *controls) setLayer(l layer, on bool) {
	c.p.SetFilter(func(f *overlay.Filter) { l.hide(f, !on) })
	if !on {
		return
	}
	var want analyzer.Features
	cloud := c.p.Cloud()
	for _, f := range l.needs {
		if f == analyzer.FeatureCaption && !cloud {
			continue // only the cloud captions
		}
		want = append(want, f)
	}
	if err := c.p.Want(want...); err != nil && c.onError != nil {
		c.onError(err)
	}
}

// refreshCloud enables the cloud-only layers when a cloud is configured.
func (c *controls) refreshCloud() {
	for _, l := range layers() {
		if !l.cloudOnly {
			continue
		}
		ck := c.layerChecks[l.label]
		if !c.p.Cloud() {
			ck.SetChecked(false)
			ck.Text = l.label + " (Azure)"
			ck.Disable()
		} else {
			ck.Text = l.label
			ck.Enable()
		}
		ck.Refresh()
	}
}

// play switches the source and remembers it.
func (c *controls) play(uri string) {
	uri = strings.TrimSpace(uri)
	if uri == "" {
		return
	}
	c.p.SetSource(uri)
	if c.onSource != nil {
		c.onSource(uri)
	}
	c.recent = addRecent(c.recent, uri)
	c.source.SetOptions(sourceOptions(c.recent))
}

// nudgeThreshold moves the global threshold by d (the +/- keys).
func (c *controls) nudgeThreshold(d float64) {
	c.thresh.SetValue(min(max(c.thresh.Value+d, c.thresh.Min), c.thresh.Max))
}

// maxClassesShown bounds the class list, so it never pushes the layers
// off the panel.
const maxClassesShown = 12

// setClasses lists the classes of the current results first, then the
// others seen on this source, as checkboxes with their colours.
func (c *controls) setClasses(current []string) {
	for _, n := range current {
		c.seen[n] = true
	}
	order := slices.Clone(current)
	var earlier []string
	for n := range c.seen {
		if !slices.Contains(current, n) {
			earlier = append(earlier, n)
		}
	}
	sort.Strings(earlier)
	order = append(order, earlier...)
	order = order[:min(len(order), maxClassesShown)]
	if slices.Equal(order, c.shownClasses) {
		return
	}
	c.shownClasses = order
	c.noClasses.Hide()
	c.classes.RemoveAll()
	for _, n := range order {
		sw := canvas.NewRectangle(overlay.ClassColor(n))
		sw.SetMinSize(fyne.NewSize(10, 10))
		sw.CornerRadius = 3
		c.classes.Add(container.NewBorder(nil, nil, container.NewCenter(sw), nil, c.classCheck(n)))
	}
	all := slices.Sorted(maps.Keys(c.seen))
	c.classSel.SetOptions(all)
}

// classCheck is the checkbox that shows or hides a class.
func (c *controls) classCheck(name string) *widget.Check {
	if ck, ok := c.classChecks[name]; ok {
		return ck
	}
	ck := widget.NewCheck(name, nil)
	// Ticked before it listens: a class appearing is not the user's click,
	// and must not take the keyboard from where they are typing.
	ck.SetChecked(true)
	ck.OnChanged = func(on bool) {
		c.p.SetFilter(func(f *overlay.Filter) {
			f.Hidden = cloneMap(f.Hidden)
			if on {
				delete(f.Hidden, strings.ToLower(name))
			} else {
				f.Hidden[strings.ToLower(name)] = true
			}
		})
		c.unfocus()
	}
	c.classChecks[name] = ck
	return ck
}

// resetClasses forgets the classes of the old source, and which of them
// were hidden.
func (c *controls) resetClasses() {
	c.seen, c.classChecks, c.shownClasses = map[string]bool{}, map[string]*widget.Check{}, nil
	c.p.SetFilter(func(f *overlay.Filter) { f.Hidden = nil })
	c.classes.RemoveAll()
	c.noClasses.Show()
	c.classSel.SetOptions(nil)
}

// unfocus gives the keyboard back to the window after a click on a
// control, so that Space pauses instead of toggling the last checkbox.
func (c *controls) unfocus() {
	if c.win != nil {
		c.win.Canvas().Unfocus()
	}
}

// seenClasses lists the classes in an analysis, lower-case.
func seenClasses(a *analyzer.Analysis) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, o := range a.Objects {
		out = append(out, strings.ToLower(o.Name))
	}
	if len(a.People) > 0 {
		out = append(out, "person")
	}
	if len(a.Faces) > 0 {
		out = append(out, "face")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sourceOptions are the picker's choices: webcams found, the demo video
// and the recent sources.
func sourceOptions(recent []string) []string {
	var out []string
	cams, _ := filepath.Glob("/dev/video*")
	sort.Strings(cams)
	for _, d := range cams {
		if n, err := strconv.Atoi(strings.TrimPrefix(d, "/dev/video")); err == nil {
			out = append(out, fmt.Sprintf("webcam:%d", n))
		}
	}
	out = append(out, deps.DemoVideo)
	for _, r := range recent {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
