package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// liveView shows the video scaled to fit, keeping its aspect ratio, and
// lets the user drag a region for the OCR and Custom Vision panels. It owns
// one canvas.Image whose picture is swapped, never a new object per frame.
type liveView struct {
	widget.BaseWidget
	img *canvas.Image
	// display makes the pictures (follow); nil in tests of the view alone.
	display *display
	// probe is a transparent pixel refreshed with each picture: Fyne
	// generates it while it paints that picture, which tells the display
	// when its frame reached the screen.
	probe *canvas.Raster
	sel   *canvas.Rectangle
	bg    *canvas.Rectangle
	// msg is said over an empty view: what is being opened, or why there
	// is no signal.
	msg *canvas.Text

	dragFrom, dragTo fyne.Position
	dragging         bool
	region           image.Rectangle // in source pixels; empty: whole frame
	onRegion         func(image.Rectangle)
	// edit, while active, takes the mouse to draw the scene.
	edit *sceneEditor
}

func newLiveView() *liveView {
	v := &liveView{
		img: canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9))),
		sel: canvas.NewRectangle(color.NRGBA{0x29, 0xb6, 0xf6, 0x30}),
		bg:  canvas.NewRectangle(color.NRGBA{0x10, 0x12, 0x16, 0xff}),
		msg: canvas.NewText("", color.NRGBA{0xe6, 0xea, 0xf0, 0xff}),
	}
	clear := image.NewRGBA(image.Rect(0, 0, 1, 1))
	v.probe = canvas.NewRaster(func(int, int) image.Image {
		if v.display != nil {
			v.display.paintedNow()
		}
		return clear
	})
	v.msg.Alignment = fyne.TextAlignCenter
	v.msg.TextStyle = fyne.TextStyle{Bold: true}
	v.msg.Hide()
	v.img.FillMode = canvas.ImageFillContain
	// Fastest leaves scaling to the GPU (linear filtering); the smooth
	// modes rescale every frame on the CPU.
	v.img.ScaleMode = canvas.ImageScaleFastest
	v.sel.StrokeColor = color.NRGBA{0x29, 0xb6, 0xf6, 0xff}
	v.sel.StrokeWidth = 2
	v.sel.Hide()
	v.ExtendBaseWidget(v)
	return v
}

// follow shows d's pictures, made at the view's size in pixels.
func (v *liveView) follow(d *display) {
	v.display = d
	d.show = func(img *image.RGBA) { v.setImage(img) }
}

// setImage swaps the picture on screen; UI thread only.
func (v *liveView) setImage(img image.Image) {
	if v.msg.Visible() {
		v.msg.Hide()
		v.img.Show()
	}
	v.img.Image = img
	v.img.Refresh()
	v.probe.Refresh()
}

// clear takes the picture off (it belonged to another source) and says
// msg instead; UI thread only.
func (v *liveView) clear(msg string) {
	v.img.Hide()
	v.clearRegion()
	v.say(msg)
}

// say changes the message over an empty view; a view with a picture keeps
// it. UI thread only.
func (v *liveView) say(msg string) {
	if v.img.Visible() {
		return
	}
	v.msg.Text = msg
	v.msg.Show()
	v.msg.Refresh()
}

func (v *liveView) CreateRenderer() fyne.WidgetRenderer {
	return &liveRenderer{v: v}
}

func (v *liveView) MinSize() fyne.Size { return fyne.NewSize(320, 180) }

// picture is where the picture is drawn inside the widget, its size, and
// the size of the frame it shows in source pixels (the picture itself may
// be smaller: the display makes it at the view's size).
func (v *liveView) picture() (pos fyne.Position, size fyne.Size, src image.Point) {
	if v.img.Image == nil {
		return fyne.Position{}, v.Size(), image.Point{}
	}
	src = v.img.Image.Bounds().Size()
	if v.display != nil {
		if frame := v.display.onScreenFrame(); frame != (image.Point{}) {
			src = frame
		}
	}
	pos, size = fitContain(v.Size(), src)
	return pos, size, src
}

// pixels is size in the screen's pixels; zero while the view is on no
// canvas.
func (v *liveView) pixels(size fyne.Size) image.Point {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return image.Point{}
	}
	x, y := c.PixelCoordinateForPosition(fyne.NewPos(size.Width, size.Height))
	return image.Pt(x, y)
}

// fitContain is where a picture of src pixels is drawn in area, scaled to
// fit and centred (canvas.ImageFillContain).
func fitContain(area fyne.Size, src image.Point) (fyne.Position, fyne.Size) {
	w, h := area.Width, area.Height
	if src.X == 0 || src.Y == 0 || w == 0 || h == 0 {
		return fyne.Position{}, area
	}
	scale := min(w/float32(src.X), h/float32(src.Y))
	size := fyne.NewSize(float32(src.X)*scale, float32(src.Y)*scale)
	return fyne.NewPos((w-size.Width)/2, (h-size.Height)/2), size
}

// toSource maps a widget position to source pixels, clamped to the picture.
func (v *liveView) toSource(p fyne.Position) image.Point {
	pos, size, src := v.picture()
	if size.Width == 0 || size.Height == 0 {
		return image.Point{}
	}
	x := int((p.X - pos.X) / size.Width * float32(src.X))
	y := int((p.Y - pos.Y) / size.Height * float32(src.Y))
	return image.Pt(min(max(x, 0), src.X), min(max(y, 0), src.Y))
}

// editing reports whether the mouse draws the scene rather than select.
func (v *liveView) editing() bool { return v.edit != nil && v.edit.active }

// Dragged draws the selection rectangle while the user drags.
func (v *liveView) Dragged(e *fyne.DragEvent) {
	if v.editing() {
		v.edit.dragged(e)
		return
	}
	if !v.dragging {
		v.dragging = true
		v.dragFrom = e.Position.Subtract(e.Dragged)
	}
	v.dragTo = e.Position
	v.layoutSelection()
	v.sel.Show()
}

// DragEnd turns the selection into a region of the source.
func (v *liveView) DragEnd() {
	if v.editing() {
		v.edit.dragEnd()
		return
	}
	v.dragging = false
	r := image.Rectangle{Min: v.toSource(v.dragFrom), Max: v.toSource(v.dragTo)}.Canon()
	if r.Dx() < 8 || r.Dy() < 8 {
		v.clearRegion()
		return
	}
	v.region = r
	if v.onRegion != nil {
		v.onRegion(r)
	}
}

// Tapped clears the selection: the panels read the whole frame again.
func (v *liveView) Tapped(e *fyne.PointEvent) {
	if v.editing() {
		v.edit.tapped(e)
		return
	}
	v.clearRegion()
}

func (v *liveView) clearRegion() {
	v.region = image.Rectangle{}
	v.sel.Hide()
	if v.onRegion != nil {
		v.onRegion(image.Rectangle{})
	}
}

// layoutSelection places the selection rectangle from the source region,
// so it follows the picture when the window is resized.
func (v *liveView) layoutSelection() {
	if v.dragging {
		a, b := v.dragFrom, v.dragTo
		v.sel.Move(fyne.NewPos(min(a.X, b.X), min(a.Y, b.Y)))
		v.sel.Resize(fyne.NewSize(abs32(a.X-b.X), abs32(a.Y-b.Y)))
		return
	}
	if v.region.Empty() {
		return
	}
	pos, size, src := v.picture()
	if src.X == 0 || src.Y == 0 {
		return
	}
	sx, sy := size.Width/float32(src.X), size.Height/float32(src.Y)
	v.sel.Move(fyne.NewPos(pos.X+float32(v.region.Min.X)*sx, pos.Y+float32(v.region.Min.Y)*sy))
	v.sel.Resize(fyne.NewSize(float32(v.region.Dx())*sx, float32(v.region.Dy())*sy))
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

type liveRenderer struct{ v *liveView }

func (r *liveRenderer) Layout(size fyne.Size) {
	r.v.bg.Resize(size)
	r.v.img.Resize(size)
	r.v.probe.Resize(fyne.NewSize(1, 1))
	if r.v.display != nil {
		r.v.display.fitTo(r.v.pixels(size))
	}
	if r.v.edit != nil {
		r.v.edit.layer.Resize(size)
		r.v.edit.refresh() // the handles follow the picture
	}
	r.v.msg.Resize(fyne.NewSize(size.Width, r.v.msg.MinSize().Height))
	r.v.msg.Move(fyne.NewPos(0, (size.Height-r.v.msg.MinSize().Height)/2))
	r.v.layoutSelection()
}

func (r *liveRenderer) MinSize() fyne.Size { return r.v.MinSize() }
func (r *liveRenderer) Refresh() {
	r.Layout(r.v.Size())
	r.v.sel.Refresh()
	r.v.img.Refresh()
}
func (r *liveRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.v.bg, r.v.img, r.v.probe, r.v.sel, r.v.msg}
	if r.v.edit != nil {
		objs = append(objs, r.v.edit.layer)
	}
	return objs
}
func (r *liveRenderer) Destroy() {}
