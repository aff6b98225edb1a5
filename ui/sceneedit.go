package ui

import (
	"image/color"
	"math"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"github.com/sightline/sightline/internal/scene"
	"github.com/sightline/sightline/overlay"
)

// sceneEditor draws and moves the scene's lines and zones on the live
// view: a handle on every point, dragged with the mouse while the picture
// plays on. The pipeline draws the lines and zones themselves.
type sceneEditor struct {
	v      *liveView
	panel  *scenePanel
	active bool
	adding string        // addLine, addZone, or "" when moving points
	corner []scene.Point // the corners of the zone being added
	moving *vertex       // the point being dragged
	from   fyne.Position // where the drag of a new line began
	to     fyne.Position
	drawn  bool // a new line is being dragged
	layer  *fyne.Container
}

// vertex is point j of line i, corner j of zone i, or corner j (0 top
// left, 1 bottom right) of inspection point i's rectangle.
type vertex struct {
	kind vertexKind
	i, j int
}

type vertexKind int

const (
	lineEnd vertexKind = iota
	zoneCorner
	rectCorner
)

// grab is how close (in screen pixels) a press must be to a point to move it.
const grab = 14

var handleColor = color.NRGBA{0xff, 0xc1, 0x07, 0xff}

func newSceneEditor(v *liveView, panel *scenePanel) *sceneEditor {
	e := &sceneEditor{v: v, panel: panel, layer: container.NewWithoutLayout()}
	e.layer.Hide()
	v.edit = e
	panel.edit = e
	return e
}

// setActive turns editing on the video on or off; off, a drag selects a
// region for the panels again.
func (e *sceneEditor) setActive(on bool) {
	e.active = on
	if !on {
		e.cancel()
	}
	e.layer.Hidden = !on
	e.refresh()
}

// startAdding begins a line (dragged) or a zone (clicked corners).
func (e *sceneEditor) startAdding(kind string) {
	e.adding, e.corner = kind, nil
	e.refresh()
}

// cancel drops what was being added (Esc).
func (e *sceneEditor) cancel() {
	e.adding, e.corner, e.moving, e.drawn = "", nil, nil, false
	e.refresh()
}

// toScreen and toScene convert between the scene's fractions and the
// widget's positions over the picture.
func (e *sceneEditor) toScreen(p scene.Point) fyne.Position {
	pos, size, _ := e.v.picture()
	return fyne.NewPos(pos.X+float32(p.X)*size.Width, pos.Y+float32(p.Y)*size.Height)
}

func (e *sceneEditor) toScene(p fyne.Position) scene.Point {
	pos, size, _ := e.v.picture()
	if size.Width == 0 || size.Height == 0 {
		return scene.Point{}
	}
	clamp := func(x float32) float64 { return math.Round(float64(min(max(x, 0), 1))*1000) / 1000 }
	return scene.Point{X: clamp((p.X - pos.X) / size.Width), Y: clamp((p.Y - pos.Y) / size.Height)}
}

// nearest is the point within grab of p, if any.
func (e *sceneEditor) nearest(p fyne.Position) *vertex {
	best, found := float32(grab*grab), (*vertex)(nil)
	try := func(v vertex, sp scene.Point) {
		q := e.toScreen(sp)
		if d := (q.X-p.X)*(q.X-p.X) + (q.Y-p.Y)*(q.Y-p.Y); d <= best {
			best, found = d, &v
		}
	}
	e.eachVertex(func(v vertex, sp scene.Point) { try(v, sp) })
	return found
}

// eachVertex calls f with every point that can be moved.
func (e *sceneEditor) eachVertex(f func(vertex, scene.Point)) {
	for i, l := range e.panel.cfg.Lines {
		for j, pt := range l.Points {
			f(vertex{lineEnd, i, j}, pt)
		}
	}
	for i, z := range e.panel.cfg.Zones {
		for j, pt := range z.Polygon {
			f(vertex{zoneCorner, i, j}, pt)
		}
	}
	for i, in := range e.panel.cfg.Inspections {
		if r := in.Rect; len(r) == 4 {
			f(vertex{rectCorner, i, 0}, scene.Point{X: r[0], Y: r[1]})
			f(vertex{rectCorner, i, 1}, scene.Point{X: r[0] + r[2], Y: r[1] + r[3]})
		}
	}
}

// move puts vertex v at p in c.
func move(c *scene.Config, v vertex, p scene.Point) {
	switch v.kind {
	case lineEnd:
		c.Lines[v.i].Points[v.j] = p
	case zoneCorner:
		c.Zones[v.i].Polygon[v.j] = p
	case rectCorner:
		r := slices.Clone(c.Inspections[v.i].Rect)
		x0, y0, x1, y1 := r[0], r[1], r[0]+r[2], r[1]+r[3]
		if v.j == 0 {
			x0, y0 = p.X, p.Y
		} else {
			x1, y1 = p.X, p.Y
		}
		c.Inspections[v.i].Rect = rectOf(scene.Point{X: x0, Y: y0}, scene.Point{X: x1, Y: y1})
	}
}

// rectOf is the rectangle between two corners, as a scene's rect.
func rectOf(a, b scene.Point) []float64 {
	return []float64{min(a.X, b.X), min(a.Y, b.Y), math.Abs(b.X - a.X), math.Abs(b.Y - a.Y)}
}

// dragged moves a point, or draws the new line; UI thread.
func (e *sceneEditor) dragged(ev *fyne.DragEvent) {
	if !e.drawn && e.moving == nil {
		start := ev.Position.Subtract(ev.Dragged)
		switch {
		case e.adding == addLine, e.adding == addInspection:
			e.drawn, e.from = true, start
		default:
			e.moving = e.nearest(start)
		}
	}
	e.to = ev.Position
	e.refresh()
}

// dragEnd applies the move, or adds the line drawn.
func (e *sceneEditor) dragEnd() {
	to := e.toScene(e.to)
	switch {
	case e.drawn:
		from, kind := e.toScene(e.from), e.adding
		e.drawn, e.adding = false, ""
		switch {
		case math.Hypot(to.X-from.X, to.Y-from.Y) <= 0.02: // a slip, not a shape
		case kind == addLine:
			e.panel.change(func(c *scene.Config) {
				c.Lines = append(c.Lines, scene.Line{Name: uniqueName("line", lineNames(*c)), Points: []scene.Point{from, to}})
			})
		default:
			e.panel.newInspection(rectOf(from, to))
		}
	case e.moving != nil:
		m := *e.moving
		e.moving = nil
		e.panel.change(func(c *scene.Config) { move(c, m, to) })
	}
	e.refresh()
}

// tapped adds a zone's corner; on the first corner again (or a fourth
// tap near it), the zone closes.
func (e *sceneEditor) tapped(ev *fyne.PointEvent) {
	if e.adding != addZone {
		return
	}
	if n := len(e.corner); n >= 3 {
		first := e.toScreen(e.corner[0])
		if dx, dy := first.X-ev.Position.X, first.Y-ev.Position.Y; dx*dx+dy*dy <= grab*grab {
			poly := e.corner
			e.adding, e.corner = "", nil
			e.panel.change(func(c *scene.Config) {
				c.Zones = append(c.Zones, scene.Zone{Name: uniqueName("zone", zoneNames(*c)), Polygon: poly})
			})
			e.refresh()
			return
		}
	}
	if len(e.corner) < scene.MaxPolygonPoints {
		e.corner = append(e.corner, e.toScene(ev.Position))
	}
	e.refresh()
}

// refresh lays the handles and previews out again; UI thread.
func (e *sceneEditor) refresh() {
	e.layer.RemoveAll()
	if !e.active {
		e.layer.Refresh()
		return
	}
	handle := func(p fyne.Position) {
		c := canvas.NewCircle(color.NRGBA{0x10, 0x12, 0x16, 0xc0})
		c.StrokeColor, c.StrokeWidth = handleColor, 2
		c.Resize(fyne.NewSize(12, 12))
		c.Move(p.SubtractXY(6, 6))
		e.layer.Add(c)
	}
	segment := func(a, b fyne.Position, c color.Color) {
		l := canvas.NewLine(c)
		l.StrokeWidth = 2
		l.Position1, l.Position2 = a, b
		e.layer.Add(l)
	}
	e.eachVertex(func(v vertex, sp scene.Point) {
		p := e.toScreen(sp)
		if e.moving != nil && *e.moving == v {
			p = e.to
		}
		handle(p)
	})
	switch {
	case e.drawn && e.adding == addLine:
		segment(e.from, e.to, overlay.LineColor)
	case e.drawn:
		a, b := e.from, e.to
		c := overlay.NoVerdictColor
		segment(a, fyne.NewPos(b.X, a.Y), c)
		segment(fyne.NewPos(b.X, a.Y), b, c)
		segment(b, fyne.NewPos(a.X, b.Y), c)
		segment(fyne.NewPos(a.X, b.Y), a, c)
	}
	for k, pt := range e.corner {
		p := e.toScreen(pt)
		handle(p)
		if k > 0 {
			segment(e.toScreen(e.corner[k-1]), p, overlay.ZoneColor)
		}
	}
	e.layer.Refresh()
}
