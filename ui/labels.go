package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/review"
	"github.com/sightline/sightline/internal/text"
)

// captureOutput is the capture's name among the pipeline's outputs.
const captureOutput = "capture"

// labelsPanel is the Labels tab: capture frames worth labelling from the
// live view, review them into a dataset, evaluate the live thresholds on
// it, and train a Custom Vision model from it.
type labelsPanel struct {
	content fyne.CanvasObject
	tabs    *container.AppTabs
	review  *reviewPanel
	eval    *evalPanel
	train   *trainPanel

	p     *player
	prefs fyne.Preferences

	captureOn    *widget.Check
	captureDir   *widget.Entry
	captureState *widget.Label

	mu      sync.Mutex
	capture *capture.Capture // nil while capture is off
	seen    int              // frames saved when the review last read the folder
}

func newLabelsPanel(ctx context.Context, win fyne.Window, p *player, bus *event.Bus, keys *keyStore, prefs fyne.Preferences, cv *cvPanel) *labelsPanel {
	l := &labelsPanel{p: p, prefs: prefs}
	dir := prefs.String("captureDir")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, "Pictures", "Sightline", "captures")
	}
	l.captureDir = entry(dir, "folder for the frames to label")
	l.captureOn = widget.NewCheck("Capture frames to label", l.setCapture)
	browse := widget.NewButton("…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				l.captureDir.SetText(u.Path())
			}
		}, win)
	})
	l.captureState = widget.NewLabel("Saves frames near the threshold, where the cloud and the local model disagree, those you mark (M) and a few at random.")
	l.captureState.Wrapping = fyne.TextWrapWord
	l.captureState.Importance = widget.LowImportance

	l.review = newReviewPanel(win, filepath.Join(dir, "dataset.json"), dir)
	l.review.modelClasses = cv.labels
	l.eval = newEvalPanel(ctx, p, l.review)
	l.eval.exportDir = func() string { return strings.TrimSpace(cv.dir.Text) }
	l.train = newTrainPanel(ctx, keys, prefs, l.review, cv)
	// Scrolled, so that the app still fits an 800×600 screen; the tab is
	// widened while shown, and nothing scrolls on a larger one.
	l.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Review", theme.VisibilityIcon(), container.NewScroll(l.review.content)),
		container.NewTabItemWithIcon("Eval", theme.GridIcon(), container.NewScroll(l.eval.content)),
		container.NewTabItemWithIcon("Train", theme.UploadIcon(), l.train.content))
	l.eval.showReview = func() { l.tabs.SelectIndex(0) }
	l.tabs.OnSelected = func(ti *container.TabItem) {
		l.refresh()
		switch ti {
		case l.tabs.Items[0]:
			l.review.canvas.focus()
		case l.tabs.Items[1]:
			l.eval.showClass() // the live thresholds may have moved meanwhile
		}
	}
	captureRow := container.NewBorder(nil, nil, l.captureOn, browse, l.captureDir)
	l.content = container.NewBorder(container.NewVBox(captureRow, l.captureState), nil, nil, nil, l.tabs)

	bus.Attach(event.SinkFunc(l.onEvent))
	if err := l.review.open(filepath.Join(dir, "dataset.json"), dir); err != nil {
		l.review.say(err)
	}
	go l.watch(ctx)
	return l
}

// labels are the classes of the Custom Vision panel's local model, for
// Review's class list.
func (c *cvPanel) labels() []string {
	if sp, ok := c.predictor.(*analyzer.SwappablePredictor); ok {
		if l, ok := sp.Current().(interface{ Labels() []string }); ok {
			return l.Labels()
		}
	}
	return nil
}

// setCapture starts or stops capturing into the folder named.
func (l *labelsPanel) setCapture(on bool) {
	if !on {
		l.mu.Lock()
		c := l.capture
		l.capture = nil
		l.mu.Unlock()
		if c != nil {
			go l.p.Detach(captureOutput) // waits for the frame being written, then closes it
			l.captureState.SetText(strings.Replace(captureText(c.Dir(), c.Stats()), "Capturing into", "Captured into", 1))
		}
		return
	}
	dir := strings.TrimSpace(l.captureDir.Text)
	c, err := capture.New(dir, capture.Options{})
	if err != nil {
		l.captureOn.SetChecked(false)
		l.captureState.Importance = widget.DangerImportance
		l.captureState.SetText(text.OneLine(err.Error(), 120))
		return
	}
	l.prefs.SetString("captureDir", dir)
	l.mu.Lock()
	l.capture, l.seen = c, 0
	l.mu.Unlock()
	l.p.Attach(captureOutput, c)
	l.captureState.Importance = widget.MediumImportance
	l.captureState.SetText("Capturing into " + dir + " …")
	if l.review.s == nil || l.review.s.ImagesDir() != dir {
		l.review.say(l.review.open(filepath.Join(dir, "dataset.json"), dir))
	}
}

// mark asks the capture for the frame on screen and says what it did.
func (l *labelsPanel) mark() string {
	l.mu.Lock()
	c := l.capture
	l.mu.Unlock()
	if c == nil {
		return "Turn capture on in the Labels tab to mark frames for labelling."
	}
	c.Mark()
	if l.p.Paused() {
		l.p.Redraw()
	}
	return "Frame marked for labelling: it goes to " + c.Dir()
}

// onEvent hands the analyses to the capture, and hears of its failure.
func (l *labelsPanel) onEvent(e event.Event) {
	l.mu.Lock()
	c := l.capture
	if oe, ok := e.(*event.OutputError); ok && oe.Output == captureOutput {
		l.capture = nil // the pipeline has detached and closed it
	}
	l.mu.Unlock()
	if c == nil {
		return
	}
	c.Publish(e)
	if oe, ok := e.(*event.OutputError); ok && oe.Output == captureOutput {
		onUI(func() {
			l.captureOn.OnChanged = nil
			l.captureOn.SetChecked(false)
			l.captureOn.OnChanged = l.setCapture
			l.captureState.Importance = widget.DangerImportance
			l.captureState.SetText("Capture stopped: " + text.OneLine(oe.Error, 120))
		})
	}
}

// watch shows the capture's counters once a second.
func (l *labelsPanel) watch(ctx context.Context) {
	everySecond(ctx, func() {
		l.mu.Lock()
		c := l.capture
		l.mu.Unlock()
		if c == nil {
			return
		}
		st := c.Stats()
		onUI(func() {
			l.mu.Lock()
			current := l.capture == c // not stopped meanwhile
			l.mu.Unlock()
			if current {
				l.captureState.SetText(captureText(c.Dir(), st))
			}
		})
	})
}

// captureText says what a capture has saved and left out.
func captureText(dir string, st capture.Stats) string {
	var reasons []string
	for _, r := range []string{capture.ReasonUncertain, capture.ReasonDisagreement, capture.ReasonMarked, capture.ReasonSample} {
		if n := st.ByReason[r]; n > 0 {
			reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
		}
	}
	s := fmt.Sprintf("Capturing into %s: %s saved", dir, plural(st.Saved, "frame"))
	if len(reasons) > 0 {
		s += " (" + strings.Join(reasons, ", ") + ")"
	}
	s += fmt.Sprintf(", %.1f MB in the folder", float64(st.Bytes)/(1<<20))
	if left := st.Limited + st.Full + st.Dropped; left > 0 {
		s += fmt.Sprintf("; %d more left out by the limits", left)
	}
	return s + "."
}

// refresh reads the folder again when the capture saved frames since the
// review last did, keeping the frame shown and the boxes edited.
func (l *labelsPanel) refresh() {
	l.mu.Lock()
	c := l.capture
	l.mu.Unlock()
	r := l.review
	if c == nil || r.s == nil || r.s.ImagesDir() != c.Dir() {
		return
	}
	saved := c.Stats().Saved
	if saved == l.seen {
		return
	}
	l.seen = saved
	r.say(r.reload())
}

// reload reads the folder again: new captures appear, the frame shown
// and the boxes of frames not yet accepted stay as they were.
func (r *reviewPanel) reload() error {
	old, cur := r.s, r.item()
	s, err := review.Open(old.DatasetPath(), old.ImagesDir())
	if err != nil {
		return err
	}
	for i := range old.Len() {
		if it := old.Item(i); it.Status == review.Unreviewed {
			if j := s.IndexOf(it.File); j >= 0 && s.Item(j).Status == review.Unreviewed {
				s.Item(j).Boxes = it.Boxes
			}
		}
	}
	r.s = s
	r.refreshClasses()
	if cur != nil {
		r.cur = s.IndexOf(cur.File)
	}
	if r.cur < 0 {
		r.cur = max(s.NextToReview(s.Len()-1), 0)
	}
	r.showCurrent()
	return nil
}

// shown is told whether the Labels tab is the one shown. It takes most
// of the window then (a reviewer needs the picture large; the live view
// plays on beside it), reads the captures saved meanwhile, and gives the
// keyboard to the review.
func (l *labelsPanel) shown(split *container.Split, on bool) {
	offset := 0.68
	if on {
		offset = 0.3
	}
	if split.Offset != offset {
		split.SetOffset(offset)
	}
	if !on {
		return
	}
	l.refresh()
	if l.tabs.SelectedIndex() == 0 {
		l.review.canvas.focus()
	}
}
