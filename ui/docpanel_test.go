package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/deps"
)

func conf(v float64) *float64 { return &v }

func rect(x0, y0, x1, y1 float64) []analyzer.DocumentPoint {
	return []analyzer.DocumentPoint{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// fixedReceipt is a small receipt on a 300×200 picture: a sure name, a
// date without a confidence, a doubtful total, a tip without a place, and
// two line items.
func fixedReceipt() *analyzer.Document {
	d := analyzer.NewDocument(analyzer.ModelReceipt)
	d.DocType, d.Pages = "receipt.retailMeal", 1
	d.Fields["MerchantName"] = analyzer.DocumentField{Type: analyzer.FieldString, Value: "Contoso", Content: "Contoso", Confidence: conf(0.98), BoundingPolygon: rect(20, 10, 120, 30)}
	d.Fields["TransactionDate"] = analyzer.DocumentField{Type: analyzer.FieldDate, Value: "2019-06-10", Content: "6/10/2019", BoundingPolygon: rect(20, 40, 100, 55)}
	d.Fields["Total"] = analyzer.DocumentField{Type: analyzer.FieldCurrency, Value: analyzer.Currency{Amount: 14.5, CurrencyCode: "USD"}, Content: "$14.50", Confidence: conf(0.45), BoundingPolygon: rect(200, 160, 280, 185)}
	d.Fields["Tip"] = analyzer.DocumentField{Type: analyzer.FieldCurrency, Value: analyzer.Currency{Amount: 1.63, CurrencyCode: "USD"}, Confidence: conf(0.7)}
	d.Items = []map[string]analyzer.DocumentField{
		{"Description": {Value: "Cappuccino", Confidence: conf(0.9), BoundingPolygon: rect(40, 80, 140, 95)},
			"TotalPrice": {Value: analyzer.Currency{Amount: 2.2, CurrencyCode: "USD"}, BoundingPolygon: rect(220, 80, 270, 95)},
			"Quantity":   {Value: 1.0}},
		{"Description": {Value: "BACON & EGGS", BoundingPolygon: rect(40, 110, 160, 125)},
			"TotalPrice": {Value: analyzer.Currency{Amount: 9.5, CurrencyCode: "USD"}, BoundingPolygon: rect(220, 110, 270, 125)}},
	}
	return d
}

// fixedReceiptPicture is the black picture fixedReceipt is read from.
func fixedReceiptPicture() gocv.Mat { return gocv.NewMatWithSize(200, 300, gocv.MatTypeCV8UC3) }

// newTestDocPanel is a Document panel on frame, in a window of the side
// panel's size.
func newTestDocPanel(t *testing.T, frame gocv.Mat, ocr analyzer.Analyzer, cloud docCloud) *docPanel {
	t.Helper()
	win := test.NewWindow(nil)
	d := newDocPanel(context.Background(), win, fixedFrame{frame}, ocr, func() docCloud { return cloud })
	win.SetContent(d.content)
	win.Resize(fyne.NewSize(420, 800))
	t.Cleanup(d.close)
	return d
}

// analyzed runs an analysis and waits for it to end.
func analyzed(t *testing.T, d *docPanel) {
	t.Helper()
	onUIWait(d.analyze)
	waitFor(t, "the document analysis", func() bool {
		var busy bool
		onUIWait(func() { busy = d.busy })
		return !busy
	})
}

// pictureCount counts the pixels of c inside r on the panel's picture,
// drawn at the 300×200 of fixedReceiptPicture.
func pictureCount(d *docPanel, c color.RGBA, r image.Rectangle) int {
	img := d.drawPicture(300, 200).(*image.RGBA).SubImage(r).(*image.RGBA)
	n := 0
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

// A fixed document: fields listed in reading order with their confidence
// colours outlined on the picture; selecting a field or an item's cell
// fills its outline and copies its value; the exports are the `document`
// line and one CSV row an item.
func TestDocPanelShowsFixedDocument(t *testing.T) {
	newTestApp(t)
	d := newTestDocPanel(t, gocv.Mat{}, nil, docCloud{})
	d.show(fixedReceiptPicture(), image.Point{}, fixedReceipt(), "azure", "frame 7", 1500*time.Millisecond)

	if got := strings.Join(d.names, ","); got != "MerchantName,TransactionDate,Total,Tip" {
		t.Errorf("fields in the order %s", got)
	}
	if d.fields.Length() != 4 || d.tabs.Items[1].Text != "Line items (2)" {
		t.Errorf("%d fields listed, items tab %q", d.fields.Length(), d.tabs.Items[1].Text)
	}
	all := image.Rect(0, 0, 300, 200)
	for _, c := range []color.RGBA{confidentColour, noConfColour, unsureColour} {
		if pictureCount(d, c, all) == 0 {
			t.Errorf("no outline in %v", c)
		}
	}
	if n := pictureCount(d, selectionColor, all); n != 0 {
		t.Errorf("%d selection pixels before anything is selected", n)
	}

	tests := []struct {
		name   string
		choose func()
		at     image.Rectangle // where the selection is drawn
		value  string
	}{
		{"the total", func() { d.fields.Select(2) }, image.Rect(190, 150, 290, 195), "14.50 USD"},
		{"the name", func() { d.fields.Select(0) }, image.Rect(10, 0, 130, 40), "Contoso"},
		{"an item's price", func() { d.items.Select(itemCell(1, d.itemNames, "TotalPrice")) }, image.Rect(210, 100, 280, 135), "9.50 USD"},
	}
	for _, tt := range tests {
		tt.choose()
		inside, outside := pictureCount(d, selectionColor, tt.at), pictureCount(d, selectionColor, all)-pictureCount(d, selectionColor, tt.at)
		if inside == 0 || outside != 0 {
			t.Errorf("%s: %d selection pixels on it, %d elsewhere", tt.name, inside, outside)
		}
		test.Tap(d.copyBtn)
		if got := fyne.CurrentApp().Clipboard().Content(); got != tt.value {
			t.Errorf("%s: copied %q, want %q", tt.name, got, tt.value)
		}
	}
	d.items.UnselectAll()
	if n := pictureCount(d, selectionColor, all); n != 0 || !d.copyBtn.Disabled() {
		t.Errorf("after unselecting: %d selection pixels, copy enabled %v", n, !d.copyBtn.Disabled())
	}

	var csv bytes.Buffer
	if err := d.writeCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if want := "Description,TotalPrice,Quantity\nCappuccino,2.20 USD,1\nBACON & EGGS,9.50 USD,\n"; csv.String() != want {
		t.Errorf("CSV\n%s\nwant\n%s", csv.String(), want)
	}
	var js bytes.Buffer
	if err := d.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Input     string            `json:"input"`
		Success   bool              `json:"success"`
		Source    string            `json:"source"`
		LatencyMS float64           `json:"latency_ms"`
		Data      analyzer.Document `json:"data"`
	}
	if err := json.Unmarshal(js.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line.Input != "frame 7" || !line.Success || line.Source != "azure" || line.LatencyMS != 1500 ||
		len(line.Data.Fields) != 4 || len(line.Data.Items) != 2 || line.Data.DocType != "receipt.retailMeal" {
		t.Errorf("JSON export %s", js.String())
	}
}

// itemCell is the table cell of an item's field.
func itemCell(row int, names []string, name string) widget.TableCellID {
	return widget.TableCellID{Row: row, Col: slices.Index(names, name)}
}

func TestConfidenceColour(t *testing.T) {
	tests := []struct {
		conf *float64
		want color.RGBA
		text string
	}{
		{nil, noConfColour, "—"},
		{conf(0.984), confidentColour, "0.98"},
		{conf(0.8), confidentColour, "0.80"},
		{conf(0.62), doubtfulColour, "0.62"},
		{conf(0.2), unsureColour, "0.20"},
	}
	for _, tt := range tests {
		if got := confidenceColour(tt.conf); got != tt.want {
			t.Errorf("confidence %v: colour %v, want %v", tt.conf, got, tt.want)
		}
		if got := confidenceText(tt.conf); got != tt.text {
			t.Errorf("confidence %v: %q, want %q", tt.conf, got, tt.text)
		}
	}
}

// The local backend reads a receipt held up to the camera (the sample
// receipt as a 540×960 frame) with the real OCR and rules: Auto picks the
// receipt, the fields are the receipt's, said to be heuristic, in the
// frame's coordinates, and nothing is counted against the cloud.
func TestDocPanelLocalReceipt(t *testing.T) {
	newTestApp(t)
	data := azuretest.Load(t)
	photo := readImage(t, filepath.Join(data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg"))
	frame := gocv.NewMat()
	defer frame.Close()
	gocv.Resize(photo, &frame, image.Pt(540, 960), 0, 0, gocv.InterpolationArea)
	b := local.New(local.Options{})
	defer b.Close()
	d := newTestDocPanel(t, frame, b, docCloud{})
	d.backend.SetSelected(docLocal)
	d.model.SetSelected(docAuto)
	analyzed(t, d)

	if d.doc == nil {
		t.Fatalf("no document: %q", d.status.Text)
	}
	if d.doc.Model != analyzer.ModelReceipt || !d.doc.Heuristic || d.source != "local" || !d.note.Visible() {
		t.Errorf("model %q, heuristic %v, source %q, note shown %v", d.doc.Model, d.doc.Heuristic, d.source, d.note.Visible())
	}
	wants := map[string]string{"MerchantName": "Contoso", "TransactionDate": "2019-06-10", "Total": "14.50 USD", "Subtotal": "11.70 USD"}
	for name, want := range wants {
		if got := d.doc.Fields[name].Text(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if len(d.doc.Items) != 2 {
		t.Errorf("%d line items, want 2", len(d.doc.Items))
	}
	// Where Document Intelligence found the total on the full-size photo,
	// scaled to the frame: (330–436, 841–881).
	total := d.doc.Fields["Total"].BoundingPolygon
	if len(total) == 0 || total[0].X < 300 || total[0].X > 450 || total[0].Y < 820 || total[0].Y > 900 {
		t.Errorf("total at %v in the frame", total)
	}
	if pages, usd := d.spent(); pages != 0 || usd != 0 {
		t.Errorf("local reading counted %d pages, $%v", pages, usd)
	}
	first := d.latency
	analyzed(t, d) // the models loaded now
	t.Logf("%d fields, %d items in %v; %v with the models loaded the first time", len(d.names), len(d.doc.Items),
		d.latency.Round(time.Millisecond), first.Round(time.Millisecond))
}

// docCloudOf is the stand-in service as Settings would name it.
func docCloudOf(srv *azuretest.Server) docCloud {
	return docCloud{azure: backend.Azure{Endpoint: srv.URL, Key: srv.Key}}
}

// postsTo lists the models the stand-in was asked to analyse with.
func postsTo(srv *azuretest.Server) []string {
	var models []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			models = append(models, strings.TrimSuffix(filepath.Base(r.Path), ":analyze"))
		}
	}
	return models
}

// Azure reads the receipt through the real client and the stand-in that
// replays the real receipt analysis (202, two polls, the result): every
// field of the recording listed, its outline where the service put it,
// one page counted at the prebuilt price; with privacy on, faces are
// looked for before the upload.
func TestDocPanelAzureReceipt(t *testing.T) {
	newTestApp(t)
	srv := azuretest.New(t)
	frame := readImage(t, filepath.Join(srv.Data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg"))
	b := local.New(local.Options{})
	defer b.Close()
	for _, private := range []bool{false, true} {
		cloud := docCloudOf(srv)
		faces := &countingFaces{FaceFinder: b}
		if private {
			cloud.faces = faces
		}
		d := newTestDocPanel(t, frame, nil, cloud)
		d.backend.SetSelected(docAzure)
		d.model.SetSelected(docReceipt)
		analyzed(t, d)
		if d.doc == nil {
			t.Fatalf("private %v: no document: %q", private, d.status.Text)
		}
		if got := strings.Join(d.names, ","); got != "MerchantName,MerchantAddress,MerchantPhoneNumber,TransactionDate,TransactionTime,Subtotal,TotalTax,Tip,Total" {
			t.Errorf("fields %s", got)
		}
		if d.doc.Fields["Total"].Text() != "14.50 USD" || len(d.doc.Items) != 2 || d.note.Visible() {
			t.Errorf("total %q, %d items, heuristic note shown %v", d.doc.Fields["Total"].Text(), len(d.doc.Items), d.note.Visible())
		}
		if p := d.doc.Fields["Total"].BoundingPolygon; len(p) != 4 || p[0] != (analyzer.DocumentPoint{X: 1033, Y: 2628}) {
			t.Errorf("total at %v, want the recording's (1033, 2628)…", p)
		}
		if pages, usd := d.spent(); pages != 1 || usd != 0.01 || !strings.Contains(d.costBox.Text, "1 page, $0.0100") {
			t.Errorf("counted %d pages, $%v: %q", pages, usd, d.costBox.Text)
		}
		if got := faces.calls.Load() > 0; got != private {
			t.Errorf("private %v: faces looked for: %v", private, got)
		}
	}
	if got := strings.Join(postsTo(srv), ","); got != "prebuilt-receipt,prebuilt-receipt" {
		t.Errorf("analyses asked for: %s", got)
	}
}

// A region dragged on the video is read as a crop with a border, and the
// fields come back in the frame's coordinates; the picture shown is the
// region.
func TestDocPanelReadsRegion(t *testing.T) {
	newTestApp(t)
	srv := azuretest.New(t)
	srv.SetDocumentPolls(0)
	frame := readImage(t, filepath.Join(srv.Data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg"))
	d := newTestDocPanel(t, frame, nil, docCloudOf(srv))
	d.backend.SetSelected(docAzure)
	d.model.SetSelected(docReceipt)
	d.setRegion(image.Rect(100, 200, 900, 1800)) // a border of 800/8 = 100 px
	analyzed(t, d)
	if d.doc == nil {
		t.Fatalf("no document: %q", d.status.Text)
	}
	reqs := srv.Requests()
	sent, err := gocv.IMDecode(reqs[0].Image, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	defer sent.Close()
	if sent.Cols() != 1000 || sent.Rows() != 1800 {
		t.Errorf("uploaded %d×%d, want the 800×1600 region with a 100 px border", sent.Cols(), sent.Rows())
	}
	// The stand-in answers with the recording's polygons, in the pixels of
	// the image it was sent: (1033, 2628) there is (1033, 2728) in the frame.
	if p := d.doc.Fields["Total"].BoundingPolygon[0]; p != (analyzer.DocumentPoint{X: 1033, Y: 2728}) {
		t.Errorf("total at %v in the frame", p)
	}
	if d.mat.Cols() != 800 || d.mat.Rows() != 1600 || d.origin != image.Pt(100, 200) || d.input != "frame 7 region 100,200 800x1600" {
		t.Errorf("shown %d×%d at %v as %q", d.mat.Cols(), d.mat.Rows(), d.origin, d.input)
	}
}

// O reads the text in Text mode and the document in Document mode.
func TestKeyOReadsWhatTheModeSays(t *testing.T) {
	w := testWindow(t)
	for _, mode := range []string{modeText, modeDocument} {
		w.ocr.status.SetText("")
		w.ocr.doc.status.SetText("")
		w.ocr.mode.SetSelected(mode)
		test.TypeOnCanvas(w.win.Canvas(), "o")
		text, doc := w.ocr.status.Text, w.ocr.doc.status.Text
		// Without a local backend or a picture, each says why it cannot.
		if (mode == modeText) != (text != "") || (mode == modeDocument) != (doc != "") {
			t.Errorf("%s mode: O said %q in Text mode, %q in Document mode", mode, text, doc)
		}
	}
}

// Auto on Azure chooses the model from the text the OCR panel already
// read of the same frozen frame, as the local rules would, without a
// cloud call to choose; with no text and no local OCR it says what to do.
func TestDocPanelAzureAutoPicksFromText(t *testing.T) {
	newTestApp(t)
	srv := azuretest.New(t)
	srv.SetDocumentPolls(0)
	frame := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer frame.Close()
	lines := func(texts ...string) analyzer.Analysis {
		var ls []analyzer.Line
		for i, s := range texts {
			ls = append(ls, analyzer.Line{Text: s, BoundingPolygon: []analyzer.Point{{X: 10, Y: 10 + 30*i}, {X: 200, Y: 10 + 30*i}, {X: 200, Y: 30 + 30*i}, {X: 10, Y: 30 + 30*i}}})
		}
		return analyzer.Analysis{ReadResult: &analyzer.ReadResult{Blocks: []analyzer.Block{{Lines: ls}}}}
	}
	invoice, receipt := lines("CONTOSO LTD.", "INVOICE", "Total $110.00"), lines("Contoso", "Cappuccino $2.20", "Total $14.50")
	tests := []struct {
		name   string
		text   *analyzer.Analysis // read in Text mode first; nil: nothing read
		want   string
		status string
	}{
		{"an invoice", &invoice, "prebuilt-invoice", ""},
		{"a receipt", &receipt, "prebuilt-receipt", ""},
		{"nothing read", nil, "", "read the frame in Text mode first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(postsTo(srv))
			win := test.NewWindow(nil)
			o := newOCRPanel(context.Background(), win, fixedFrame{frame}, func(string) (analyzer.Analyzer, error) {
				return &fixedAnalyzer{name: "local", a: *tt.text}, nil
			}, nil, false)
			d := newDocPanel(context.Background(), win, fixedFrame{frame}, nil, func() docCloud { return docCloudOf(srv) })
			o.withDocuments(d)
			defer o.close()
			if tt.text != nil {
				o.read()
				waitFor(t, "the text", func() bool {
					var busy bool
					onUIWait(func() { busy = o.busy })
					return !busy
				})
			}
			o.mode.SetSelected(modeDocument)
			d.backend.SetSelected(docAzure)
			d.model.SetSelected(docAuto)
			analyzed(t, d)
			posts := postsTo(srv)[before:]
			if got := strings.Join(posts, ","); got != tt.want {
				t.Errorf("analysed with %q, want %q (status %q)", got, tt.want, d.status.Text)
			}
			if !strings.Contains(d.status.Text, tt.status) {
				t.Errorf("status %q, want it to say %q", d.status.Text, tt.status)
			}
		})
	}
}

// The cloud budget of Settings holds: calls spaced at the calls a minute,
// at most the calls a day, and a document's pages count; a refused
// analysis sends nothing and says why.
func TestDocPanelBudget(t *testing.T) {
	newTestApp(t)
	srv := azuretest.New(t)
	srv.SetDocumentPolls(0)
	frame := readImage(t, filepath.Join(srv.Data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg"))
	cloud := docCloudOf(srv)
	cloud.perMinute, cloud.perDay = 2, 3 // one every 30 s
	d := newTestDocPanel(t, frame, nil, cloud)
	fake := clock.NewFake(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	d.clock = fake
	d.backend.SetSelected(docAzure)
	d.model.SetSelected(docReceipt)

	steps := []struct {
		after  time.Duration
		posted int
		status string
	}{
		{0, 1, "fields"},
		{10 * time.Second, 1, "spaced to 2 a minute"},
		{20 * time.Second, 2, "fields"},
		{30 * time.Second, 3, "fields"},
		{30 * time.Second, 3, "Today's 3 cloud calls"},
	}
	for i, s := range steps {
		fake.Advance(s.after)
		analyzed(t, d)
		if got := len(postsTo(srv)); got != s.posted || !strings.Contains(d.status.Text, s.status) {
			t.Errorf("step %d: %d analyses sent, want %d; status %q, want %q", i, got, s.posted, d.status.Text, s.status)
		}
	}

	// A two-page answer holds the next call back by two intervals.
	b := schedule.NewBudget(2, 0)
	d.budget = b
	now := fake.Now().Add(24 * time.Hour)
	b.Take(now)
	d.clock = clock.NewFake(now)
	d.charge(2, false)
	if b.Ready(now.Add(59 * time.Second)) {
		t.Error("a two-page analysis let the next call go within a minute")
	}
}

// Leaving Document mode cancels the analysis in flight: nothing of it is
// shown and its goroutine ends; pressing Analyze again starts over, and
// only the new analysis is shown.
func TestDocPanelCancels(t *testing.T) {
	newTestApp(t)
	srv := azuretest.New(t)
	frame := readImage(t, filepath.Join(srv.Data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg"))
	win := test.NewWindow(nil)
	o := newOCRPanel(context.Background(), win, fixedFrame{frame}, nil, nil, false)
	d := newDocPanel(context.Background(), win, fixedFrame{frame}, nil, func() docCloud { return docCloudOf(srv) })
	o.withDocuments(d)
	o.mode.SetSelected(modeDocument)
	d.backend.SetSelected(docAzure)
	d.model.SetSelected(docReceipt)

	srv.SetDocumentPolls(-1) // never finishes
	onUIWait(o.act)
	waitFor(t, "the analysis to be accepted", func() bool { return len(postsTo(srv)) == 1 })
	onUIWait(func() { o.mode.SetSelected(modeText) })
	if d.busy || d.doc != nil || !strings.Contains(d.status.Text, "Cancelled") {
		t.Errorf("after leaving: busy %v, document %v, status %q", d.busy, d.doc != nil, d.status.Text)
	}
	o.mode.SetSelected(modeDocument)
	onUIWait(d.analyze)
	waitFor(t, "the second analysis to be accepted", func() bool { return len(postsTo(srv)) == 2 })
	srv.SetDocumentPolls(0)
	analyzed(t, d) // the re-freeze drops the one in flight
	if d.doc == nil || len(postsTo(srv)) != 3 {
		t.Fatalf("after the re-freeze: document %v, %d analyses, status %q", d.doc != nil, len(postsTo(srv)), d.status.Text)
	}
	done := make(chan struct{})
	go func() { o.close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("closing waited on a cancelled analysis")
	}
}

// A failure says why in the user's words (azure.Reason), and a 429's
// Retry-After holds the next call back.
func TestDocPanelSaysWhyAzureFails(t *testing.T) {
	newTestApp(t)
	srv := azuretest.New(t, azuretest.Lenient())
	srv.SetDocumentPolls(0)
	frame := readImage(t, filepath.Join(srv.Data.Dir, azuretest.DocumentSamples, "contoso-allinone.jpg"))
	tests := []struct {
		name  string
		reply azuretest.Reply
		want  string
	}{
		{"wrong key", azuretest.BadKey(), "401: the key is wrong"},
		{"throttled", azuretest.Throttled("120"), "429: throttled"},
		{"analysis failed", azuretest.OperationFailed("failed", "InvalidRequest", "InvalidContent", "The file is corrupted."), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := docCloudOf(srv)
			cloud.perMinute = 600
			d := newTestDocPanel(t, frame, nil, cloud)
			fake := clock.NewFake(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
			d.clock = fake
			d.backend.SetSelected(docAzure)
			d.model.SetSelected(docReceipt)
			if tt.name == "analysis failed" {
				srv.Enqueue(azuretest.Recorded(), tt.reply)
				tt.want = "the service could not read the document (InvalidRequest/InvalidContent)"
			} else {
				srv.Enqueue(tt.reply)
			}
			analyzed(t, d)
			if !strings.Contains(d.status.Text, "Analysis failed: "+tt.want) || d.doc != nil {
				t.Errorf("status %q, want the reason %q", d.status.Text, tt.want)
			}
			fake.Advance(time.Second)
			if ready := d.budget.Ready(fake.Now()); ready == (tt.name == "throttled") {
				t.Errorf("budget ready %v a second later", ready)
			}
		})
	}
}

// The Stats panel's cost adds what documents cost to the total.
func TestStatsAddsDocumentCost(t *testing.T) {
	newTestApp(t)
	s := newStatsPanel()
	s.documents = func() (int, float64) { return 3, 0.03 }
	s.update(meters{cloudPerMin: 1}, schedule.Stats{CostUSD: 0.002, CostPer1000: 1, Cloud: schedule.BackendStats{Calls: 2}})
	if !strings.Contains(s.cost.Text, "Documents: 3 pages, $0.0300. Total $0.0320.") {
		t.Errorf("cost %q", s.cost.Text)
	}
}

// Settings keep Document Intelligence's endpoint, tier and key (in the key
// store, never in the preferences), and refuse an endpoint that is not one.
func TestSettingsDocumentIntelligence(t *testing.T) {
	a := newTestApp(t)
	ring := memRing{}
	keys := newKeyStore(ring, noEnv)
	var applied []settings
	p := newSettingsPanel(test.NewWindow(nil), loadSettings(a.Preferences()), keys, func(s settings) { applied = append(applied, s) })
	p.docEndpoint.SetText("http://docs.example.com")
	p.docKey.SetText("doc-s3cr3t")
	p.docFree.SetChecked(true)
	tapSave(t, p)
	if len(applied) != 0 || !strings.Contains(p.problem.Text, "Document Intelligence endpoint") {
		t.Fatalf("an http:// endpoint was applied: %v, problem %q", applied, p.problem.Text)
	}
	p.docEndpoint.SetText("https://docs.example.com")
	tapSave(t, p)
	if len(applied) != 1 || applied[0].DocEndpoint != "https://docs.example.com" || !applied[0].DocFreeTier {
		t.Fatalf("applied %+v", applied)
	}
	if v, from := keys.Get(keyDocument); v != "doc-s3cr3t" || from != "OS keyring" || p.docKey.Text != "" {
		t.Errorf("key %q from %q, entry %q", v, from, p.docKey.Text)
	}
	applied[0].save(a.Preferences())
	if got := loadSettings(a.Preferences()); got.DocEndpoint != "https://docs.example.com" || !got.DocFreeTier {
		t.Errorf("reloaded %+v", got)
	}
	if !strings.Contains(p.keyState.Text, "Document Intelligence key: set (OS keyring)") {
		t.Errorf("key state %q", p.keyState.Text)
	}
}

// tapSave presses Settings' "Save and apply".
func tapSave(t *testing.T, p *settingsPanel) {
	t.Helper()
	var find func(o fyne.CanvasObject) *widget.Button
	find = func(o fyne.CanvasObject) *widget.Button {
		switch o := o.(type) {
		case *widget.Button:
			if o.Text == "Save and apply" {
				return o
			}
		case *container.Scroll:
			return find(o.Content)
		case *fyne.Container:
			for _, c := range o.Objects {
				if b := find(c); b != nil {
					return b
				}
			}
		}
		return nil
	}
	b := find(p.content)
	if b == nil {
		t.Fatal("no Save and apply button")
	}
	test.Tap(b)
}

// testWindow is the app's window on fixed boxes, without a local OCR or
// a picture yet.
func testWindow(t *testing.T) *mainWindow {
	t.Helper()
	a := newTestApp(t)
	w := newMainWindow(context.Background(), a, Config{Source: deps.DemoVideo, Mode: schedule.ModeLocal, Threshold: 0.5},
		windowDeps{keys: newKeyStore(failingRing{}, noEnv), build: fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil)})
	t.Cleanup(func() {
		w.ocr.close()
		w.bus.Close()
	})
	return w
}
