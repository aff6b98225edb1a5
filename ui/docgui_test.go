package ui

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/video/videotest"
)

// docState is what Document mode shows, as the GUI scenario reports it.
type docState struct {
	Fields   []string
	Items    int
	Status   string
	Cost     string
	Selected string
	Note     bool
}

func init() { scenarios["document"] = documentScenario }

// documentScenario holds a receipt up to the camera (a clip of the sample
// receipt), pauses on it, reads it in Document mode with Azure (the
// environment names the stand-in service) and selects the total.
func documentScenario(w *mainWindow) {
	w.waitFirstFrame()
	onUIWait(func() { w.controls.play(os.Getenv("SIGHTLINE_TEST_SECOND_SOURCE")) })
	deadline := time.Now().Add(30 * time.Second)
	for !showsReceipt(w) {
		if time.Now().After(deadline) {
			fmt.Println("SCENARIO the receipt clip did not play")
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	d := w.ocr.doc
	onUIWait(func() {
		w.togglePause()
		w.tabs.SelectIndex(1)
		w.ocr.mode.SetSelected(modeDocument)
		d.backend.SetSelected(docAzure)
		d.model.SetSelected(docReceipt)
		w.ocr.act()
	})
	for busy := true; busy; {
		time.Sleep(100 * time.Millisecond)
		onUIWait(func() { busy = d.busy })
	}
	var s docState
	onUIWait(func() {
		if i := slices.Index(d.names, "Total"); i >= 0 {
			d.fields.Select(i)
		}
		s = docState{Fields: d.names, Status: d.status.Text, Cost: d.costBox.Text, Note: d.note.Visible()}
		if d.doc != nil {
			s.Items = len(d.doc.Items)
		}
		if d.selected != nil {
			s.Selected = d.selected.Text()
		}
	})
	b, _ := json.Marshal(s)
	fmt.Printf("SCENARIO document %s\n", b)
}

// showsReceipt reports whether the frame playing is the receipt's.
func showsReceipt(w *mainWindow) bool {
	m, _, ok := w.p.Frame(image.Rectangle{})
	if !ok {
		return false
	}
	defer m.Close()
	return m.Cols() == 1688 && m.Rows() == 3000
}

// The real app under X reads a receipt held up to the camera in the OCR
// panel's Document mode, against the stand-in that replays the real
// receipt analysis: the receipt's fields listed, the total selected and
// filled on the frozen picture, the page counted. The screenshot is kept
// for a person to look at (SIGHTLINE_SCREENSHOT_DIR=docs refreshes
// docs/screenshot-document.png).
func TestAppDocumentMode(t *testing.T) {
	srv := azuretest.New(t)
	srv.SetDocumentPolls(1)
	receipt := filepath.Join(srv.Data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg")
	clip := videotest.Make(t, "receipt-1688x3000.mp4", "-loop", "1", "-framerate", "2", "-i", receipt, "-t", "60",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	display := xDisplay(t)
	logPath, exited := startApp(t, display, "document", "SIGHTLINE_TEST_SECOND_SOURCE="+clip,
		"DOCUMENT_INTELLIGENCE_ENDPOINT="+srv.URL, "DOCUMENT_INTELLIGENCE_KEY="+srv.Key)
	var s docState
	pollApp(t, exited, logPath, 90*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(logPath)
		for _, line := range strings.Split(string(b), "\n") {
			if js, ok := strings.CutPrefix(line, "SCENARIO document "); ok {
				return json.Unmarshal([]byte(js), &s) == nil, ""
			}
			if strings.HasPrefix(line, "SCENARIO") {
				t.Fatalf("the document scenario failed:\n%s", b)
			}
		}
		return false, "the document scenario did not finish"
	})
	want := "MerchantName,MerchantAddress,MerchantPhoneNumber,TransactionDate,TransactionTime,Subtotal,TotalTax,Tip,Total"
	if got := strings.Join(s.Fields, ","); got != want || s.Items != 2 || s.Selected != "14.50 USD" || s.Note {
		t.Errorf("Document mode shows fields %s, %d items, selected %q, heuristic note %v; status %q", got, s.Items, s.Selected, s.Note, s.Status)
	}
	if !strings.Contains(s.Cost, "1 page, $0.0100") {
		t.Errorf("cost %q", s.Cost)
	}
	time.Sleep(1500 * time.Millisecond) // a frame or two to paint
	out := screenshotPath(t, "screenshot-document.png")
	img := screenshot(t, display, out)
	if n := countColour(img, selectionColor); n < 30 {
		t.Errorf("%d pixels of the selected field's outline on screen; see %s", n, out)
	}
	if n := countColour(img, confidentColour); n < 100 {
		t.Errorf("%d pixels in the confident colour (outlines and chips); see %s", n, out)
	}
	t.Logf("screenshot %s", out)
}

// Document mode fits the 800×600 panels beside a production line too.
func TestDocumentModeFits800x600(t *testing.T) {
	w := testWindow(t)
	w.tabs.SelectIndex(1)
	w.ocr.mode.SetSelected(modeDocument)
	limit := fyne.NewSize(800, 600)
	for _, backend := range []string{docLocal, docAzure, docLocal} {
		w.ocr.doc.backend.SetSelected(backend)
		if m := w.win.Content().MinSize(); m.Width > limit.Width || m.Height > limit.Height {
			t.Errorf("with Document mode, %s, %s, the window needs %v, more than %v", backend, w.ocr.doc.status.Text, m, limit)
		}
		w.ocr.doc.show(fixedReceiptPicture(), image.Point{}, fixedReceipt(), "local", "frame 1", time.Second)
	}
}
