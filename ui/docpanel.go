package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/docrules"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/overlay"
)

// The choices of Document mode.
const (
	docAuto    = "Auto"
	docInvoice = "Invoice"
	docReceipt = "Receipt"
	docLocal   = "Local"
	docAzure   = "Azure"
)

var docModels = map[string]string{docAuto: analyzer.ModelAuto, docInvoice: analyzer.ModelInvoice, docReceipt: analyzer.ModelReceipt}

// prebuiltPagePrice is what Document Intelligence bills a page read by a
// prebuilt model (invoice, receipt, ID, layout) on the standard tier, pay
// as you go: USD 10 per 1,000 pages (the "S0 Pre-built Pages" meter,
// https://azure.microsoft.com/pricing/details/ai-document-intelligence/;
// the same figure LiteLLM's cost table for Document Intelligence uses). The
// free tier (F0) reads 500 pages a month at no charge.
const prebuiltPagePrice = 10.0 / 1000

const heuristicNote = "Local fields are heuristic (rules over the OCR, not a trained model): check them."

// docCloud is the Document Intelligence resource and the cloud budget as
// Settings say; the panel asks at every analysis, so changes apply at once.
type docCloud struct {
	azure    backend.Azure
	freeTier bool
	// faces blur faces before the picture leaves the machine; nil: privacy off.
	faces     analyzer.FaceFinder
	perMinute float64
	perDay    int
}

// docClientKey is what the Document Intelligence client was built from.
type docClientKey struct {
	endpoint, key   string
	entra, freeTier bool
	private         bool
}

// docPanel is the OCR panel's Document mode: it freezes the frame or the
// dragged region, reads the document's fields off the UI thread with
// Document Intelligence or the local rules, and shows them as a form under
// the picture, each field's outline on it.
type docPanel struct {
	content fyne.CanvasObject
	win     fyne.Window
	ctx     context.Context
	frames  snapshotSource
	ocr     analyzer.Analyzer // the panel's local OCR; nil: none
	cloud   func() docCloud
	// known is the text the OCR panel already read of a frame's region,
	// nil when it has not; Auto picks the cloud's model from it.
	known  func(seq int64, region image.Rectangle) *analyzer.ReadResult
	clock  interface{ Now() time.Time }
	region image.Rectangle

	model, backend        *widget.RadioGroup
	analyzeBtn, copyBtn   *widget.Button
	exports               []*widget.Button
	progress              *widget.ProgressBarInfinite
	status, note, costBox *widget.Label
	picture               *canvas.Raster
	fields                *widget.List
	items                 *widget.Table
	tabs                  *container.AppTabs

	// What is shown; the UI thread's.
	mat       gocv.Mat    // the part of the frame read
	origin    image.Point // where mat's top left is in the frame
	doc       *analyzer.Document
	names     []string // doc's fields, in reading order
	itemNames []string // the items table's columns
	selected  *analyzer.DocumentField
	source    string
	input     string
	latency   time.Duration

	// The analysis in flight: gen tells its result from a cancelled one's.
	busy   bool
	gen    int
	cancel context.CancelFunc
	wg     sync.WaitGroup

	rules    analyzer.DocumentAnalyzer
	client   analyzer.DocumentAnalyzer
	builtFor docClientKey
	budget   *schedule.Budget
	pages    int // pages Document Intelligence analysed this session
	free     int // of which on the free tier
	usd      float64
}

// docJob is one analysis, handed to its goroutine.
type docJob struct {
	ctx      context.Context
	gen      int
	frame    gocv.Mat // owned by the goroutine
	region   image.Rectangle
	da       analyzer.DocumentAnalyzer
	cloud    bool
	freeTier bool
	model    string
	text     *analyzer.ReadResult // already read, for Auto on the cloud
	input    string
}

func newDocPanel(ctx context.Context, win fyne.Window, frames snapshotSource, ocr analyzer.Analyzer, cloud func() docCloud) *docPanel {
	d := &docPanel{ctx: ctx, win: win, frames: frames, ocr: ocr, cloud: cloud, clock: clock.Real{}, budget: schedule.NewBudget(0, 0)}
	d.picture = canvas.NewRaster(d.drawPicture)
	d.picture.SetMinSize(fyne.NewSize(200, 120))
	d.model = choice([]string{docAuto, docInvoice, docReceipt}, docAuto, nil)
	start := docLocal
	if cloud().azure.Configured() {
		start = docAzure
	}
	d.backend = choice([]string{docLocal, docAzure}, start, func(string) { d.refreshNote() })
	d.analyzeBtn = widget.NewButtonWithIcon("Read frame", theme.SearchIcon(), d.analyze)
	d.analyzeBtn.Importance = widget.HighImportance
	d.progress = widget.NewProgressBarInfinite()
	d.progress.Stop()
	d.progress.Hide()
	d.status = wrapped("Press O or “Read frame” to read a receipt or an invoice; drag on the video to read a region.")
	d.note = wrapped(heuristicNote)
	d.note.Importance = widget.WarningImportance
	d.costBox = wrapped("")
	d.costBox.Importance = widget.LowImportance
	d.fields = d.newFieldList()
	d.items = d.newItemsTable()
	d.tabs = container.NewAppTabs(container.NewTabItem("Fields", d.fields), container.NewTabItem("Line items", d.items))

	d.copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), d.copySelected)
	d.copyBtn.Disable()
	exportJSON := widget.NewButtonWithIcon("JSON…", theme.DocumentSaveIcon(), func() { d.export("sightline-document.json", d.writeJSON) })
	exportCSV := widget.NewButtonWithIcon("CSV…", theme.DocumentSaveIcon(), func() { d.export("sightline-items.csv", d.writeCSV) })
	d.exports = []*widget.Button{exportJSON, exportCSV}
	for _, b := range d.exports {
		b.Disable()
	}

	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, d.backend, d.analyzeBtn),
		d.model,
		d.progress, d.status, d.note, d.costBox)
	split := container.NewVSplit(d.picture, d.tabs)
	split.Offset = 0.45
	d.content = container.NewBorder(top, container.NewGridWithColumns(3, d.copyBtn, exportJSON, exportCSV), nil, nil, split)
	d.refreshNote()
	d.refreshCost()
	return d
}

func choice(options []string, selected string, changed func(string)) *widget.RadioGroup {
	r := widget.NewRadioGroup(options, nil)
	r.Horizontal, r.Required = true, true
	r.SetSelected(selected)
	r.OnChanged = changed
	return r
}

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// setRegion is told about the region dragged on the video.
func (d *docPanel) setRegion(r image.Rectangle) {
	d.region = r
	d.analyzeBtn.SetText(actionOn("Read", r))
}

// analyze freezes the frame and reads its document on a goroutine; the UI
// stays live. Pressing it again while one runs starts over.
func (d *docPanel) analyze() {
	j, cloud, err := d.newJob()
	if err != nil {
		d.say(err.Error(), widget.DangerImportance)
		return
	}
	if j == nil {
		d.say("No picture yet.", widget.MediumImportance)
		return
	}
	if cloud != nil && !d.takeBudget(*cloud) {
		j.frame.Close()
		return
	}
	d.cancelRun("") // a re-freeze drops the analysis in flight
	d.gen++
	j.gen = d.gen
	j.ctx, d.cancel = context.WithCancel(d.ctx)
	d.setBusy(true)
	d.say(fmt.Sprintf("Reading %s with %s…", j.input, d.backend.Selected), widget.MediumImportance)
	d.wg.Add(1)
	go d.run(j)
}

// newJob freezes the frame for an analysis with the chosen backend and
// model (nil when there is no picture yet), with the cloud's settings when
// it goes to the cloud.
func (d *docPanel) newJob() (*docJob, *docCloud, error) {
	da, cloud, err := d.reader()
	if err != nil {
		return nil, nil, err
	}
	frame, seq, ok := d.frames.Frame(image.Rectangle{})
	if !ok {
		return nil, nil, nil
	}
	region := d.region.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	j := &docJob{frame: frame, region: region, da: da, model: docModels[d.model.Selected], input: frameInput(seq, region)}
	if cloud == nil {
		return j, nil, nil
	}
	j.cloud, j.freeTier = true, cloud.freeTier
	if j.model == analyzer.ModelAuto {
		if d.known != nil {
			j.text = d.known(seq, region)
		}
		if j.text == nil && d.ocr == nil {
			frame.Close()
			return nil, nil, errors.New("auto needs the text: read the frame in Text mode first, or choose Invoice or Receipt")
		}
	}
	return j, cloud, nil
}

// reader is the chosen backend: the local rules over the panel's OCR, or
// Document Intelligence as Settings configure it (with its settings, nil
// for local).
func (d *docPanel) reader() (analyzer.DocumentAnalyzer, *docCloud, error) {
	if d.backend.Selected == docLocal {
		if d.ocr == nil {
			return nil, nil, errors.New("no local OCR in this configuration")
		}
		if d.rules == nil {
			d.rules = docrules.New(d.ocr)
		}
		return d.rules, nil, nil
	}
	c := d.cloud()
	da, err := d.cloudReader(c)
	return da, &c, err
}

// cloudReader is the Document Intelligence client, rebuilt when Settings
// change it, behind face blurring when privacy is on.
func (d *docPanel) cloudReader(c docCloud) (analyzer.DocumentAnalyzer, error) {
	key := docClientKey{endpoint: c.azure.Endpoint, key: c.azure.Key, entra: c.azure.Entra, freeTier: c.freeTier, private: c.faces != nil}
	if d.client != nil && key == d.builtFor {
		return d.client, nil
	}
	if !c.azure.Configured() {
		return nil, errors.New("document Intelligence is not configured: set its endpoint and key in Settings (or DOCUMENT_INTELLIGENCE_ENDPOINT and DOCUMENT_INTELLIGENCE_KEY)")
	}
	// No retries: every call keeps to the budget; the user presses again.
	client, err := backend.DocumentIntelligence(c.azure, azure.DocumentOptions{FreeTier: c.freeTier})
	if err != nil {
		return nil, err
	}
	var da analyzer.DocumentAnalyzer = client
	if c.faces != nil {
		da = analyzer.DocumentAnalyzerWithPrivacy(client, c.faces)
	}
	d.client, d.builtFor = da, key
	return da, nil
}

// takeBudget takes the analysis's first page from the cloud budget
// (Settings' calls a minute and a day), or says why it cannot go yet.
func (d *docPanel) takeBudget(c docCloud) bool {
	d.budget.PerMinute, d.budget.PerDay = c.perMinute, c.perDay
	now := d.clock.Now()
	if d.budget.Take(now) {
		return true
	}
	if c.perDay > 0 && d.budget.UsedToday(now) >= c.perDay {
		d.say(fmt.Sprintf("Today's %d cloud calls (Settings) are spent; Local still reads documents.", c.perDay), widget.WarningImportance)
	} else {
		d.say(fmt.Sprintf("Cloud calls are spaced to %g a minute (Settings), or the service asked to wait: try again in a moment.", c.perMinute), widget.WarningImportance)
	}
	return false
}

// run reads the job's document; its result goes to the UI thread.
func (d *docPanel) run(j *docJob) {
	defer d.wg.Done()
	defer j.frame.Close()
	start := d.clock.Now()
	doc, err := d.read(j)
	var shown gocv.Mat
	if err == nil {
		shown = mats.Crop(j.frame, j.region)
	}
	latency := d.clock.Now().Sub(start)
	onUI(func() { d.finish(j, shown, doc, latency, err) })
}

// read picks the model when Auto asks the cloud, and reads the document.
func (d *docPanel) read(j *docJob) (*analyzer.Document, error) {
	req := analyzer.DocumentRequest{Model: j.model}
	if j.model == analyzer.ModelAuto && j.cloud {
		model, err := d.pickModel(j)
		if err != nil {
			return nil, err
		}
		req.Model = model
	}
	return analyzer.AnalyzeDocumentRegion(j.ctx, j.da, j.frame, j.region, req)
}

// pickModel chooses invoice or receipt for the cloud as the local rules'
// Auto does, from the text the OCR already read, else from reading it on
// this machine: choosing costs no cloud call.
func (d *docPanel) pickModel(j *docJob) (string, error) {
	text := j.text
	if text == nil {
		res, err := analyzer.AnalyzeRegion(j.ctx, d.ocr, j.frame, j.region, analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}})
		if err != nil {
			return "", fmt.Errorf("reading the text to choose the model: %w", err)
		}
		text = res.ReadResult
	}
	return docrules.Extract(text, analyzer.ModelAuto).Model, nil
}

// finish takes a job's outcome (and shown, the part of the frame read);
// a cancelled job's is dropped. UI thread.
func (d *docPanel) finish(j *docJob, shown gocv.Mat, doc *analyzer.Document, latency time.Duration, err error) {
	if j.gen != d.gen || !d.busy {
		if shown.Ptr() != nil {
			shown.Close()
		}
		return
	}
	defer d.setBusy(false) // last: tests wait on it
	d.cancel()
	if err != nil {
		if t, ok := schedule.RetryAfter(err, d.clock.Now()); ok && j.cloud {
			d.budget.Defer(t)
		}
		d.say("Analysis failed: "+azure.Reason(err), widget.DangerImportance)
		return
	}
	if j.cloud {
		d.charge(doc.Pages, j.freeTier)
	}
	d.show(shown, j.region.Min, doc, j.da.Name(), j.input, latency)
}

// cancelRun cancels the analysis in flight, if any, saying why when why
// is not "".
func (d *docPanel) cancelRun(why string) {
	if !d.busy {
		return
	}
	d.cancel()
	d.gen++
	d.setBusy(false)
	if why != "" {
		d.say(why, widget.MediumImportance)
	}
}

func (d *docPanel) setBusy(busy bool) {
	d.busy = busy
	if busy {
		d.progress.Show()
		d.progress.Start()
		return
	}
	d.progress.Stop()
	d.progress.Hide()
}

// charge counts an analysis's pages: in the budget (its first page was
// taken before the call) and in the cost.
func (d *docPanel) charge(pages int, freeTier bool) {
	pages = max(pages, 1)
	d.budget.Spend(d.clock.Now(), pages-1)
	d.pages += pages
	if freeTier {
		d.free += pages
	} else {
		d.usd += float64(pages) * prebuiltPagePrice
	}
	d.refreshCost()
}

// spent is what Document Intelligence analysed and cost this session.
func (d *docPanel) spent() (pages int, usd float64) { return d.pages, d.usd }

func (d *docPanel) refreshCost() {
	text := fmt.Sprintf("Azure: no page analysed yet. A page costs $%.2f with the prebuilt models; the free tier reads 500 pages a month.", prebuiltPagePrice)
	if d.pages > 0 {
		text = fmt.Sprintf("Azure this session: %s, $%.4f", plural(d.pages, "page"), d.usd)
		if d.free > 0 {
			text += fmt.Sprintf(" (%d on the free tier, not billed)", d.free)
		}
		text += "."
	}
	d.costBox.SetText(text)
}

// refreshNote shows the heuristic warning while Local is chosen or a
// local result is shown, and what the cloud cost while Azure is chosen.
func (d *docPanel) refreshNote() {
	local := d.backend.Selected == docLocal
	d.note.Hidden = !local && (d.doc == nil || !d.doc.Heuristic)
	d.costBox.Hidden = local
	d.note.Refresh()
	d.costBox.Refresh()
}

// plural is n things, in English.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func (d *docPanel) say(text string, imp widget.Importance) {
	d.status.Importance = imp
	d.status.SetText(text)
}

// show displays doc, in frame coordinates, over m, the part of the frame
// read, whose top left is at origin in the frame. It takes ownership of m.
func (d *docPanel) show(m gocv.Mat, origin image.Point, doc *analyzer.Document, source, input string, latency time.Duration) {
	if d.mat.Ptr() != nil {
		d.mat.Close()
	}
	d.mat, d.origin, d.doc, d.source, d.input, d.latency = m, origin, doc, source, input, latency
	d.names, d.itemNames = readingOrder(doc.Fields), doc.ItemNames()
	d.fields.UnselectAll()
	d.items.UnselectAll()
	d.selectField(nil)
	d.fields.Refresh()
	for i, name := range d.itemNames {
		d.items.SetColumnWidth(i, columnWidth(name))
	}
	d.items.Refresh()
	d.tabs.Items[1].Text = fmt.Sprintf("Line items (%d)", len(doc.Items))
	d.tabs.Refresh()
	for _, b := range d.exports {
		b.Enable()
	}
	d.say(fmt.Sprintf("%s: %d fields, %d line items from %s (%s, %.1f s).",
		cmp.Or(doc.DocType, doc.Model), len(d.names), len(doc.Items), input, source, latency.Seconds()), widget.MediumImportance)
	d.refreshNote()
	d.render()
}

// readingOrder lists fields as they are printed, top to bottom and left
// to right; those without a place come last, by name.
func readingOrder(fields map[string]analyzer.DocumentField) []string {
	place := func(name string) (unplaced int, top, left float64) {
		poly := fields[name].BoundingPolygon
		if len(poly) == 0 {
			return 1, 0, 0
		}
		top, left = poly[0].Y, poly[0].X
		for _, p := range poly[1:] {
			top, left = min(top, p.Y), min(left, p.X)
		}
		return 0, top, left
	}
	names := slices.Collect(maps.Keys(fields))
	slices.SortFunc(names, func(a, b string) int {
		ua, ta, la := place(a)
		ub, tb, lb := place(b)
		return cmp.Or(cmp.Compare(ua, ub), cmp.Compare(ta, tb), cmp.Compare(la, lb), strings.Compare(a, b))
	})
	return names
}

// selectField highlights f's outline on the picture (nil: none).
func (d *docPanel) selectField(f *analyzer.DocumentField) {
	d.selected = f
	if f == nil {
		d.copyBtn.Disable()
	} else {
		d.copyBtn.Enable()
	}
	d.render()
}

// render redraws the picture; UI thread.
func (d *docPanel) render() { d.picture.Refresh() }

// Outline widths on the picture as shown, in pixels.
const (
	fieldOutline    = 2
	selectedOutline = 3
)

// drawPicture draws the frozen picture fitted into w×h pixels, every
// field's outline in the colour of its confidence and the selected field
// filled. Drawing at the size shown keeps the outlines as wide on screen
// for a 3000-pixel photo as for a small region. It runs on the paint
// thread, as the UI does.
func (d *docPanel) drawPicture(w, h int) image.Image {
	if d.mat.Ptr() == nil || d.mat.Empty() || d.doc == nil || w < 2 || h < 2 {
		return placeholder()
	}
	scale := min(float64(w)/float64(d.mat.Cols()), float64(h)/float64(d.mat.Rows()))
	fit := image.Pt(max(1, int(float64(d.mat.Cols())*scale)), max(1, int(float64(d.mat.Rows())*scale)))
	shown := gocv.NewMat()
	defer shown.Close()
	gocv.Resize(d.mat, &shown, fit, 0, 0, gocv.InterpolationArea)
	for _, name := range d.names {
		f := d.doc.Fields[name]
		overlay.Outline(&shown, d.inPicture(f.BoundingPolygon, scale), confidenceColour(f.Confidence), fieldOutline, false)
	}
	if d.selected != nil {
		overlay.Outline(&shown, d.inPicture(d.selected.BoundingPolygon, scale), selectionColor, selectedOutline, true)
	}
	// Centred on a transparent w×h, so the raster is not stretched.
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	at := image.Pt((w-fit.X)/2, (h-fit.Y)/2)
	draw.Draw(out, image.Rectangle{Min: at, Max: at.Add(fit)}, toRGBA(shown, nil, nil), image.Point{}, draw.Src)
	return out
}

// inPicture turns a polygon in frame coordinates into the pixels of the
// picture shown at scale.
func (d *docPanel) inPicture(poly []analyzer.DocumentPoint, scale float64) []analyzer.Point {
	pts := make([]analyzer.Point, len(poly))
	for i, p := range poly {
		pts[i] = analyzer.Point{X: int(math.Round((p.X - float64(d.origin.X)) * scale)), Y: int(math.Round((p.Y - float64(d.origin.Y)) * scale))}
	}
	return pts
}

func (d *docPanel) copySelected() {
	if d.selected == nil {
		return
	}
	v := d.selected.Text()
	fyne.CurrentApp().Clipboard().SetContent(v)
	d.say(fmt.Sprintf("Copied %q.", v), widget.MediumImportance)
}

// writeJSON writes the `document` command's line for what is shown.
func (d *docPanel) writeJSON(w io.Writer) error {
	ms := float64(d.latency.Microseconds()) / 1000
	return json.NewEncoder(w).Encode(resultLine{Input: d.input, Success: true, Source: d.source, LatencyMS: &ms, Data: d.doc})
}

// writeCSV writes the line items, one row an item.
func (d *docPanel) writeCSV(w io.Writer) error { return d.doc.WriteItemsCSV(w) }

func (d *docPanel) export(name string, write func(io.Writer) error) {
	saveFile(d.win, name, write, func(path string) { d.say("Saved "+path, widget.MediumImportance) })
}

// close cancels the analysis in flight, waits for its goroutine and frees
// the picture.
func (d *docPanel) close() {
	d.cancelRun("")
	d.wg.Wait()
	if d.mat.Ptr() != nil {
		d.mat.Close()
		d.mat = gocv.Mat{}
	}
}

// documentCloud is Document mode's resource: the endpoint in Settings (the
// environment's when none is saved), the key from the key store, the tier,
// privacy and the cloud budget.
func (w *mainWindow) documentCloud() docCloud {
	key, _ := w.keys.Get(keyDocument)
	c := docCloud{
		azure: backend.Azure{Endpoint: cmp.Or(w.st.DocEndpoint, os.Getenv("DOCUMENT_INTELLIGENCE_ENDPOINT")), Key: key,
			Entra: os.Getenv("SIGHTLINE_AZURE_AUTH") == "entra"},
		freeTier: w.st.DocFreeTier, perMinute: w.st.CloudPerMinute, perDay: w.st.CloudPerDay,
	}
	if ff := w.privacy(); ff != nil {
		c.faces = ff
	}
	return c
}
