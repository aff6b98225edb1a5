package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
)

// Confidence grades of a field, as the form colours them.
var (
	confidentColour = color.RGBA{0, 200, 83, 255}    // 0.8 and over
	doubtfulColour  = color.RGBA{255, 171, 0, 255}   // 0.5 to 0.8
	unsureColour    = color.RGBA{244, 67, 54, 255}   // under 0.5
	noConfColour    = color.RGBA{158, 158, 158, 255} // the service gave none
)

// confidenceColour grades a field's confidence.
func confidenceColour(c *float64) color.RGBA {
	switch {
	case c == nil:
		return noConfColour
	case *c >= 0.8:
		return confidentColour
	case *c >= 0.5:
		return doubtfulColour
	}
	return unsureColour
}

func confidenceText(c *float64) string {
	if c == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", *c)
}

// formValue is a field's value on one line.
func formValue(f analyzer.DocumentField) string {
	return strings.Join(strings.Fields(f.Text()), " ")
}

// fieldRow is one line of the form: the field's name, its value, and its
// confidence on the confidence's colour.
type fieldRow struct {
	widget.BaseWidget
	name, value *widget.Label
	chip        *canvas.Rectangle
	conf        *canvas.Text
}

func newFieldRow() *fieldRow {
	r := &fieldRow{name: widget.NewLabel(""), value: widget.NewLabel(""),
		chip: canvas.NewRectangle(noConfColour), conf: canvas.NewText("", color.RGBA{0x10, 0x10, 0x10, 255})}
	r.name.TextStyle.Bold = true
	r.name.Truncation, r.value.Truncation = fyne.TextTruncateEllipsis, fyne.TextTruncateEllipsis
	r.chip.CornerRadius = 6
	r.chip.SetMinSize(fyne.NewSize(52, 26))
	r.conf.TextStyle.Bold = true
	r.conf.Alignment = fyne.TextAlignCenter
	r.ExtendBaseWidget(r)
	return r
}

func (r *fieldRow) CreateRenderer() fyne.WidgetRenderer {
	chip := container.NewCenter(container.NewStack(r.chip, container.NewCenter(r.conf)))
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, nil, chip, container.NewGridWithColumns(2, r.name, r.value)))
}

func (r *fieldRow) set(name string, f analyzer.DocumentField) {
	r.name.SetText(name)
	r.value.SetText(formValue(f))
	r.chip.FillColor = confidenceColour(f.Confidence)
	r.conf.Text = confidenceText(f.Confidence)
	r.chip.Refresh()
	r.conf.Refresh()
}

// newFieldList is the form of the document's fields; selecting one
// outlines it on the picture.
func (d *docPanel) newFieldList() *widget.List {
	l := widget.NewList(
		func() int { return len(d.names) },
		func() fyne.CanvasObject { return newFieldRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			name := d.names[i]
			o.(*fieldRow).set(name, d.doc.Fields[name])
		})
	l.OnSelected = func(i widget.ListItemID) {
		d.items.UnselectAll()
		f := d.doc.Fields[d.names[i]]
		d.selectField(&f)
	}
	l.OnUnselected = func(widget.ListItemID) { d.selectField(nil) }
	return l
}

// newItemsTable is the line items, one row an item under a header of
// their field names; selecting a cell outlines it on the picture.
func (d *docPanel) newItemsTable() *widget.Table {
	t := widget.NewTable(
		func() (int, int) {
			if d.doc == nil {
				return 0, 0
			}
			return len(d.doc.Items), len(d.itemNames)
		},
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(formValue(d.doc.Items[id.Row][d.itemNames[id.Col]]))
		})
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.TextStyle.Bold = true
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(d.itemNames) {
			o.(*widget.Label).SetText(d.itemNames[id.Col])
		}
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Col < 0 {
			return
		}
		d.fields.UnselectAll()
		f, ok := d.doc.Items[id.Row][d.itemNames[id.Col]]
		if !ok {
			d.selectField(nil)
			return
		}
		d.selectField(&f)
	}
	t.OnUnselected = func(widget.TableCellID) { d.selectField(nil) }
	return t
}

// columnWidth gives descriptions room; amounts and counts are short.
func columnWidth(name string) float32 {
	if strings.Contains(name, "Description") || strings.Contains(name, "Name") {
		return 180
	}
	return 110
}
