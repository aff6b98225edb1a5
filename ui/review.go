package ui

import (
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/review"
	"github.com/sightline/sightline/internal/text"
)

// reviewKeys is the help line: a reviewer does hundreds of frames, with
// the keyboard.
const reviewKeys = "←/→ frame · ↑/↓ box · 1–9 class · drag to draw · Del delete · Enter accept · R reject · N next to review"

// maxReviewSide bounds the picture shown (the boxes keep the frame's own
// pixels): a 4000-pixel photo need not become a 4000-pixel texture.
const maxReviewSide = 1600

// reviewPanel steps through the frames of a capture folder with their
// boxes, to accept (into the dataset), reject, relabel, draw or delete.
type reviewPanel struct {
	content fyne.CanvasObject
	win     fyne.Window

	s       *review.Session
	cur     int // the frame shown; -1: none
	sel     int // the box selected; -1: none
	class   string
	classes []string
	// modelClasses adds the classes of the model in use (a Custom Vision
	// export's labels) to the session's.
	modelClasses func() []string
	marked       *[4]float64 // a mistake to point at, on the frame shown
	markNote     string

	canvas       *reviewCanvas
	datasetPath  *widget.Entry
	imagesDir    *widget.Entry
	status, info *widget.Label
	classEntry   *widget.SelectEntry
	classHint    *widget.Label
	boxList      *widget.List
	problem      *widget.Label

	onSaved func() // the dataset changed on disk
}

func newReviewPanel(win fyne.Window, datasetPath, imagesDir string) *reviewPanel {
	r := &reviewPanel{win: win, cur: -1, sel: -1}
	r.canvas = newReviewCanvas()
	r.canvas.onSelect = func(i int) { r.sel = i; r.refreshBoxes() }
	r.canvas.onDraw = r.drawBox
	r.canvas.onKey = r.key
	r.canvas.onRune = r.typed
	r.datasetPath = entry(datasetPath, "dataset.json (COCO), created on the first accept")
	r.imagesDir = entry(imagesDir, "folder of the captures and the dataset's images")
	browse := widget.NewButton("…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				r.imagesDir.SetText(u.Path())
				r.datasetPath.SetText(filepath.Join(u.Path(), "dataset.json"))
				r.openEntered()
			}
		}, win)
	})
	openBtn := widget.NewButtonWithIcon("Open", theme.FolderOpenIcon(), r.openEntered)
	form := widget.NewForm(
		widget.NewFormItem("Dataset", r.datasetPath),
		widget.NewFormItem("Images", container.NewBorder(nil, nil, nil, container.NewHBox(browse, openBtn), r.imagesDir)))

	r.status = widget.NewLabel("Open a capture folder.")
	r.status.TextStyle = fyne.TextStyle{Bold: true}
	r.info = widget.NewLabel("")
	r.info.Truncation = fyne.TextTruncateEllipsis
	r.problem = widget.NewLabel("")
	r.problem.Importance = widget.DangerImportance
	r.problem.Wrapping = fyne.TextWrapWord
	r.problem.Hide()

	r.classEntry = widget.NewSelectEntry(nil)
	r.classEntry.SetPlaceHolder("class of the box (type a new one)")
	r.classEntry.OnChanged = r.classPicked
	r.classEntry.OnSubmitted = func(name string) {
		r.setClass(name)
		r.canvas.focus() // back to the keyboard review
	}
	r.classHint = widget.NewLabel("")
	r.classHint.Importance = widget.LowImportance
	r.classHint.Truncation = fyne.TextTruncateEllipsis
	r.boxList = widget.NewList(
		func() int { return len(r.boxes()) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(boxText(i, r.boxes()[i])) })
	r.boxList.OnSelected = func(i widget.ListItemID) {
		if r.sel != i {
			r.sel = i
			r.refreshBoxes()
		}
		r.canvas.focus()
	}

	prev := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { r.step(-1) })
	next := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { r.step(1) })
	accept := widget.NewButtonWithIcon("Accept ⏎", theme.ConfirmIcon(), r.accept)
	accept.Importance = widget.HighImportance
	reject := widget.NewButtonWithIcon("Reject (R)", theme.CancelIcon(), r.reject)
	del := widget.NewButtonWithIcon("Delete box", theme.DeleteIcon(), r.deleteBox)
	export := widget.NewButtonWithIcon("YOLO…", theme.DocumentSaveIcon(), r.exportYOLO)
	keys := widget.NewLabel(reviewKeys)
	keys.Importance = widget.LowImportance
	keys.Truncation = fyne.TextTruncateEllipsis

	side := container.NewBorder(
		container.NewVBox(heading("Class"), r.classEntry, r.classHint, heading("Boxes")), nil, nil, nil, r.boxList)
	bar := container.NewBorder(nil, nil, container.NewHBox(prev, next, accept, reject, del), export)
	top := container.NewVBox(form, r.status, r.info, r.problem)
	split := container.NewHSplit(r.canvas, side)
	split.Offset = 0.78
	r.content = container.NewBorder(top, container.NewVBox(bar, keys), nil, nil, split)
	return r
}

// boxText is a line of the box list.
func boxText(i int, b review.Box) string {
	s := fmt.Sprintf("%d. %s", i+1, b.Name)
	if b.Confidence > 0 {
		s += fmt.Sprintf("  %.2f", b.Confidence)
	}
	return s
}

func (r *reviewPanel) openEntered() {
	r.say(r.open(strings.TrimSpace(r.datasetPath.Text), strings.TrimSpace(r.imagesDir.Text)))
}

// open starts reviewing the folder, at its first frame to review.
func (r *reviewPanel) open(datasetPath, imagesDir string) error {
	if datasetPath == "" || imagesDir == "" {
		return fmt.Errorf("name the dataset file and the images folder")
	}
	s, err := review.Open(datasetPath, imagesDir)
	if err != nil {
		return err
	}
	r.s = s
	r.datasetPath.SetText(datasetPath)
	r.imagesDir.SetText(imagesDir)
	r.refreshClasses()
	r.cur = -1
	if s.Len() > 0 {
		r.cur = max(s.NextToReview(s.Len()-1), 0)
	}
	r.showCurrent()
	return nil
}

// say shows err under the status, or clears it.
func (r *reviewPanel) say(err error) {
	if err == nil {
		r.problem.Hide()
		return
	}
	r.problem.SetText(text.OneLine(err.Error(), 120))
	r.problem.Show()
}

// refreshClasses lists the session's classes, then the model's, then those
// typed during the review; the first nine have number keys.
func (r *reviewPanel) refreshClasses() {
	var all []string
	if r.s != nil {
		all = r.s.Classes()
	}
	if r.modelClasses != nil {
		all = append(all, r.modelClasses()...)
	}
	all = append(all, r.classes...)
	seen := map[string]bool{}
	r.classes = slices.DeleteFunc(all, func(c string) bool {
		k := strings.ToLower(c)
		dup := seen[k] || c == ""
		seen[k] = true
		return dup
	})
	r.classEntry.SetOptions(r.classes)
	var hint []string
	for i, c := range r.classes[:min(len(r.classes), 9)] {
		hint = append(hint, fmt.Sprintf("%d %s", i+1, c))
	}
	r.classHint.SetText(strings.Join(hint, " · "))
	if r.class == "" && len(r.classes) > 0 {
		r.class = r.classes[0]
	}
}

func (r *reviewPanel) item() *review.Item {
	if r.s == nil || r.cur < 0 || r.cur >= r.s.Len() {
		return nil
	}
	return r.s.Item(r.cur)
}

func (r *reviewPanel) boxes() []review.Box {
	if it := r.item(); it != nil {
		return it.Boxes
	}
	return nil
}

// showCurrent loads the frame shown, its boxes and what is said of it.
func (r *reviewPanel) showCurrent() {
	it := r.item()
	r.sel = -1
	if it == nil {
		r.canvas.show(nil, image.Point{}, "No frames here yet: turn capture on, or open another folder.")
		r.refreshBoxes()
		r.refreshStatus()
		return
	}
	if img, err := loadPicture(r.s.Path(r.cur)); err != nil {
		r.canvas.show(nil, image.Pt(it.Width, it.Height), text.OneLine(err.Error(), 90))
	} else {
		r.canvas.show(img, image.Pt(it.Width, it.Height), "")
	}
	r.refreshBoxes()
	r.refreshStatus()
	r.canvas.focus()
}

// loadPicture reads an image for the screen, shrunk to maxReviewSide.
func loadPicture(path string) (image.Image, error) {
	m := gocv.IMRead(path, gocv.IMReadColor)
	defer m.Close()
	if m.Empty() {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	if side := max(m.Cols(), m.Rows()); side > maxReviewSide {
		f := float64(maxReviewSide) / float64(side)
		gocv.Resize(m, &m, image.Point{}, f, f, gocv.InterpolationArea)
	}
	return toRGBA(m, nil, nil), nil
}

func (r *reviewPanel) refreshBoxes() {
	r.canvas.setBoxes(r.boxes(), r.sel, r.marked)
	r.boxList.Refresh()
	if r.sel >= 0 {
		r.boxList.Select(r.sel)
		if b := r.boxes()[r.sel]; b.Name != "" {
			r.classEntry.OnChanged = nil // showing the class is no relabelling
			r.classEntry.SetText(b.Name)
			r.classEntry.OnChanged = r.classPicked
		}
	} else {
		r.boxList.UnselectAll()
	}
}

func (r *reviewPanel) refreshStatus() {
	it := r.item()
	if it == nil {
		r.status.SetText("No frames.")
		r.info.SetText("")
		return
	}
	u, a, rj := r.s.Counts()
	r.status.SetText(fmt.Sprintf("Frame %d of %d · %d to review · %d accepted · %d rejected", r.cur+1, r.s.Len(), u, a, rj))
	parts := []string{it.File, it.Status.String()}
	if rec := it.Record; rec != nil {
		parts = append(parts, strings.Join(rec.Reasons, ", "))
		if len(rec.Cloud) > 0 {
			var names []string
			for _, b := range rec.Cloud {
				names = append(names, b.Name)
			}
			parts = append(parts, "the cloud saw "+strings.Join(names, ", "))
		}
	}
	if r.markNote != "" {
		parts = append(parts, r.markNote)
	}
	r.info.SetText(strings.Join(parts, " · "))
}

// classPicked: a class chosen from the list applies at once; a new one
// being typed waits for Enter.
func (r *reviewPanel) classPicked(name string) {
	if slices.Contains(r.classes, name) {
		r.setClass(name)
	}
}

// key handles the keys typed on the picture.
func (r *reviewPanel) key(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeyLeft, fyne.KeyPageUp:
		r.step(-1)
	case fyne.KeyRight, fyne.KeyPageDown:
		r.step(1)
	case fyne.KeyUp:
		r.selectBox(-1)
	case fyne.KeyDown:
		r.selectBox(1)
	case fyne.KeyReturn, fyne.KeyEnter:
		r.accept()
	case fyne.KeyDelete, fyne.KeyBackspace:
		r.deleteBox()
	case fyne.KeyEscape:
		r.sel = -1
		r.refreshBoxes()
	}
}

// typed handles the characters typed on the picture.
func (r *reviewPanel) typed(c rune) {
	switch {
	case c >= '1' && c <= '9':
		if i := int(c - '1'); i < len(r.classes) {
			r.setClass(r.classes[i])
		}
	case c == 'r' || c == 'R':
		r.reject()
	case c == 'a' || c == 'A':
		r.accept()
	case c == 'n' || c == 'N':
		if r.s != nil {
			if j := r.s.NextToReview(r.cur); j >= 0 {
				r.goTo(j)
			}
		}
	}
}

// step moves d frames on, staying within the folder.
func (r *reviewPanel) step(d int) {
	if r.s == nil || r.s.Len() == 0 {
		return
	}
	r.goTo(min(max(r.cur+d, 0), r.s.Len()-1))
}

func (r *reviewPanel) goTo(i int) {
	r.marked, r.markNote = nil, ""
	r.cur = i
	r.showCurrent()
}

func (r *reviewPanel) selectBox(d int) {
	n := len(r.boxes())
	if n == 0 {
		return
	}
	if r.sel < 0 {
		r.sel = map[bool]int{true: 0, false: n - 1}[d > 0]
	} else {
		r.sel = (r.sel + d + n) % n
	}
	r.refreshBoxes()
}

// setClass relabels the selected box, and is the class of boxes drawn
// from now on.
func (r *reviewPanel) setClass(name string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	r.class = name
	if !slices.ContainsFunc(r.classes, func(c string) bool { return strings.EqualFold(c, name) }) {
		r.classes = append(r.classes, name)
		r.refreshClasses()
	}
	if it := r.item(); it != nil && r.sel >= 0 && r.sel < len(it.Boxes) {
		it.Boxes[r.sel].Name, it.Boxes[r.sel].Confidence = name, 0
	}
	r.refreshBoxes()
}

// drawBox adds a box of the current class and selects it.
func (r *reviewPanel) drawBox(bb [4]float64) {
	it := r.item()
	if it == nil {
		return
	}
	if r.class == "" {
		r.say(fmt.Errorf("type the class of the box first (under Class)"))
		return
	}
	it.Boxes = append(it.Boxes, review.Box{Name: r.class, BBox: bb})
	r.sel = len(it.Boxes) - 1
	r.refreshBoxes()
}

func (r *reviewPanel) deleteBox() {
	it := r.item()
	if it == nil || r.sel < 0 || r.sel >= len(it.Boxes) {
		return
	}
	it.Boxes = slices.Delete(it.Boxes, r.sel, r.sel+1)
	r.sel = min(r.sel, len(it.Boxes)-1)
	r.refreshBoxes()
	r.canvas.focus()
}

// accept writes the frame with its boxes into the dataset and moves to
// the next frame to review.
func (r *reviewPanel) accept() {
	it := r.item()
	if it == nil {
		return
	}
	if err := r.s.Accept(r.cur, it.Boxes); err != nil {
		r.say(err)
		return
	}
	r.say(nil)
	r.saved()
	r.advance()
}

func (r *reviewPanel) reject() {
	if r.item() == nil {
		return
	}
	if err := r.s.Reject(r.cur); err != nil {
		r.say(err)
		return
	}
	r.say(nil)
	r.saved()
	r.advance()
}

func (r *reviewPanel) saved() {
	if r.onSaved != nil {
		r.onSaved()
	}
}

// advance goes to the next frame to review, or stays when none is left.
func (r *reviewPanel) advance() {
	if j := r.s.NextToReview(r.cur); j >= 0 {
		r.goTo(j)
		return
	}
	r.showCurrent()
	r.info.SetText("Every frame is reviewed. " + r.info.Text)
}

// openFile shows the frame of that file with a box marked (nil: none) and
// a note saying why (a mistake eval found).
func (r *reviewPanel) openFile(file string, mark *[4]float64, note string) bool {
	if r.s == nil {
		return false
	}
	i := r.s.IndexOf(file)
	if i < 0 {
		return false
	}
	r.cur = i
	r.marked, r.markNote = mark, note
	r.showCurrent()
	return true
}

func (r *reviewPanel) exportYOLO() {
	if r.s == nil {
		return
	}
	dir := filepath.Join(filepath.Dir(r.s.DatasetPath()), "yolo")
	if err := r.s.ExportYOLO(dir); err != nil {
		r.say(err)
		return
	}
	r.say(nil)
	r.info.SetText("YOLO labels written to " + dir)
}
