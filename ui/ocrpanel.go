package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/contract"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/internal/text"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/overlay"
)

// ocrLanguage is reported in results when the user did not choose one, as
// the `ocr` command does.
const ocrLanguage = "en"

// snapshotSource gives the panels a frozen frame: a copy of the newest
// frame, cropped to the dragged region when there is one.
type snapshotSource interface {
	Frame(region image.Rectangle) (gocv.Mat, int64, bool)
}

// backendPicker resolves the backend chosen in a panel ("Local"/"Azure")
// to an analyzer, or explains why it is not available.
type backendPicker func(label string) (analyzer.Analyzer, error)

// ocrPanel freezes a frame, reads it off the UI thread and shows the lines
// on the picture and as a list.
type ocrPanel struct {
	content fyne.CanvasObject
	win     fyne.Window
	frames  snapshotSource
	pick    backendPicker
	region  image.Rectangle
	ctx     context.Context

	img      *canvas.Image
	list     *widget.List
	status   *widget.Label
	progress *widget.ProgressBarInfinite
	keywords *widget.Entry
	backend  *widget.RadioGroup
	readBtn  *widget.Button
	copyLine *widget.Button
	exports  []*widget.Button

	mat      gocv.Mat    // the part of the frame read, owned by the UI thread
	origin   image.Point // where mat's top left is in the frame
	result   contract.OCRResult
	source   string
	input    string
	selected int
	busy     bool
	// lastRead is the text read last, for Document mode's Auto.
	lastRead textRead

	// doc is Document mode, and mode switches to it; nil without it.
	doc  *docPanel
	mode *widget.RadioGroup

	onKeywords func([]string)
}

// textRead is the text read of a region of a frame (empty: all of it).
type textRead struct {
	seq    int64
	region image.Rectangle
	r      *analyzer.ReadResult
}

// The modes of the panel.
const (
	modeText     = "Text"
	modeDocument = "Document"
)

func newOCRPanel(ctx context.Context, win fyne.Window, frames snapshotSource, pick backendPicker, keywords []string, cloud bool) *ocrPanel {
	o := &ocrPanel{ctx: ctx, win: win, frames: frames, pick: pick, selected: -1}
	o.img = canvas.NewImageFromImage(placeholder())
	o.img.FillMode = canvas.ImageFillContain
	o.img.SetMinSize(fyne.NewSize(200, 150))
	o.status = widget.NewLabel("Press O or “Read frame” to read the text in the current frame. Drag on the video to read a region.")
	o.status.Wrapping = fyne.TextWrapWord
	o.progress = widget.NewProgressBarInfinite()
	o.progress.Stop()
	o.progress.Hide()

	o.keywords = widget.NewEntry()
	o.keywords.SetText(strings.Join(keywords, ", "))
	o.keywords.OnChanged = func(string) {
		o.render()
		o.list.Refresh()
		if o.onKeywords != nil {
			o.onKeywords(text.SplitList(o.keywords.Text))
		}
	}
	o.backend = widget.NewRadioGroup([]string{"Local", "Azure"}, nil)
	o.backend.Horizontal = true
	o.backend.Required = true
	o.backend.SetSelected("Local")
	if cloud {
		o.backend.SetSelected("Azure")
	}

	o.list = widget.NewList(
		func() int { return len(o.result.StructuredData) },
		func() fyne.CanvasObject {
			bg := canvas.NewRectangle(color.Transparent)
			bg.CornerRadius = 4
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewStack(bg, l)
		},
		func(i widget.ListItemID, obj fyne.CanvasObject) {
			st := obj.(*fyne.Container)
			bg, l := st.Objects[0].(*canvas.Rectangle), st.Objects[1].(*widget.Label)
			line := o.result.StructuredData[i]
			l.SetText(line.Text)
			fill := color.Color(color.Transparent)
			l.TextStyle.Bold = false
			if o.filter().Highlighted(line.Text) {
				fill = color.NRGBA{overlay.HighlightColor.R, overlay.HighlightColor.G, overlay.HighlightColor.B, 0x50}
				l.TextStyle.Bold = true
			}
			if bg.FillColor != fill {
				bg.FillColor = fill
				bg.Refresh()
			}
			l.Refresh()
		})
	o.list.OnSelected = func(id widget.ListItemID) {
		o.selected = id
		o.copyLine.Enable()
		o.render()
	}
	o.list.OnUnselected = func(widget.ListItemID) {
		o.selected = -1
		o.copyLine.Disable()
		o.render()
	}

	o.readBtn = widget.NewButtonWithIcon("Read frame", theme.SearchIcon(), o.read)
	o.readBtn.Importance = widget.HighImportance
	o.copyLine = widget.NewButtonWithIcon("Copy line", theme.ContentCopyIcon(), func() {
		if o.selected >= 0 && o.selected < len(o.result.StructuredData) {
			o.copy(o.result.StructuredData[o.selected].Text)
		}
	})
	o.copyLine.Disable()
	copyAll := widget.NewButtonWithIcon("Copy all", theme.ContentCopyIcon(), func() { o.copy(o.result.FullText) })
	exportJSON := widget.NewButtonWithIcon("JSON…", theme.DocumentSaveIcon(), func() { o.export("json", o.writeJSON) })
	exportTXT := widget.NewButtonWithIcon("TXT…", theme.DocumentSaveIcon(), func() { o.export("txt", o.writeTXT) })
	o.exports = []*widget.Button{copyAll, exportJSON, exportTXT}
	for _, b := range o.exports {
		b.Disable()
	}

	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, o.backend, o.readBtn),
		container.NewBorder(nil, nil, widget.NewLabel("Highlight"), nil, o.keywords),
		o.progress, o.status)
	actions := container.NewGridWithColumns(2, o.copyLine, copyAll, exportJSON, exportTXT)
	split := container.NewVSplit(o.img, o.list)
	split.Offset = 0.45
	o.content = container.NewBorder(top, actions, nil, nil, split)
	return o
}

// withDocuments adds Document mode, and a switch at the panel's top
// between reading the text and reading a document's fields. Leaving
// Document mode cancels its analysis.
func (o *ocrPanel) withDocuments(d *docPanel) {
	o.doc = d
	d.known = o.textOf
	reading := o.content
	d.content.Hide()
	o.mode = choice([]string{modeText, modeDocument}, modeText, func(m string) {
		if m == modeDocument {
			reading.Hide()
			d.content.Show()
			return
		}
		d.cancelRun("Cancelled: left Document mode.")
		d.content.Hide()
		reading.Show()
	})
	o.content = container.NewBorder(o.mode, nil, nil, nil, container.NewStack(reading, d.content))
}

// act is the O key: read the text, or the document in Document mode.
func (o *ocrPanel) act() {
	if o.doc != nil && o.mode.Selected == modeDocument {
		o.doc.analyze()
		return
	}
	o.read()
}

// textOf is the text read of the region of frame seq, nil when it has not
// been read.
func (o *ocrPanel) textOf(seq int64, region image.Rectangle) *analyzer.ReadResult {
	if o.lastRead.r == nil || o.lastRead.seq != seq || o.lastRead.region != region {
		return nil
	}
	return o.lastRead.r
}

// setRegion is told about the region dragged on the video.
func (o *ocrPanel) setRegion(r image.Rectangle) {
	o.region = r
	o.readBtn.SetText(actionOn("Read", r))
	if o.doc != nil {
		o.doc.setRegion(r)
	}
}

// actionOn labels a panel's button: the whole frame, or the region
// dragged on the video.
func actionOn(verb string, r image.Rectangle) string {
	if r.Empty() {
		return verb + " frame"
	}
	return fmt.Sprintf("%s selection %d×%d", verb, r.Dx(), r.Dy())
}

func (o *ocrPanel) filter() overlay.Filter {
	return overlay.Filter{Highlight: text.SplitList(o.keywords.Text)}
}

// read freezes the frame and reads it on a goroutine; the UI stays live.
func (o *ocrPanel) read() {
	if o.busy {
		return
	}
	a, err := o.pick(o.backend.Selected)
	if err != nil {
		o.status.SetText(err.Error())
		return
	}
	frame, seq, ok := o.frames.Frame(image.Rectangle{})
	if !ok {
		o.status.SetText("No picture yet.")
		return
	}
	region := o.region.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	input := frameInput(seq, region)
	o.busy = true
	o.readBtn.Disable()
	o.progress.Show()
	o.progress.Start()
	o.status.SetText(fmt.Sprintf("Reading %s with %s…", input, o.backend.Selected))
	// The goroutine owns frame; it hands the part read to show, which
	// keeps it for drawing.
	go func() {
		defer frame.Close()
		res, err := analyzer.AnalyzeRegion(o.ctx, a, frame, region, analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}})
		var shown gocv.Mat
		if err == nil {
			shown = mats.Crop(frame, region)
		}
		onUI(func() {
			defer func() { o.busy = false }() // last: tests wait on it
			o.readBtn.Enable()
			o.progress.Stop()
			o.progress.Hide()
			if err != nil {
				o.status.SetText("Reading failed: " + text.OneLine(err.Error(), 90))
				return
			}
			o.show(shown, region.Min, res.ReadResult, a.Name(), input)
			o.lastRead = textRead{seq: seq, region: region, r: res.ReadResult}
		})
	}()
}

// frameInput names what a panel read, as its exports' `input`.
func frameInput(seq int64, region image.Rectangle) string {
	input := fmt.Sprintf("frame %d", seq)
	if !region.Empty() {
		input += fmt.Sprintf(" region %d,%d %dx%d", region.Min.X, region.Min.Y, region.Dx(), region.Dy())
	}
	return input
}

// show displays a read result, in frame coordinates, over m, the part of
// the frame read, whose top left is at origin in the frame. It takes
// ownership of m; UI thread.
func (o *ocrPanel) show(m gocv.Mat, origin image.Point, r *analyzer.ReadResult, source, input string) {
	if o.mat.Ptr() != nil {
		o.mat.Close()
	}
	o.mat, o.origin, o.source, o.input = m, origin, source, input
	o.result = contract.NewOCRResult(r, ocrLanguage)
	o.selected = -1
	o.list.UnselectAll()
	o.list.Refresh()
	o.copyLine.Disable()
	for _, b := range o.exports {
		b.Enable()
	}
	o.status.SetText(fmt.Sprintf("%d lines, %d words from %s (%s).", len(o.result.StructuredData), o.result.TotalWords, input, source))
	o.render()
}

// render draws the frozen frame with the line polygons, keyword lines
// filled, and the selected line framed.
func (o *ocrPanel) render() {
	if o.mat.Ptr() == nil || o.mat.Empty() {
		return
	}
	draw := o.mat.Clone()
	defer draw.Close()
	lines := make([]analyzer.Line, len(o.result.StructuredData))
	for i, l := range o.result.StructuredData {
		lines[i] = analyzer.Line{Text: l.Text, BoundingPolygon: slices.Clone(l.BoundingPolygon)}
	}
	shown := &analyzer.Analysis{ReadResult: &analyzer.ReadResult{Blocks: []analyzer.Block{{Lines: lines}}}}
	shown.Offset(image.Point{}.Sub(o.origin)) // frame coordinates to the part shown
	overlay.Draw(&draw, shown, o.filter())
	if o.selected >= 0 && o.selected < len(lines) {
		r := polygonBounds(lines[o.selected].BoundingPolygon).Inset(-4)
		gocv.Rectangle(&draw, r, selectionColor, 3)
	}
	o.img.Image = toRGBA(draw, nil, nil)
	o.img.Refresh()
}

var selectionColor = color.RGBA{41, 182, 246, 255}

func polygonBounds(pts []analyzer.Point) image.Rectangle {
	if len(pts) == 0 {
		return image.Rectangle{}
	}
	r := image.Rect(pts[0].X, pts[0].Y, pts[0].X, pts[0].Y)
	for _, p := range pts[1:] {
		r = r.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
	}
	return r
}

func (o *ocrPanel) copy(text string) {
	fyne.CurrentApp().Clipboard().SetContent(text)
	o.status.SetText(fmt.Sprintf("Copied %d characters.", len(text)))
}

// resultLine is one line of the `ocr` and `document` commands' output.
type resultLine struct {
	Input     string   `json:"input"`
	Success   bool     `json:"success"`
	Source    string   `json:"source"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Data      any      `json:"data"`
}

func (o *ocrPanel) writeJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(resultLine{Input: o.input, Success: true, Source: o.source, Data: o.result})
}

func (o *ocrPanel) writeTXT(w io.Writer) error {
	_, err := io.WriteString(w, o.result.FullText+"\n")
	return err
}

// export asks where to save and writes the result there.
func (o *ocrPanel) export(ext string, write func(io.Writer) error) {
	saveFile(o.win, "sightline-ocr."+ext, write, func(path string) { o.status.SetText("Saved " + path) })
}

// saveFile asks where to save a file named like name, writes it there and
// tells saved where it went; a failure is shown in a dialog.
func saveFile(win fyne.Window, name string, write func(io.Writer) error, saved func(path string)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		werr := write(wc)
		if cerr := wc.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			dialog.ShowError(werr, win)
			return
		}
		saved(wc.URI().Path())
	}, win)
	d.SetFileName(name)
	d.SetFilter(storage.NewExtensionFileFilter([]string{filepath.Ext(name)}))
	d.Show()
}

func (o *ocrPanel) close() {
	if o.doc != nil {
		o.doc.close()
	}
	if o.mat.Ptr() != nil {
		o.mat.Close()
		o.mat = gocv.Mat{}
	}
}

// placeholder is the picture of a panel that has read nothing yet.
func placeholder() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 9))
	for i := range img.Pix {
		img.Pix[i] = 0x20
	}
	return img
}

// toRGBA converts a BGR Mat for canvas.Image, into dst when it has the
// right size (a new image otherwise); tmp is scratch space (nil: a
// temporary Mat).
func toRGBA(m gocv.Mat, dst *image.RGBA, tmp *gocv.Mat) *image.RGBA {
	if tmp == nil {
		t := gocv.NewMat()
		defer t.Close()
		tmp = &t
	} else if tmp.Ptr() == nil {
		*tmp = gocv.NewMat()
	}
	gocv.CvtColor(m, tmp, gocv.ColorBGRToRGBA)
	if dst == nil || dst.Rect.Dx() != m.Cols() || dst.Rect.Dy() != m.Rows() {
		dst = image.NewRGBA(image.Rect(0, 0, m.Cols(), m.Rows()))
	}
	if pix, err := tmp.DataPtrUint8(); err == nil {
		copy(dst.Pix, pix)
	}
	return dst
}
