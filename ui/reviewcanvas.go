package ui

import (
	"fmt"
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/review"
	"github.com/sightline/sightline/overlay"
)

// reviewCanvas shows a frame under review with its boxes, lets the user
// pick a box (tap) or draw a new one (drag), and hands the keys typed on
// it to the review panel. Boxes are canvas objects over the picture, so
// an edit redraws no pixels.
type reviewCanvas struct {
	widget.BaseWidget
	img  *canvas.Image
	bg   *canvas.Rectangle
	msg  *canvas.Text
	drag *canvas.Rectangle // the box being drawn
	mark *canvas.Rectangle // a mistake eval pointed at
	ring *canvas.Rectangle // says the canvas has the keyboard

	// src is the frame's size in pixels: the boxes' coordinates.
	src      image.Point
	boxes    []review.Box
	selected int // index in boxes, -1: none
	marked   *[4]float64

	shapes []boxShape // one a box, reused

	dragFrom, dragTo fyne.Position
	dragging         bool

	onSelect func(i int)          // a tap picked box i (-1: none)
	onDraw   func(bb [4]float64)  // a drag drew a box, in pixels
	onKey    func(*fyne.KeyEvent) // keys and runes while focused
	onRune   func(rune)
	focused  bool
}

// boxShape draws one box: its frame, and its label on a tab of its colour.
type boxShape struct {
	frame *canvas.Rectangle
	tab   *canvas.Rectangle
	text  *canvas.Text
}

var (
	markColor  = color.NRGBA{0xff, 0x17, 0x44, 0xff} // a mistake: red
	drawColor  = color.NRGBA{0x29, 0xb6, 0xf6, 0xff}
	labelInk   = color.NRGBA{0x10, 0x12, 0x16, 0xff}
	canvasBack = color.NRGBA{0x10, 0x12, 0x16, 0xff}
)

func newReviewCanvas() *reviewCanvas {
	c := &reviewCanvas{
		img:      canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9))),
		bg:       canvas.NewRectangle(canvasBack),
		msg:      canvas.NewText("", color.NRGBA{0xe6, 0xea, 0xf0, 0xff}),
		drag:     canvas.NewRectangle(color.NRGBA{0x29, 0xb6, 0xf6, 0x30}),
		mark:     canvas.NewRectangle(color.Transparent),
		ring:     canvas.NewRectangle(color.Transparent),
		selected: -1,
	}
	c.img.FillMode = canvas.ImageFillContain
	c.img.ScaleMode = canvas.ImageScaleFastest
	c.msg.Alignment = fyne.TextAlignCenter
	c.drag.StrokeColor, c.drag.StrokeWidth = drawColor, 2
	c.drag.Hide()
	c.mark.StrokeColor, c.mark.StrokeWidth = markColor, 3
	c.mark.Hide()
	c.ring.StrokeColor, c.ring.StrokeWidth = color.NRGBA{0x29, 0xb6, 0xf6, 0x80}, 2
	c.ring.Hide()
	c.ExtendBaseWidget(c)
	return c
}

// show puts a frame (img, of src pixels) with its boxes on screen; a nil
// img says msg instead.
func (c *reviewCanvas) show(img image.Image, src image.Point, msg string) {
	c.src = src
	if img == nil {
		c.img.Hide()
		c.msg.Text = msg
		c.msg.Show()
	} else {
		c.img.Image = img
		c.img.Show()
		c.msg.Hide()
	}
	c.img.Refresh()
	c.Refresh()
}

// setBoxes shows boxes, box selected highlighted, and the mistake
// marked (nil: none).
func (c *reviewCanvas) setBoxes(boxes []review.Box, selected int, marked *[4]float64) {
	c.boxes, c.selected, c.marked = boxes, selected, marked
	for len(c.shapes) < len(boxes) {
		s := boxShape{frame: canvas.NewRectangle(color.Transparent), tab: canvas.NewRectangle(color.Transparent),
			text: canvas.NewText("", labelInk)}
		s.text.TextSize = labelTextSize
		s.text.TextStyle = fyne.TextStyle{Bold: true}
		c.shapes = append(c.shapes, s)
	}
	c.Refresh()
}

// labelTextSize is the size of the boxes' labels.
const labelTextSize = 11

func (c *reviewCanvas) CreateRenderer() fyne.WidgetRenderer { return &reviewRenderer{c: c} }

func (c *reviewCanvas) MinSize() fyne.Size { return fyne.NewSize(320, 200) }

// toWidget maps a point in pixels to the widget, and toPixels back
// (clamped to the picture).
func (c *reviewCanvas) toWidget(x, y float64) fyne.Position {
	pos, size := fitContain(c.Size(), c.src)
	if c.src.X == 0 || c.src.Y == 0 {
		return pos
	}
	return fyne.NewPos(pos.X+float32(x)*size.Width/float32(c.src.X), pos.Y+float32(y)*size.Height/float32(c.src.Y))
}

func (c *reviewCanvas) toPixels(p fyne.Position) (float64, float64) {
	pos, size := fitContain(c.Size(), c.src)
	if size.Width == 0 || size.Height == 0 {
		return 0, 0
	}
	x := float64((p.X - pos.X) / size.Width * float32(c.src.X))
	y := float64((p.Y - pos.Y) / size.Height * float32(c.src.Y))
	return min(max(x, 0), float64(c.src.X)), min(max(y, 0), float64(c.src.Y))
}

// Tapped picks the smallest box under the pointer, or none.
func (c *reviewCanvas) Tapped(e *fyne.PointEvent) {
	x, y := c.toPixels(e.Position)
	best, area := -1, 0.0
	for i, b := range c.boxes {
		bb := b.BBox
		if x >= bb[0] && x <= bb[0]+bb[2] && y >= bb[1] && y <= bb[1]+bb[3] && (best < 0 || bb[2]*bb[3] < area) {
			best, area = i, bb[2]*bb[3]
		}
	}
	c.focus()
	if c.onSelect != nil {
		c.onSelect(best)
	}
}

// Dragged draws the new box while the user drags.
func (c *reviewCanvas) Dragged(e *fyne.DragEvent) {
	if !c.dragging {
		c.dragging = true
		c.dragFrom = e.Position.Subtract(e.Dragged)
	}
	c.dragTo = e.Position
	a, b := c.dragFrom, c.dragTo
	c.drag.Move(fyne.NewPos(min(a.X, b.X), min(a.Y, b.Y)))
	c.drag.Resize(fyne.NewSize(abs32(a.X-b.X), abs32(a.Y-b.Y)))
	c.drag.Show()
	c.drag.Refresh()
}

// DragEnd turns the drag into a box in pixels; a tiny one is a slip.
func (c *reviewCanvas) DragEnd() {
	c.dragging = false
	c.drag.Hide()
	x1, y1 := c.toPixels(c.dragFrom)
	x2, y2 := c.toPixels(c.dragTo)
	bb := [4]float64{min(x1, x2), min(y1, y2), abs64(x2 - x1), abs64(y2 - y1)}
	c.focus()
	if bb[2] >= 4 && bb[3] >= 4 && c.onDraw != nil {
		c.onDraw(bb)
	}
}

func abs64(v float64) float64 { return max(v, -v) }

// focus takes the keyboard, so that a reviewer never reaches for the mouse.
func (c *reviewCanvas) focus() {
	if cv := fyne.CurrentApp().Driver().CanvasForObject(c); cv != nil {
		cv.Focus(c)
	}
}

func (c *reviewCanvas) FocusGained() { c.focused = true; c.ring.Show(); c.ring.Refresh() }
func (c *reviewCanvas) FocusLost()   { c.focused = false; c.ring.Hide(); c.ring.Refresh() }

// TypedRune and TypedKey hand the keyboard to the panel.
func (c *reviewCanvas) TypedRune(r rune) {
	if c.onRune != nil {
		c.onRune(r)
	}
}

func (c *reviewCanvas) TypedKey(e *fyne.KeyEvent) {
	if c.onKey != nil {
		c.onKey(e)
	}
}

type reviewRenderer struct{ c *reviewCanvas }

func (r *reviewRenderer) Layout(size fyne.Size) {
	c := r.c
	c.bg.Resize(size)
	c.img.Resize(size)
	c.ring.Resize(size)
	c.msg.Resize(fyne.NewSize(size.Width, c.msg.MinSize().Height))
	c.msg.Move(fyne.NewPos(0, (size.Height-c.msg.MinSize().Height)/2))
	for i, s := range c.shapes {
		if i >= len(c.boxes) || c.src.X == 0 {
			s.frame.Hide()
			s.tab.Hide()
			s.text.Hide()
			continue
		}
		r.layoutBox(s, c.boxes[i], i == c.selected)
	}
	c.mark.Hide()
	if m := c.marked; m != nil && c.src.X > 0 {
		a, b := c.toWidget(m[0], m[1]), c.toWidget(m[0]+m[2], m[1]+m[3])
		c.mark.Move(a.Subtract(fyne.NewPos(3, 3)))
		c.mark.Resize(fyne.NewSize(b.X-a.X+6, b.Y-a.Y+6))
		c.mark.Show()
	}
}

// layoutBox places one box and its label; the selected box is thicker
// and tinted.
func (r *reviewRenderer) layoutBox(s boxShape, b review.Box, selected bool) {
	c := r.c
	col := overlay.ClassColor(b.Name)
	a, z := c.toWidget(b.BBox[0], b.BBox[1]), c.toWidget(b.BBox[0]+b.BBox[2], b.BBox[1]+b.BBox[3])
	s.frame.StrokeColor, s.frame.StrokeWidth, s.frame.FillColor = col, 2, color.Transparent
	if selected {
		s.frame.StrokeWidth = 4
		s.frame.FillColor = color.NRGBA{col.R, col.G, col.B, 0x40}
	}
	s.frame.Move(a)
	s.frame.Resize(fyne.NewSize(z.X-a.X, z.Y-a.Y))
	s.text.Text = b.Name
	if b.Confidence > 0 {
		s.text.Text = fmt.Sprintf("%s %.2f", b.Name, b.Confidence)
	}
	ts := s.text.MinSize()
	top := a.Y - ts.Height - 2
	if top < 0 {
		top = a.Y // no room above: inside the box
	}
	s.tab.FillColor = col
	s.tab.Move(fyne.NewPos(a.X, top))
	s.tab.Resize(fyne.NewSize(ts.Width+6, ts.Height+2))
	s.text.Move(fyne.NewPos(a.X+3, top+1))
	s.text.Resize(ts)
	for _, o := range []fyne.CanvasObject{s.frame, s.tab, s.text} {
		o.Show()
		o.Refresh()
	}
}

func (r *reviewRenderer) MinSize() fyne.Size { return r.c.MinSize() }
func (r *reviewRenderer) Refresh() {
	r.Layout(r.c.Size())
	r.c.img.Refresh()
	r.c.mark.Refresh()
}

func (r *reviewRenderer) Objects() []fyne.CanvasObject {
	c := r.c
	objs := []fyne.CanvasObject{c.bg, c.img, c.msg}
	for _, s := range c.shapes {
		objs = append(objs, s.frame)
	}
	for _, s := range c.shapes {
		objs = append(objs, s.tab, s.text)
	}
	return append(objs, c.mark, c.drag, c.ring)
}
func (r *reviewRenderer) Destroy() {}
