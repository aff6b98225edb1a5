package ui

import (
	"fmt"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// curvePlot draws curves on the unit square, [0, 1] on both axes (precision,
// recall, F1 and thresholds all live there), with marks at chosen points.
type curvePlot struct {
	widget.BaseWidget
	title, xLabel string
	series        []plotSeries
	marks         []plotMark
}

// plotSeries is one curve: its points in drawing order.
type plotSeries struct {
	name   string
	colour color.Color
	x, y   []float64
	width  float32
}

// plotMark points at a value: a dot at (x, y), and a vertical line at x
// when line is set; label is written beside it.
type plotMark struct {
	x, y   float64
	line   bool
	colour color.Color
	label  string
}

// maxPlotPoints caps the segments a curve is drawn with: a curve has a
// point a distinct score, thousands on a large dataset.
const maxPlotPoints = 300

var (
	plotAxis = color.NRGBA{0x90, 0x96, 0xa0, 0xff}
	plotGrid = color.NRGBA{0x90, 0x96, 0xa0, 0x30}
	plotText = color.NRGBA{0xd0, 0xd4, 0xda, 0xff}
)

func newCurvePlot(title, xLabel string) *curvePlot {
	p := &curvePlot{title: title, xLabel: xLabel}
	p.ExtendBaseWidget(p)
	return p
}

// set replaces what is drawn; UI thread.
func (p *curvePlot) set(series []plotSeries, marks []plotMark) {
	p.series, p.marks = series, marks
	p.Refresh()
}

func (p *curvePlot) MinSize() fyne.Size { return fyne.NewSize(240, 180) }

func (p *curvePlot) CreateRenderer() fyne.WidgetRenderer {
	r := &curveRenderer{p: p}
	r.build(p.Size())
	return r
}

// curveRenderer rebuilds its lines at every layout: a plot changes seldom.
type curveRenderer struct {
	p       *curvePlot
	objects []fyne.CanvasObject
}

// Margins around the plotting area, for the tick labels and titles.
const (
	plotLeft, plotRight         = 38, 10
	plotTop, plotBottom         = 24, 34
	plotTickSize        float32 = 10
)

func (r *curveRenderer) build(size fyne.Size) {
	p := r.p
	r.objects = nil
	bg := canvas.NewRectangle(plotBG)
	bg.Resize(size)
	r.objects = append(r.objects, bg)
	w, h := size.Width-plotLeft-plotRight, size.Height-plotTop-plotBottom
	if w <= 10 || h <= 10 {
		return
	}
	at := func(x, y float64) fyne.Position {
		return fyne.NewPos(plotLeft+float32(x)*w, plotTop+float32(1-y)*h)
	}
	r.axes(at, w, h)
	for _, s := range p.series {
		r.curve(s, at)
	}
	for _, m := range p.marks {
		r.mark(m, at)
	}
	r.text(p.title, fyne.NewPos(plotLeft, 3), plotText, 12, true)
	r.text(p.xLabel, fyne.NewPos(plotLeft+w/2-20, size.Height-16), plotText, plotTickSize, false)
	x := plotLeft + w
	for i := len(p.series) - 1; i >= 0; i-- { // the legend, right-aligned
		s := p.series[i]
		lw := fyne.MeasureText(s.name, plotTickSize, fyne.TextStyle{}).Width
		x -= lw + 6
		r.text(s.name, fyne.NewPos(x, 5), s.colour, plotTickSize, false)
	}
}

// axes draws the frame, the grid at quarters and the tick labels.
func (r *curveRenderer) axes(at func(x, y float64) fyne.Position, w, h float32) {
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		c := color.Color(plotGrid)
		if i == 0 {
			c = plotAxis
		}
		r.line(at(v, 0), at(v, 1), c, 1)
		r.line(at(0, v), at(1, v), c, 1)
		label := fmt.Sprintf("%.2g", v)
		r.text(label, at(v, 0).Add(fyne.NewPos(-8, 3)), plotText, plotTickSize, false)
		r.text(label, at(0, v).Add(fyne.NewPos(-30, -7)), plotText, plotTickSize, false)
	}
	r.line(at(1, 0), at(1, 1), plotAxis, 1)
	r.line(at(0, 1), at(1, 1), plotAxis, 1)
}

// curve draws a series with at most maxPlotPoints segments.
func (r *curveRenderer) curve(s plotSeries, at func(x, y float64) fyne.Position) {
	n := len(s.x)
	step := max(1, int(math.Ceil(float64(n)/maxPlotPoints)))
	width := s.width
	if width == 0 {
		width = 2
	}
	prev := -1
	for i := 0; i < n; i += step {
		if prev >= 0 {
			r.line(at(s.x[prev], s.y[prev]), at(s.x[i], s.y[i]), s.colour, width)
		}
		prev = i
	}
	if prev >= 0 && prev != n-1 {
		r.line(at(s.x[prev], s.y[prev]), at(s.x[n-1], s.y[n-1]), s.colour, width)
	}
}

func (r *curveRenderer) mark(m plotMark, at func(x, y float64) fyne.Position) {
	if m.line {
		r.line(at(m.x, 0), at(m.x, 1), m.colour, 1.5)
	}
	dot := canvas.NewCircle(m.colour)
	c := at(m.x, m.y)
	dot.Move(c.Subtract(fyne.NewPos(5, 5)))
	dot.Resize(fyne.NewSize(10, 10))
	r.objects = append(r.objects, dot)
	if m.label == "" {
		return
	}
	// The label sits beside the dot, on the side with room.
	lw := fyne.MeasureText(m.label, plotTickSize, fyne.TextStyle{Bold: true}).Width
	pos := c.Add(fyne.NewPos(8, -16))
	if m.x > 0.6 {
		pos = c.Add(fyne.NewPos(-8-lw, -16))
	}
	r.text(m.label, pos, m.colour, plotTickSize, true)
}

func (r *curveRenderer) line(a, b fyne.Position, c color.Color, width float32) {
	l := canvas.NewLine(c)
	l.StrokeWidth = width
	l.Position1, l.Position2 = a, b
	r.objects = append(r.objects, l)
}

func (r *curveRenderer) text(s string, pos fyne.Position, c color.Color, size float32, bold bool) {
	t := canvas.NewText(s, c)
	t.TextSize = size
	t.TextStyle = fyne.TextStyle{Bold: bold}
	t.Move(pos)
	t.Resize(t.MinSize())
	r.objects = append(r.objects, t)
}

func (r *curveRenderer) Layout(size fyne.Size)        { r.build(size) }
func (r *curveRenderer) MinSize() fyne.Size           { return r.p.MinSize() }
func (r *curveRenderer) Refresh()                     { r.build(r.p.Size()); canvas.Refresh(r.p) }
func (r *curveRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *curveRenderer) Destroy()                     {}
