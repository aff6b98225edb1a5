package ui

import (
	"fmt"
	"image"
	"image/color"
	"maps"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/video"
)

// alertHold is how long a tile stays red after an alert, as the banner.
const alertHold = 8 * time.Second

// maxCountLines is how many counters a tile lists; more are joined.
const maxCountLines = 4

// tileInput is what a tile shows of its camera, read once a second.
type tileInput struct {
	status        video.Status
	paused, stale bool
	problem       error // why the camera's analysis or scene cannot be built
	sample        sample
	meters        meters
	threshold     float64
}

// tile is one camera on the wall: its picture with the boxes, its name,
// its state chip with the reason, its counters and its alert state. A tap
// opens the camera's own view. It owns one canvas.Image whose picture is
// swapped, as the live view does.
type tile struct {
	widget.BaseWidget
	bg, top, bottom, border *canvas.Rectangle
	img                     *canvas.Image
	name, chip, reason, msg *canvas.Text
	counts                  [maxCountLines]*canvas.Text
	rates, alert, caption   *canvas.Text
	// full are the texts as said; each is shown shortened to the tile's
	// width (canvas texts neither wrap nor clip).
	full map[*canvas.Text]string

	picture bool // a picture of the current source is shown
	booth   bool
	// alertAt is when the last alert came; alarm whether the tile is red.
	alertAt time.Time
	alarm   bool
	onTap   func()
	// onFit hears the picture's size in pixels when the tile is laid out;
	// scale is the canvas's pixels a unit.
	onFit func(image.Point)
	scale func() float32
	px    image.Point
}

var (
	tileStrip = color.NRGBA{0x0c, 0x0e, 0x12, 0xb8}
	tileAlarm = color.NRGBA{0xff, 0x52, 0x52, 0xff}
)

func newTile(name string) *tile {
	txt := func(s string, c color.Color, bold bool) *canvas.Text {
		t := canvas.NewText(s, c)
		t.TextStyle = fyne.TextStyle{Bold: bold}
		return t
	}
	t := &tile{
		bg:     canvas.NewRectangle(color.NRGBA{0x10, 0x12, 0x16, 0xff}),
		top:    canvas.NewRectangle(tileStrip),
		bottom: canvas.NewRectangle(tileStrip),
		border: canvas.NewRectangle(color.Transparent),
		img:    canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9))),
		name:   txt(name, hudText, true), chip: txt("◌ OPENING", hudWarn, true), reason: txt("", hudDim, false),
		msg:   txt("Opening …", hudText, true),
		rates: txt("", hudDim, false), alert: txt("", tileAlarm, true), caption: txt("", hudText, false),
		scale: func() float32 { return 1 },
		full:  map[*canvas.Text]string{},
	}
	for i := range t.counts {
		t.counts[i] = txt("", hudText, false)
		t.counts[i].TextStyle.Monospace = true
	}
	t.img.FillMode = canvas.ImageFillContain
	t.img.ScaleMode = canvas.ImageScaleFastest // the GPU scales; see liveView
	t.img.Hide()
	t.msg.Alignment = fyne.TextAlignCenter
	t.put(t.name, name, hudText)
	t.put(t.msg, "Opening …", hudText)
	t.border.StrokeWidth = 4
	t.border.StrokeColor = color.Transparent
	t.ExtendBaseWidget(t)
	return t
}

// setImage shows a picture; UI thread only.
func (t *tile) setImage(img image.Image) {
	if !t.picture {
		t.picture = true
		t.msg.Hide()
		t.img.Show()
	}
	t.img.Image = img
	t.img.Refresh()
}

// clear takes the picture off (it was another source's) and says msg.
func (t *tile) clear(msg string) {
	t.picture = false
	t.img.Hide()
	t.put(t.msg, msg, hudText)
	t.msg.Show()
	t.Refresh()
}

// put says s in c on text x, shown at the next layout; UI thread.
func (t *tile) put(x *canvas.Text, s string, c color.Color) {
	t.full[x] = s
	if x.Color != c {
		x.Color = c
		x.Refresh()
	}
}

// fit shows a text's full text, shortened to width.
func (t *tile) fit(x *canvas.Text, width float32) {
	if s := fitText(t.full[x], x.TextSize, x.TextStyle, width); s != x.Text {
		x.Text = s
		x.Refresh()
	}
}

// fitText shortens s with an ellipsis to fit width at size.
func fitText(s string, size float32, style fyne.TextStyle, width float32) string {
	if fyne.MeasureText(s, size, style).Width <= width {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r) // the longest prefix that fits with the ellipsis
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fyne.MeasureText(string(r[:mid])+"…", size, style).Width <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return string(r[:lo]) + "…"
}

// setBooth switches between the wall's look and the booth's large one.
func (t *tile) setBooth(on bool) {
	t.booth = on
	t.Refresh()
}

// alerted turns the tile red with the alert for a while; UI thread.
func (t *tile) alerted(a *event.Alert, at time.Time) {
	t.alertAt = at
	t.put(t.alert, text.OneLine("⚠ "+a.Rule+": "+a.Detail, 0), tileAlarm)
	t.setAlarm(true)
	t.Refresh()
}

func (t *tile) setAlarm(on bool) {
	if on == t.alarm {
		return
	}
	t.alarm = on
	t.border.StrokeColor = color.Transparent
	if on {
		t.border.StrokeColor = tileAlarm
	}
	t.border.Refresh()
}

// update shows the camera's state, counters and rates; UI thread.
func (t *tile) update(in tileInput) {
	chip, reason, c := tileState(in.status, in.paused, in.stale, t.picture, in.problem, in.sample.view.Age)
	t.put(t.chip, chip, c)
	t.put(t.reason, text.OneLine(reason, 0), hudDim)
	if !t.picture && noSignal(in.status) {
		t.put(t.msg, "No signal", hudText) // why is under the chip
	}
	lines := tileCounts(in.sample.view.Scene, in.sample.totals, in.sample.view.Analysis, in.threshold)
	for i, l := range t.counts {
		s := ""
		if i < len(lines) {
			s = lines[i]
		}
		t.put(l, s, hudText)
	}
	t.put(t.rates, fmt.Sprintf("%.1f fps shown / %.1f source · analysed %.1f/s", in.meters.displayFPS, in.meters.sourceFPS,
		in.meters.localFPS+in.meters.cloudFPS), hudDim)
	t.put(t.caption, tileCaption(in.sample.view.Analysis), hudText)
	holding := in.sample.view.Scene != nil && len(in.sample.view.Scene.Alerts) > 0
	recent := !t.alertAt.IsZero() && in.sample.at.Sub(t.alertAt) < alertHold
	if !recent {
		t.put(t.alert, "", tileAlarm)
	}
	t.setAlarm(recent || holding)
	t.Refresh()
}

// tileState is a tile's chip: LIVE; STALE when the boxes are older than
// the analysis promises or the source stalls; NO SIGNAL when the source
// gives no picture; ERROR when the camera's analysis cannot be built or
// its source failed under its last picture; with the reason.
func tileState(st video.Status, paused, stale, picture bool, problem error, boxAge time.Duration) (chip, reason string, c color.Color) {
	switch {
	case problem != nil:
		return "✕ ERROR", problem.Error(), hudError
	case paused:
		return "❚❚ PAUSED", "", hudWarn
	case noSignal(st) && !picture:
		return "✕ NO SIGNAL", st.Detail, hudError
	case st.State == video.StateError:
		return "✕ ERROR", st.Detail, hudError
	case st.State == video.StateStalled, st.State == video.StateReconnecting:
		return "◌ STALE", "source " + string(st.State) + ", the picture is frozen", hudWarn
	case st.State == video.StatePlaying && stale:
		return "◌ STALE", "boxes " + age(boxAge) + " old", hudWarn
	case st.State == video.StatePlaying:
		return "● LIVE", "", hudGood
	}
	return "◌ OPENING", "", hudWarn
}

// tileCounts are a tile's counters: the scene's lines, zones and
// inspection points, or without a scene the people and objects in view.
func tileCounts(sv *scene.View, totals event.Summary, a *analyzer.Analysis, threshold float64) []string {
	inside := map[string]int{}
	if sv != nil {
		for _, z := range sv.Zones {
			inside[z.Name] = z.Occupancy
		}
	}
	out := countLines(totals, inside)
	if len(out) > 0 || a == nil {
		return out
	}
	people, objects := 0, 0
	for _, p := range a.People {
		if p.Confidence >= threshold {
			people++
		}
	}
	for _, o := range a.Objects {
		if o.Confidence >= threshold && o.Name != "person" {
			objects++
		}
	}
	who := fmt.Sprintf("%d people", people)
	if people == 1 {
		who = "1 person"
	}
	return []string{who + " · " + plural(objects, "other object")}
}

// countLines are a scene's totals a line each, at most maxCountLines:
// lines, zones (with who is inside now, when known) and inspection points.
func countLines(totals event.Summary, inside map[string]int) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(totals.Lines)) {
		c := totals.Lines[name]
		out = append(out, fmt.Sprintf("%s  in %d · out %d", name, c.In, c.Out))
	}
	for _, name := range slices.Sorted(maps.Keys(totals.Zones)) {
		z := totals.Zones[name]
		if inside != nil {
			out = append(out, fmt.Sprintf("%s  %d inside · %d in all", name, inside[name], z.Entries))
		} else {
			out = append(out, fmt.Sprintf("%s  %d in all · at most %d", name, z.Entries, z.MaxOccupancy))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(totals.Inspections)) {
		c := totals.Inspections[name]
		out = append(out, fmt.Sprintf("%s  pass %d · fail %d", name, c.Pass, c.Fail))
	}
	if len(out) > maxCountLines {
		out = append(out[:maxCountLines-1], fmt.Sprintf("and %d more", len(out)-maxCountLines+1))
	}
	return out
}

// tileCaption is the cloud's caption of the picture, "" without one.
func tileCaption(a *analyzer.Analysis) string {
	if a == nil || a.Caption == nil {
		return ""
	}
	return text.OneLine(a.Caption.Text, 90)
}

// Tapped opens the camera's view (not in booth mode: visitors touch).
func (t *tile) Tapped(*fyne.PointEvent) {
	if !t.booth && t.onTap != nil {
		t.onTap()
	}
}

func (t *tile) CreateRenderer() fyne.WidgetRenderer { return &tileRenderer{t: t} }

func (t *tile) MinSize() fyne.Size { return fyne.NewSize(160, 90) }

type tileRenderer struct{ t *tile }

func (r *tileRenderer) Objects() []fyne.CanvasObject {
	t := r.t
	objs := []fyne.CanvasObject{t.bg, t.img, t.msg, t.top, t.bottom, t.name, t.chip, t.reason, t.rates, t.alert, t.caption}
	for _, c := range t.counts {
		objs = append(objs, c)
	}
	return append(objs, t.border)
}

// sizes are the tile's text sizes: the theme's on the wall; in booth mode
// scaled with the tile, to be read across a room.
func (r *tileRenderer) sizes(h float32) (name, chip, small, count float32) {
	if !r.t.booth {
		base := theme.TextSize()
		return base + 1, base, base - 2, base
	}
	base := min(max(h/14, 16), 56)
	return base * 0.8, base * 0.7, base * 0.5, base
}

func (r *tileRenderer) Layout(size fyne.Size) {
	t := r.t
	for _, o := range []fyne.CanvasObject{t.bg, t.img, t.border} {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	nameSize, chipSize, small, count := r.sizes(size.Height)
	pad := theme.Padding()
	width := size.Width - 2*pad
	// The top strip: the name on the left, the chip and its reason right.
	y := pad
	r.place(t.chip, chipSize, pad, y, fyne.TextAlignTrailing, width)
	r.place(t.name, nameSize, pad, y, fyne.TextAlignLeading, width-fyne.MeasureText(t.chip.Text, chipSize, t.chip.TextStyle).Width-2*pad)
	y += max(t.name.MinSize().Height, t.chip.MinSize().Height)
	t.reason.Hidden = t.full[t.reason] == ""
	if !t.reason.Hidden {
		r.place(t.reason, small, pad, y, fyne.TextAlignTrailing, width)
		y += t.reason.MinSize().Height
	}
	t.top.Move(fyne.NewPos(0, 0))
	t.top.Resize(fyne.NewSize(size.Width, y+pad))
	// The bottom strip, upwards: rates (not in booth mode), counters,
	// the caption (booth mode), the alert.
	bottom := size.Height - pad
	stack := func(c *canvas.Text, s float32, show bool) {
		c.Hidden = !show || t.full[c] == ""
		if c.Hidden {
			return
		}
		r.place(c, s, pad, 0, fyne.TextAlignLeading, width)
		bottom -= c.MinSize().Height
		c.Move(fyne.NewPos(pad, bottom))
	}
	stack(t.rates, small, !t.booth)
	for i := len(t.counts) - 1; i >= 0; i-- {
		stack(t.counts[i], count, true)
	}
	stack(t.caption, chipSize, t.booth)
	stack(t.alert, chipSize, true)
	t.bottom.Hidden = bottom >= size.Height-pad
	t.bottom.Move(fyne.NewPos(0, bottom-pad))
	t.bottom.Resize(fyne.NewSize(size.Width, size.Height-bottom+pad))
	r.place(t.msg, chipSize, pad, (size.Height-t.msg.MinSize().Height)/2, fyne.TextAlignCenter, width)
	r.fit(size)
}

// fit tells the camera the picture's size in pixels, so it scales frames
// down to it before they reach the UI thread.
func (r *tileRenderer) fit(size fyne.Size) {
	s := r.t.scale()
	px := image.Pt(int(size.Width*s), int(size.Height*s))
	if px != r.t.px && px.X > 0 && px.Y > 0 {
		r.t.px = px
		if r.t.onFit != nil {
			r.t.onFit(px)
		}
	}
}

// place sizes, shortens and moves a text within a row of width w.
func (r *tileRenderer) place(x *canvas.Text, size, left, y float32, align fyne.TextAlign, w float32) {
	if x.TextSize != size {
		x.TextSize = size
		x.Refresh()
	}
	x.Alignment = align
	r.t.fit(x, w)
	x.Move(fyne.NewPos(left, y))
	x.Resize(fyne.NewSize(w, x.MinSize().Height))
}

func (r *tileRenderer) MinSize() fyne.Size { return r.t.MinSize() }

// Refresh lays the texts out again; they refresh themselves when they
// change, and the picture when it is swapped. Refreshing the whole tile
// would render every text of it again.
func (r *tileRenderer) Refresh() {
	r.Layout(r.t.Size())
	for _, o := range []fyne.CanvasObject{r.t.top, r.t.bottom, r.t.border} {
		o.Refresh()
	}
}
func (r *tileRenderer) Destroy() {}
