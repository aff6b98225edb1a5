package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/contract"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/inspect"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
	"github.com/zalando/go-keyring"
)

// fixedAnalyzer answers every request with the same analysis.
type fixedAnalyzer struct {
	name string
	a    analyzer.Analysis
}

func (f *fixedAnalyzer) Analyze(context.Context, analyzer.Image, analyzer.Request) (*analyzer.Analysis, error) {
	a := f.a
	return &a, nil
}
func (f *fixedAnalyzer) Supports(analyzer.Feature) bool { return true }
func (f *fixedAnalyzer) Name() string                   { return f.name }

func box(x, y, w, h int) analyzer.BoundingBox { return analyzer.BoundingBox{X: x, Y: y, W: w, H: h} }

// scene: a confident person and a doubtful car.
var sceneAnalysis = analyzer.Analysis{
	Objects: []analyzer.Object{
		{Name: "car", Confidence: 0.40, BoundingBox: box(40, 40, 200, 120)},
		{Name: "person", Confidence: 0.90, BoundingBox: box(360, 60, 100, 240)},
	},
	People:   []analyzer.Person{{Confidence: 0.90, BoundingBox: box(360, 60, 100, 240)}},
	Tags:     []analyzer.Tag{{Name: "outdoor", Confidence: 0.93}, {Name: "car", Confidence: 0.40}},
	Metadata: analyzer.Metadata{Width: 640, Height: 360},
}

// fixedBuild makes the scheduler options with these backends, as
// backend.Schedule would with the app's models: the requested features, or
// the defaults.
func fixedBuild(local, cloud analyzer.Analyzer) builder {
	return func(c backend.Config) (schedule.Options, error) {
		o := schedule.Options{Local: local, Cloud: cloud, Mode: c.Mode, Features: c.Features, Options: c.Options, LocalFPS: c.LocalFPS}
		if o.Features == nil {
			o.Features = backend.DefaultFeatures(cloud != nil)
		}
		return o, nil
	}
}

// greyClip is a two-second grey 640×360 video.
func greyClip(t *testing.T) string {
	return videotest.Make(t, "grey-640x360.mp4", "-f", "lavfi", "-i", "color=c=gray:s=640x360:r=10:d=2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
}

// screen is what a player's display shows: the newest picture, copied.
type screen struct {
	mu  sync.Mutex
	img *image.RGBA
	n   int
}

func (s *screen) show(img *image.RGBA) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.img = &image.RGBA{Pix: slices.Clone(img.Pix), Stride: img.Stride, Rect: img.Rect}
	s.n++
}

func (s *screen) shown() (*image.RGBA, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.img, s.n
}

// livePlayer plays a grey clip through a real pipeline with the build's
// backends and pauses on its first frame once that frame's results are
// drawn on it.
func livePlayer(t *testing.T, mode schedule.Mode, build builder) (*player, *screen) {
	t.Helper()
	bus := event.NewBus(clock.Real{}, "")
	p := newPlayer(Config{Source: greyClip(t), Threshold: 0.25}, backend.Config{Mode: mode}, build, bus, nil, inspect.Options{})
	var sc screen
	p.display.show = sc.show
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; bus.Close() })
	p.Step() // paused, after one frame
	go func() { defer close(done); p.Run(ctx) }()
	waitFor(t, "the first frame's results", func() bool { return p.HeldView().Analysis != nil })
	redrawn(t, p, &sc)
	return p, &sc
}

// redrawn asks a paused player to redraw and waits for the new picture.
func redrawn(t *testing.T, p *player, sc *screen) *image.RGBA {
	t.Helper()
	_, before := sc.shown()
	p.Redraw()
	var img *image.RGBA
	waitFor(t, "the redraw", func() bool {
		var n int
		img, n = sc.shown()
		return n > before
	})
	return img
}

func countRGBA(img *image.RGBA, c color.RGBA) int {
	n := 0
	for i := 0; i+3 < len(img.Pix); i += 4 {
		if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B {
			n++
		}
	}
	return n
}

// The threshold slider changes which boxes are drawn at once, from the
// result already there: no new analysis.
func TestThresholdSliderRedrawsWithoutAnalysis(t *testing.T) {
	newTestApp(t)
	p, sc := livePlayer(t, schedule.ModeLocal, fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil))
	c := newControls(test.NewWindow(nil), p, nil)
	before := p.Stats().Schedule
	car := overlay.ClassColor("car")

	tests := []struct {
		threshold   float64
		dimmed      bool
		carDrawn    bool
		personDrawn bool
	}{
		{0.25, false, true, true},
		{0.50, false, false, true},
		{0.95, false, false, false},
		{0.50, true, false, true}, // dimmed: the car is drawn faded, not in its colour
		{0.30, false, true, true},
	}
	for _, tt := range tests {
		c.thresh.SetValue(tt.threshold)
		c.dimmed.SetChecked(tt.dimmed)
		shown := redrawn(t, p, sc)
		if got := countRGBA(shown, car) > 100; got != tt.carDrawn {
			t.Errorf("threshold %.2f dimmed %v: car drawn %v, want %v", tt.threshold, tt.dimmed, got, tt.carDrawn)
		}
		if got := countRGBA(shown, overlay.PersonColor) > 100; got != tt.personDrawn {
			t.Errorf("threshold %.2f: person drawn %v, want %v", tt.threshold, got, tt.personDrawn)
		}
		if got := c.threshText.Text; got != thresholdText(tt.threshold) {
			t.Errorf("label %q", got)
		}
	}
	if after := p.Stats().Schedule; after.Local.Calls != before.Local.Calls || after.FramesOffered != before.FramesOffered {
		t.Errorf("moving the slider ran analyses: %+v → %+v", before, after)
	}
}

// Unticking a class in the class filter hides it; a per-class threshold
// overrides the global one.
func TestClassFilterAndPerClassThreshold(t *testing.T) {
	newTestApp(t)
	p, sc := livePlayer(t, schedule.ModeLocal, fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil))
	c := newControls(test.NewWindow(nil), p, nil)
	c.setClasses(seenClasses(&sceneAnalysis))
	car := overlay.ClassColor("car")

	c.classChecks["car"].SetChecked(false)
	if countRGBA(redrawn(t, p, sc), car) > 0 {
		t.Error("car drawn after unticking it")
	}
	c.classChecks["car"].SetChecked(true)
	c.classSel.SetSelected("car")
	c.classSl.SetValue(0.6)
	if countRGBA(redrawn(t, p, sc), car) > 0 {
		t.Error("car 0.40 drawn under its own threshold 0.60")
	}
	if got := p.Filter().ThresholdFor("person"); got != 0.25 {
		t.Errorf("person threshold %v changed with the car's", got)
	}
}

// The backend switch reaches the running scheduler.
func TestBackendSwitchReachesScheduler(t *testing.T) {
	newTestApp(t)
	p, _ := livePlayer(t, schedule.ModeAuto, fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, &fixedAnalyzer{name: "azure", a: sceneAnalysis}))
	c := newControls(test.NewWindow(nil), p, nil)
	for _, tt := range []struct{ choice, active string }{
		{"Local", analyzer.SourceLocal}, {"Azure", analyzer.SourceCloud}, {"Auto", analyzer.SourceCloud}, {"Local", analyzer.SourceLocal},
	} {
		c.backend.SetSelected(tt.choice)
		if got := p.Stats().Schedule.Active; got != tt.active {
			t.Errorf("%s: active backend %q, want %q", tt.choice, got, tt.active)
		}
	}
}

// Enabling a layer the pipeline does not compute reconfigures it with the
// feature; disabling one only hides it.
func TestLayerToggleReconfiguresOnlyWhenNeeded(t *testing.T) {
	newTestApp(t)
	p, _ := livePlayer(t, schedule.ModeLocal, fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil))
	c := newControls(test.NewWindow(nil), p, nil)
	first := p.Features()
	c.layerChecks["People"].SetChecked(false)
	if !p.Filter().HidePeople || !slices.Equal(p.Features(), first) {
		t.Error("hiding people should only change the filter")
	}
	c.layerChecks["Faces"].SetChecked(true)
	if !p.Features().Has(analyzer.FeatureFaces) {
		t.Error("faces not requested")
	}
}

// fixedFrame is a snapshotSource with one image.
type fixedFrame struct{ m gocv.Mat }

func (f fixedFrame) Frame(r image.Rectangle) (gocv.Mat, int64, bool) {
	return mats.Crop(f.m, r), 7, true
}

func readImage(t *testing.T, path string) gocv.Mat {
	t.Helper()
	m := gocv.IMRead(path, gocv.IMReadColor)
	if m.Empty() {
		t.Fatalf("cannot read %s", path)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The OCR panel reads a real document with the local backend and lists its
// lines; keywords highlight lines; the JSON export is the `ocr` shape.
func TestOCRPanelListsLinesOfRealRead(t *testing.T) {
	newTestApp(t)
	b := local.New(local.Options{})
	defer b.Close()
	win := test.NewWindow(nil)
	pick := func(string) (analyzer.Analyzer, error) { return b, nil }
	o := newOCRPanel(context.Background(), win, fixedFrame{readImage(t, ocrTestImage)}, pick, defaultKeywords, false)
	defer o.close()
	win.SetContent(o.content)
	win.Resize(fyne.NewSize(420, 700))

	o.read()
	waitFor(t, "the OCR read", func() bool {
		var busy bool
		onUIWait(func() { busy = o.busy })
		return !busy
	})
	if n := o.list.Length(); n < 10 {
		t.Fatalf("%d lines listed, want the page's 13 or so; status %q", n, o.status.Text)
	}
	first := o.result.StructuredData[0].Text
	if !strings.Contains(first, "technical details") {
		t.Errorf("first line %q", first)
	}
	if !strings.Contains(o.status.Text, "lines") || o.input != "frame 7" {
		t.Errorf("status %q, input %q", o.status.Text, o.input)
	}
	o.keywords.SetText("courses")
	if !o.filter().Highlighted(o.result.StructuredData[1].Text) {
		t.Errorf("line %q not highlighted for “courses”", o.result.StructuredData[1].Text)
	}
	o.list.Select(0)
	if o.copyLine.Disabled() {
		t.Error("copy line stays disabled with a line selected")
	}
	o.copyLine.OnTapped()
	if got := fyne.CurrentApp().Clipboard().Content(); got != first {
		t.Errorf("clipboard %q, want %q", got, first)
	}

	var buf bytes.Buffer
	if err := o.writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Input   string `json:"input"`
		Success bool   `json:"success"`
		Source  string `json:"source"`
		Data    struct {
			FullText       string             `json:"full_text"`
			StructuredData []contract.OCRLine `json:"structured_data"`
			TotalWords     int                `json:"total_words"`
			Language       string             `json:"language"`
		} `json:"data"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if !line.Success || line.Source != "local" || len(line.Data.StructuredData) != o.list.Length() || line.Data.TotalWords == 0 || line.Data.Language != "en" {
		t.Errorf("JSON export %s", buf.String())
	}
	buf.Reset()
	o.writeTXT(&buf)
	if !strings.HasPrefix(buf.String(), first+"\n") {
		t.Errorf("TXT export starts %q", buf.String()[:min(60, buf.Len())])
	}
}

// A fixed read result: lines listed in order, keyword lines marked.
func TestOCRPanelShowsFixedResult(t *testing.T) {
	newTestApp(t)
	o := newOCRPanel(context.Background(), test.NewWindow(nil), nil, nil, defaultKeywords, false)
	defer o.close()
	poly := []analyzer.Point{{X: 10, Y: 10}, {X: 200, Y: 10}, {X: 200, Y: 40}, {X: 10, Y: 40}}
	rr := &analyzer.ReadResult{Blocks: []analyzer.Block{{Lines: []analyzer.Line{
		{Text: "INVOICE 2024-117", BoundingPolygon: poly},
		{Text: "Widgets x3", BoundingPolygon: poly},
		{Text: "Total 42.00", BoundingPolygon: poly},
	}}}}
	o.show(gocv.NewMatWithSize(120, 320, gocv.MatTypeCV8UC3), image.Point{}, rr, "azure", "receipt")
	var got []string
	for _, l := range o.result.StructuredData {
		got = append(got, l.Text)
	}
	if strings.Join(got, "|") != "INVOICE 2024-117|Widgets x3|Total 42.00" {
		t.Errorf("lines %q", got)
	}
	for i, want := range []bool{true, false, true} {
		if h := o.filter().Highlighted(got[i]); h != want {
			t.Errorf("%q highlighted %v, want %v", got[i], h, want)
		}
	}
}

// The Custom Vision panel runs the real local export and asks for review
// when the top probability is under the threshold.
func TestCVPanelReviewRequired(t *testing.T) {
	dir := filepath.Join(os.Getenv("SIGHTLINE_MODELS"), "customvision-classifier-sample")
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatalf("Custom Vision sample missing (run with SIGHTLINE_MODELS=/work/shared/models): %v", err)
	}
	newTestApp(t)
	win := test.NewWindow(nil)
	c := newCVPanel(context.Background(), win, fixedFrame{readImage(t, filepath.Join(dir, "test_image.jpg"))}, newKeyStore(failingRing{}, noEnv), settings{CVModelDir: dir})
	defer c.close()
	win.SetContent(c.content)

	c.predict()
	waitFor(t, "the prediction", func() bool {
		var busy bool
		onUIWait(func() { busy = c.busy })
		return !busy
	})
	if len(c.preds) == 0 {
		t.Fatalf("no predictions: %q", c.verdict.Text)
	}
	top := contract.NewPredictionResult(c.preds, 0).TopPrediction
	for _, tt := range []struct {
		threshold float64
		review    bool
	}{{0.05, false}, {min(1, top.Probability+0.01), true}, {analyzer.DefaultReviewThreshold, top.Probability <= analyzer.DefaultReviewThreshold}} {
		c.thresh.SetValue(tt.threshold)
		if got := strings.Contains(c.verdict.Text, "Review required"); got != tt.review {
			t.Errorf("threshold %.2f (top %s %.3f): verdict %q", tt.threshold, top.Tag, top.Probability, c.verdict.Text)
		}
	}
	if len(c.bars.Objects) != len(c.preds) || len(c.recentItems) != 1 {
		t.Errorf("%d bars for %d predictions, %d recent", len(c.bars.Objects), len(c.preds), len(c.recentItems))
	}
}

// A fixed prediction list under the threshold asks for review.
func TestCVPanelFixedPredictions(t *testing.T) {
	newTestApp(t)
	c := newCVPanel(context.Background(), test.NewWindow(nil), nil, newKeyStore(failingRing{}, noEnv), settings{})
	defer c.close()
	c.show(gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8UC3), []analyzer.Prediction{{Tag: "scratch", Probability: 0.41}, {Tag: "dent", Probability: 0.62}})
	if !strings.Contains(c.verdict.Text, "Review required") || !strings.Contains(c.verdict.Text, "dent") {
		t.Errorf("verdict %q", c.verdict.Text)
	}
}

type failingRing struct{}

func (failingRing) Get(string, string) (string, error) { return "", errors.New("no Secret Service") }
func (failingRing) Set(string, string, string) error   { return errors.New("no Secret Service") }

type memRing map[string]string

func (m memRing) Get(_, u string) (string, error) {
	if v, ok := m[u]; ok {
		return v, nil
	}
	return "", keyring.ErrNotFound
}
func (m memRing) Set(_, u, v string) error { m[u] = v; return nil }

func noEnv(string) string { return "" }

func TestKeyStore(t *testing.T) {
	env := func(k string) string {
		if k == keyVision {
			return "from-env"
		}
		return ""
	}
	tests := []struct {
		name     string
		ring     keyringAPI
		getenv   func(string) string
		wantFrom string
		memory   bool
	}{
		{"no keyring: memory", failingRing{}, noEnv, "this session", true},
		{"keyring", memRing{}, noEnv, "OS keyring", false},
		{"environment wins", memRing{}, env, "environment", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKeyStore(tt.ring, tt.getenv)
			if err := k.Set(keyVision, "s3cr3t-value"); err != nil {
				t.Fatal(err)
			}
			v, from := k.Get(keyVision)
			if from != tt.wantFrom || (from != "environment" && v != "s3cr3t-value") {
				t.Errorf("Get = %q from %q, want from %q", v, from, tt.wantFrom)
			}
			if inMem := strings.Contains(k.Note(), "memory"); inMem != tt.memory {
				t.Errorf("note %q", k.Note())
			}
			if strings.Contains(k.Note(), "s3cr3t") {
				t.Error("the note shows the key")
			}
		})
	}
}

func TestAddRecent(t *testing.T) {
	r := addRecent([]string{"a", "b", "c"}, "b")
	if strings.Join(r, ",") != "b,a,c" {
		t.Errorf("got %v", r)
	}
	for i := range 20 {
		r = addRecent(r, string(rune('d'+i)))
	}
	if len(r) != maxRecent {
		t.Errorf("%d recent sources kept", len(r))
	}
}

// Golden renders: the scene panel with a fixed result and the HUD.
func TestCaptionPanelRenders(t *testing.T) {
	newTestApp(t)
	s := newCaptionPanel()
	a := sceneAnalysis
	a.Caption = &analyzer.Caption{Text: "two people walking past a parked car", Confidence: 0.81}
	s.update(&analyzer.Merged{Analysis: &a, Source: "local", CloudSource: "azure"}, true, "", 0.25)
	w := test.NewWindow(s.content)
	w.Resize(fyne.NewSize(360, 320))
	test.AssertRendersToMarkup(t, "caption.xml", w.Canvas())
	// Tags at or over the threshold are listed: outdoor 0.93 and car 0.40.
	if n := len(s.tags.Objects); n != 2 {
		t.Errorf("%d tags listed", n)
	}
	s.update(&analyzer.Merged{Analysis: &a, Source: "local"}, true, "", 0.5)
	if n := len(s.tags.Objects); n != 1 {
		t.Errorf("%d tags listed over 0.5", n)
	}
}

func TestHUDRenders(t *testing.T) {
	newTestApp(t)
	h := newHUD()
	a := sceneAnalysis
	cur := sample{view: pipeline.View{Merged: analyzer.Merged{Analysis: &a, Source: "local", Age: 80 * time.Millisecond}, Active: "local"}}
	h.update(meters{displayFPS: 10, sourceFPS: 10, localFPS: 8.5, localLat: 95 * time.Millisecond}, cur, video.Status{State: video.StatePlaying}, false, false)
	w := test.NewWindow(h.content)
	w.Resize(fyne.NewSize(640, 60))
	test.AssertRendersToMarkup(t, "hud.xml", w.Canvas())
}

// The keyboard drives the live view: space pauses and resumes, + and -
// move the threshold, and typing into an entry does neither.
func TestKeyboardShortcuts(t *testing.T) {
	a := newTestApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newMainWindow(ctx, a, Config{Source: deps.DemoVideo, Mode: schedule.ModeLocal, Threshold: 0.5},
		windowDeps{keys: newKeyStore(failingRing{}, noEnv), build: fixedBuild(&fixedAnalyzer{name: "local", a: sceneAnalysis}, nil)})
	defer w.bus.Close()
	c := w.win.Canvas()
	steps := []struct {
		keys      string
		paused    bool
		threshold float64
	}{
		{" ", true, 0.5},
		{"+", true, 0.5 + threshStep},
		{"--", true, 0.5 - threshStep},
		{" ", false, 0.5 - threshStep},
	}
	for _, s := range steps {
		test.TypeOnCanvas(c, s.keys)
		if got := w.p.Paused(); got != s.paused {
			t.Errorf("after %q: paused %v, want %v", s.keys, got, s.paused)
		}
		if got := w.p.Filter().Threshold; math.Abs(got-s.threshold) > 1e-9 {
			t.Errorf("after %q: threshold %v, want %v", s.keys, got, s.threshold)
		}
	}

	// A click on a checkbox or a slider does not keep the keyboard: Space
	// still pauses (it used to toggle the checkbox clicked last).
	for _, tap := range []fyne.Tappable{w.controls.dimmed, w.controls.layerChecks["Faces"]} {
		before := w.p.Paused()
		test.Tap(tap)
		test.TypeOnCanvas(c, " ")
		if w.p.Paused() == before {
			t.Errorf("Space after clicking %T did not toggle the pause", tap)
		}
	}
	// Enter in the source field plays what was typed.
	w.controls.source.SetText("")
	test.Type(w.controls.source, "rtsp://camera.invalid/stream")
	w.controls.source.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := w.p.Source(); !strings.HasSuffix(got, "rtsp://camera.invalid/stream") {
		t.Errorf("Enter in the source field: playing %q", got)
	}
}

// With privacy on in the app, what reaches the cloud has its faces
// pixelated; off, it does not. The cloud is the one the live view and the
// OCR panel use.
func TestPrivacyReachesTheCloudPath(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	b := local.New(local.Options{})
	defer b.Close()
	img := readImage(t, "../../shared/azure/images/azure-ai-vision-sdk_sample.jpg")
	faces, err := b.Faces(img)
	if err != nil || len(faces) != 1 {
		t.Fatalf("faces in the sample: %v %v", faces, err)
	}
	f := faces[0].BoundingBox
	faceRect := image.Rect(f.X, f.Y, f.X+f.W, f.Y+f.H)
	bus := event.NewBus(clock.Real{}, "")
	defer bus.Close()
	build := func(c backend.Config) (schedule.Options, error) { return backend.Schedule(c, b) }
	p := newPlayer(Config{Source: deps.DemoVideo}, backend.Config{Mode: schedule.ModeCloud, Vision: backend.Azure{Endpoint: srv.URL, Key: srv.Key}}, build, bus, nil, inspect.Options{})
	for _, on := range []bool{false, true} {
		if err := p.SetPrivacy(on); err != nil {
			t.Fatal(err)
		}
		if _, err := p.CloudAnalyzer().Analyze(context.Background(), analyzer.Image{Mat: img}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}}); err != nil {
			t.Fatal(err)
		}
		sent, err := gocv.IMDecode(srv.Last().Image, gocv.IMReadColor)
		if err != nil || sent.Empty() {
			t.Fatalf("uploaded image unreadable: %v", err)
		}
		changed := meanAbsDiff(sent, img, faceRect)
		sent.Close()
		if blurred := changed > 8; blurred != on {
			t.Errorf("privacy %v: the face changed by %.1f grey levels on the way to the cloud", on, changed)
		}
	}
}

// meanAbsDiff is the mean absolute difference of a and b inside r.
func meanAbsDiff(a, b gocv.Mat, r image.Rectangle) float64 {
	ra, rb := a.Region(r), b.Region(r)
	defer ra.Close()
	defer rb.Close()
	d := gocv.NewMat()
	defer d.Close()
	gocv.AbsDiff(ra, rb, &d)
	m := d.Mean()
	return (m.Val1 + m.Val2 + m.Val3) / 3
}

// countingFaces is the real local face finder, counting its calls.
type countingFaces struct {
	analyzer.FaceFinder
	calls atomic.Int32
}

func (c *countingFaces) Faces(m gocv.Mat) ([]analyzer.Face, error) {
	c.calls.Add(1)
	return c.FaceFinder.Faces(m)
}

// The Custom Vision panel's cloud project goes through the real client to
// the loopback service, and blurs faces first when privacy is on.
func TestCVPanelCloudProject(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	newTestApp(t)
	frame := readImage(t, "../../shared/azure/images/customvision-windows_test_image.jpg")
	b := local.New(local.Options{})
	defer b.Close()
	for _, private := range []bool{false, true} {
		keys := newKeyStore(failingRing{}, func(k string) string {
			return map[string]string{keyPrediction: srv.Key}[k]
		})
		c := newCVPanel(context.Background(), test.NewWindow(nil), fixedFrame{frame}, keys, settings{})
		faces := &countingFaces{FaceFinder: b}
		if private {
			c.privacy = func() analyzer.FaceFinder { return faces }
		}
		c.kind.SetSelected(cvCloud)
		c.endpoint.SetText(srv.URL)
		c.project.SetText("0d3b2f4e-6c1a-4e8b-9f27-5a4c3b2d1e0f")
		c.name.SetText("Iteration1")
		c.predict()
		waitFor(t, "the cloud prediction", func() bool {
			var busy bool
			onUIWait(func() { busy = c.busy })
			return !busy
		})
		if len(c.preds) == 0 || !strings.Contains(c.verdict.Text, c.preds[0].Tag) {
			t.Errorf("private %v: predictions %v, verdict %q", private, c.preds, c.verdict.Text)
		}
		if got := faces.calls.Load() > 0; got != private {
			t.Errorf("private %v: faces looked for: %v", private, got)
		}
		c.close()
	}
	if reqs := srv.Requests(); len(reqs) != 2 || !strings.Contains(reqs[0].Path, "/0d3b2f4e-6c1a-4e8b-9f27-5a4c3b2d1e0f/classify/iterations/Iteration1/image") {
		t.Errorf("requests %v", reqs)
	}
}
