package local

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
)

// customVisionSample finds the sample export.
func customVisionSample(t testing.TB) string { return onnxtest.CustomVisionSample(t) }

func TestCustomVisionClassifiesSample(t *testing.T) {
	dir := customVisionSample(t)
	cv, err := NewCustomVision(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	for _, tc := range []struct {
		image, want string
	}{
		{"japanese_cherry_6.jpg", "JapaneseCherry"},
		{"hemlock_1.jpg", "hemlock"},
	} {
		t.Run(tc.image, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.image))
			if err != nil {
				t.Fatal(err)
			}
			preds, err := cv.Predict(context.Background(), analyzer.Image{Bytes: b}, false)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %+v", tc.image, preds)
			if len(preds) != 2 || preds[0].Tag != tc.want || preds[0].Probability < 0.7 {
				t.Fatalf("got %+v, want %s first with probability >= 0.7", preds, tc.want)
			}
			if preds[0].Probability < preds[1].Probability {
				t.Fatalf("not sorted: %+v", preds)
			}
		})
	}
	if _, err := cv.Predict(context.Background(), analyzer.Image{Bytes: []byte("x")}, true); err == nil || !strings.Contains(err.Error(), "classifier") {
		t.Errorf("detect on a classifier: got %v, want a clear error", err)
	}
	if _, err := cv.Predict(context.Background(), analyzer.Image{URL: "https://example.com/a.jpg"}, false); err == nil {
		t.Error("URL input: want an error")
	}
}

// TestCustomVisionLabelsFromModel loads the sample export without its
// labels.txt: the Windows ML classifier carries its class names in its
// ZipMap, and predicts exactly as with the file.
func TestCustomVisionLabelsFromModel(t *testing.T) {
	dir := customVisionSample(t)
	withFile, err := NewCustomVision(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer withFile.Close()
	bare := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bare, "model.onnx"), b)
	fromModel, err := NewCustomVision(bare)
	if err != nil {
		t.Fatalf("export without labels.txt: %v", err)
	}
	defer fromModel.Close()
	if got, want := fromModel.Labels(), withFile.Labels(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("labels from the model %q, labels.txt %q", got, want)
	}
	for _, name := range []string{"japanese_cherry_6.jpg", "hemlock_1.jpg", "test_image.jpg"} {
		img, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err1 := withFile.Predict(context.Background(), analyzer.Image{Bytes: img}, false)
		got, err2 := fromModel.Predict(context.Background(), analyzer.Image{Bytes: img}, false)
		if err1 != nil || err2 != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: without labels.txt %+v (%v), with %+v (%v)", name, got, err2, want, err1)
		}
	}
}

func TestCustomVisionMatInput(t *testing.T) {
	dir := customVisionSample(t)
	cv, err := NewCustomVision(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cv.Close()
	img := readImage(t, filepath.Join(dir, "japanese_cherry_6.jpg"))
	preds, err := cv.Predict(context.Background(), analyzer.Image{Mat: img}, false)
	if err != nil || preds[0].Tag != "JapaneseCherry" {
		t.Fatalf("got %+v, %v", preds, err)
	}
	if cv.IsDetector() || cv.Name() != "local" || !strings.HasPrefix(cv.ModelVersion(), "model.onnx@") {
		t.Errorf("detector %v name %q version %q", cv.IsDetector(), cv.Name(), cv.ModelVersion())
	}
}

func TestNewCustomVisionErrors(t *testing.T) {
	dir := customVisionSample(t)
	model := filepath.Join(dir, "model.onnx")
	ocrDir, _ := DefaultOCRDir()
	for _, tc := range []struct {
		name   string
		model  string // file to place as model.onnx ("" for none)
		labels string // labels.txt contents ("-" for none)
		want   []string
	}{
		{"missing model", "", "hemlock\nJapaneseCherry\n", []string{"model.onnx", "no such file"}},
		{"truncated model", "truncate", "hemlock\nJapaneseCherry\n", []string{"model.onnx", "not a readable ONNX model"}},
		{"missing labels, none in the model", filepath.Join(ocrDir, ocrClsFile), "-", []string{"labels.txt", "no such file", "carries no class names", "put the export's labels.txt beside it"}},
		{"missing labels and truncated model", "truncate", "-", []string{"model.onnx", "not a valid ONNX file"}},
		{"empty labels", model, "\n\n", []string{"labels.txt", "no labels"}},
		{"too many labels", model, "hemlock\nJapaneseCherry\noak\n", []string{"labels.txt", "3 labels", "2 classes"}},
		{"wrong label", model, "hemlock\nCherry\n", []string{"labels.txt", "JapaneseCherry"}},
		{"not a Custom Vision model", filepath.Join(ocrDir, ocrClsFile), "a\nb\n", []string{"model.onnx", "expected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			switch tc.model {
			case "":
			case "truncate":
				b, err := os.ReadFile(model)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(d, "model.onnx"), b[:len(b)/2])
			default:
				if err := os.Symlink(tc.model, filepath.Join(d, "model.onnx")); err != nil {
					t.Fatal(err)
				}
			}
			if tc.labels != "-" {
				writeFile(t, filepath.Join(d, "labels.txt"), []byte(tc.labels))
			}
			cv, err := NewCustomVision(d)
			if err == nil {
				cv.Close()
				t.Fatal("want an error")
			}
			if !containsAll(err.Error(), tc.want...) {
				t.Errorf("error %q should mention %q", err, tc.want)
			}
		})
	}
}

func BenchmarkCustomVision(b *testing.B) {
	dir := customVisionSample(b)
	cv, err := NewCustomVision(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer cv.Close()
	img := readImage(b, filepath.Join(dir, "hemlock_1.jpg"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cv.Predict(context.Background(), analyzer.Image{Mat: img}, false); err != nil {
			b.Fatal(err)
		}
	}
}

// logistic is the reference's, in float64, for expected values.
func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// wantPred is an expected detection: tag, probability and the box as
// left, top, width, height fractions.
type wantPred struct {
	tag  string
	prob float64
	box  [4]float64
}

// checkPreds compares predictions with want to 1e-6 (the model computes in
// float32).
func checkPreds(t *testing.T, got []analyzer.Prediction, want []wantPred) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d predictions %s, want %d", len(got), predsString(got), len(want))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	for i, w := range want {
		g := got[i]
		if g.Tag != w.tag || !near(g.Probability, w.prob) || g.BoundingBox == nil ||
			!near(g.BoundingBox.Left, w.box[0]) || !near(g.BoundingBox.Top, w.box[1]) ||
			!near(g.BoundingBox.Width, w.box[2]) || !near(g.BoundingBox.Height, w.box[3]) {
			t.Fatalf("prediction %d is %s, want %+v\nall: %s", i, predString(g), w, predsString(got))
		}
	}
}

func predString(p analyzer.Prediction) string {
	if p.BoundingBox == nil {
		return fmt.Sprintf("{%s %.7f}", p.Tag, p.Probability)
	}
	b := p.BoundingBox
	return fmt.Sprintf("{%s %.7f [%.6f %.6f %.6f %.6f]}", p.Tag, p.Probability, b.Left, b.Top, b.Width, b.Height)
}

func predsString(ps []analyzer.Prediction) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = predString(p)
	}
	return strings.Join(s, " ")
}

// handGrid is a 13×13 grid of 2 classes (cat, dog) with hand-placed boxes.
// x = (tx + col)/13, y = (ty + row)/13, w = e^tw·anchor_w/13,
// h = e^th·anchor_h/13; probability = logistic(obj) · softmax(class logits).
func handGrid() *onnxtest.Grid {
	g := onnxtest.NewGrid(2, 13, 13)
	ln3 := float32(math.Log(3))
	// A, row 6 col 4, anchor 2 (3.34×5.47): dog, kept.
	g.Set(6, 4, 2, 0.5, 0.25, 0, 0, 2, 0, ln3)
	// B, one cell right of A: cat, probability below A's and IoU with A
	// 0.539 > 0.45: suppressed though its class differs (the reference's
	// NMS ignores classes).
	g.Set(6, 5, 2, 0.5, 0.25, 0, 0, 1, 0, 0)
	// C, two cells right of A: IoU with A 0.251, kept; its IoU with B is
	// 0.539, but B was suppressed and suppresses nothing.
	g.Set(6, 6, 2, 0.5, 0.25, 0, 0, 0, 0, 0)
	// D, the corner cell, anchor 4 (9.77×9.17): probability 0.0171 > 0.01,
	// kept; the box reaches outside the image and is clamped.
	g.Set(0, 0, 4, 0, 0, 0, 0, -4, 3, 0)
	// E: probability logistic(-4.6)·1 = 0.00995 ≤ 0.01, dropped.
	g.Set(12, 12, 0, 0.5, 0.5, 0, 0, -4.6, 20, 0)
	return g
}

// handGridWant is handGrid decoded by hand.
var handGridWant = []wantPred{
	// A: x = (0.5+4)/13 = 0.346154, y = (0.25+6)/13 = 0.480769,
	// w = 3.34/13 = 0.256923, h = 5.47/13 = 0.420769;
	// left = x - w/2 = 0.217692, top = y - h/2 = 0.270385;
	// p = logistic(2) · e^ln3/(e^0+e^ln3) = 0.880797 · 0.75 = 0.660598.
	{"dog", logistic(2) * 0.75, [4]float64{4.5/13 - 3.34/26, 6.25/13 - 5.47/26, 3.34 / 13, 5.47 / 13}},
	// C: x = (0.5+6)/13 = 0.5, left = 0.5 - 0.128462 = 0.371538;
	// p = logistic(0) · 1/2 = 0.25.
	{"cat", 0.25, [4]float64{6.5/13 - 3.34/26, 6.25/13 - 5.47/26, 3.34 / 13, 5.47 / 13}},
	// D: x = y = 0, w = 9.77/13 = 0.751538, h = 9.17/13 = 0.705385, so the
	// box is (-0.375769, -0.352692)-(0.375769, 0.352692), clamped to
	// (0, 0)-(0.375769, 0.352692); p = logistic(-4) · logistic(3) =
	// 0.0179862 · 0.952574 = 0.0171332.
	{"cat", logistic(-4) * logistic(3), [4]float64{0, 0, 9.77 / 26, 9.17 / 26}},
}

// manyGrid has a small box (anchor 0, 0.044×0.052, no two overlapping) in
// each of its 169 cells, all above 0.01, rising in probability cell by cell.
func manyGrid() (*onnxtest.Grid, []wantPred) {
	g := onnxtest.NewGrid(2, 13, 13)
	var want []wantPred
	for i := 169 - 1; i >= 0; i-- {
		row, col := i/13, i%13
		obj := -3 + 0.02*float32(i)
		g.Set(row, col, 0, 0.5, 0.5, 0, 0, obj, 0, 0)
		if len(want) < 64 { // the reference's MAX_DETECTIONS
			x, y := (0.5+float64(col))/13, (0.5+float64(row))/13
			w, h := 0.573/13, 0.677/13
			want = append(want, wantPred{"cat", logistic(float64(obj)) / 2, [4]float64{x - w/2, y - h/2, w, h}})
		}
	}
	return g, want
}

func TestCustomVisionDetectors(t *testing.T) {
	img, err := os.ReadFile(filepath.Join(customVisionSample(t), "test_image.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	many, manyWant := manyGrid()
	labels := []string{"cat", "dog"}
	for _, tc := range []struct {
		name     string
		model    onnxtest.Model
		classify bool // Predict without detect
		want     []wantPred
		wantErr  []string
	}{
		{
			name: "S1 boxes, tags and scores",
			model: onnxtest.S1Detector(
				[]float32{0.1, 0.2, 0.4, 0.6, -0.1, 0.5, 0.3, 1.2, 0.6, 0.6, 0.9, 0.8},
				[]int64{1, 0, 1},
				[]float32{0.5, 0.9, 0.25}),
			want: []wantPred{
				{"cat", float64(float32(0.9)), [4]float64{0, 0.5, 0.3, 0.5}}, // clamped from (-0.1,0.5)-(0.3,1.2)
				{"dog", float64(float32(0.5)), [4]float64{0.1, 0.2, 0.3, 0.4}},
				{"dog", float64(float32(0.25)), [4]float64{0.6, 0.6, 0.3, 0.2}},
			},
		},
		{
			name:  "S1 nothing found",
			model: onnxtest.S1Detector([]float32{}, []int64{}, []float32{}),
			want:  []wantPred{},
		},
		{
			name:    "S1 class outside labels",
			model:   onnxtest.S1Detector([]float32{0.1, 0.1, 0.2, 0.2}, []int64{2}, []float32{0.9}),
			wantErr: []string{"model.onnx", "class 2 is outside the 2 labels of labels.txt"},
		},
		{
			name:     "S1 classify",
			model:    onnxtest.S1Detector([]float32{0.1, 0.1, 0.2, 0.2}, []int64{0}, []float32{0.9}),
			classify: true,
			wantErr:  []string{"model.onnx", "is an object detector: use --detect"},
		},
		{name: "grid decoded by hand", model: onnxtest.GridDetector(handGrid()), want: handGridWant},
		{name: "grid nothing found", model: onnxtest.GridDetector(onnxtest.NewGrid(2, 13, 13)), want: []wantPred{}},
		{name: "grid at most 64 detections", model: onnxtest.GridDetector(many), want: manyWant},
		{
			name:     "grid classify",
			model:    onnxtest.GridDetector(handGrid()),
			classify: true,
			wantErr:  []string{"model.onnx", "is an object detector: use --detect"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cv, err := NewCustomVision(onnxtest.Export(t, tc.model, labels...))
			if err != nil {
				t.Fatal(err)
			}
			defer cv.Close()
			if !cv.IsDetector() {
				t.Error("IsDetector is false for a detector")
			}
			preds, err := cv.Predict(context.Background(), analyzer.Image{Bytes: img}, !tc.classify)
			if tc.wantErr != nil {
				t.Log(err)
				if err == nil || !containsAll(err.Error(), tc.wantErr...) {
					t.Fatalf("got %s, %v; want an error saying %q", predsString(preds), err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkPreds(t, preds, tc.want)
		})
	}
}

func TestNewCustomVisionDetectorErrors(t *testing.T) {
	badChannels := onnxtest.GridDetector(onnxtest.NewGrid(2, 13, 13))
	badChannels.Outputs[0].Dims[1] = 36
	badChannels.Outputs[0].Floats = make([]float32, 36*13*13)
	f16 := onnxtest.GridDetector(onnxtest.NewGrid(2, 13, 13))
	f16.InputType = onnxtest.Float16
	for _, tc := range []struct {
		name   string
		model  onnxtest.Model
		labels []string
		want   []string
	}{
		{"grid with more classes than labels", onnxtest.GridDetector(onnxtest.NewGrid(3, 13, 13)), []string{"cat", "dog"},
			[]string{"labels.txt", "model.onnx", "2 labels", "grid for 3 classes", "40 channels"}},
		{"grid with fewer classes than labels", onnxtest.GridDetector(onnxtest.NewGrid(1, 13, 13)), []string{"cat", "dog"},
			[]string{"labels.txt", "model.onnx", "2 labels", "grid for 1 classes", "30 channels"}},
		{"grid channels not 5 anchors", badChannels, []string{"cat", "dog"},
			[]string{"model.onnx", "expected Custom Vision outputs", "[1,5·(5+classes),H,W]"}},
		{"float16 flavour", f16, []string{"cat", "dog"},
			[]string{"model.onnx", "float16", "OnnxFloat16", "not supported", "float32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cv, err := NewCustomVision(onnxtest.Export(t, tc.model, tc.labels...))
			if err == nil {
				cv.Close()
				t.Fatal("want an error")
			}
			t.Log(err)
			if !containsAll(err.Error(), tc.want...) {
				t.Errorf("error %q should mention %q", err, tc.want)
			}
		})
	}
}

// Decoding a grid allocates nothing once its buffer has grown.
func TestCustomVisionGridDecodeAllocs(t *testing.T) {
	g, _ := manyGrid()
	cv := &CustomVision{labels: []string{"cat", "dog"}}
	if n := len(cv.decodeGrid(g.Data, 13, 13)); n != 169 {
		t.Fatalf("%d candidates, want 169", n)
	}
	if a := testing.AllocsPerRun(10, func() { cv.decodeGrid(g.Data, 13, 13) }); a != 0 {
		t.Errorf("%v allocations a decode", a)
	}
}

// The pixel range follows the model's metadata, and without it the export's
// generation: the Windows ML classifier (the sample) takes 0–255, current
// exports take 0–1 as Microsoft's samples feed them.
func TestCustomVisionPixelRange(t *testing.T) {
	s1 := func(meta ...[2]string) string {
		m := onnxtest.S1Detector([]float32{0, 0, 1, 1}, []int64{0}, []float32{0.9})
		m.Metadata = append(onnxtest.Bgr8, meta...)
		return onnxtest.Export(t, m, "thing")
	}
	const px = 200 // every channel of the test image
	for _, tc := range []struct {
		name string
		dir  string
		want float32
	}{
		{"Windows ML classifier, no range", customVisionSample(t), px},
		{"current export, no range", s1(), px / 255.0},
		{"NominalRange_0_255", s1([2]string{"Image.NominalPixelRange", "NominalRange_0_255"}), px},
		{"Normalized_0_1", s1([2]string{"Image.NominalPixelRange", "Normalized_0_1"}), px / 255.0},
		{"Normalized_1_1", s1([2]string{"Image.NominalPixelRange", "Normalized_1_1"}), px*2/255.0 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCustomVision(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(px, px, px, 0), 64, 64, gocv.MatTypeCV8UC3)
			defer img.Close()
			c.fillInput(img)
			if got := c.input.GetData()[0]; math.Abs(float64(got-tc.want)) > 1e-5 {
				t.Errorf("input value %v, want %v", got, tc.want)
			}
		})
	}
}
