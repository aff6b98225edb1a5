package local

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
)

const (
	opencvData  = "/usr/share/doc/opencv-doc/examples/data/"
	azureImages = "../../../shared/azure/images/"
)

func newTestYOLOX(t testing.TB) *YOLOX {
	t.Helper()
	b := New(Options{})
	t.Cleanup(func() { b.Close() })
	y, err := b.Detector()
	if err != nil {
		t.Fatalf("loading YOLOX-nano (run scripts/setup.sh): %v", err)
	}
	return y
}

func readImage(t testing.TB, path string) gocv.Mat {
	t.Helper()
	m := gocv.IMRead(path, gocv.IMReadColor)
	if m.Empty() {
		t.Fatalf("cannot read test image %s (installed by scripts/setup.sh)", path)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func boxIoU(a, b analyzer.BoundingBox) float64 {
	r := func(x analyzer.BoundingBox) rectF {
		return rectF{float32(x.X), float32(x.Y), float32(x.X + x.W), float32(x.Y + x.H)}
	}
	return float64(iou(r(a), r(b)))
}

// The expected boxes were checked by eye on the annotated images once.
func TestYOLOXFindsKnownObjects(t *testing.T) {
	y := newTestYOLOX(t)
	tests := []struct {
		image string
		want  []Detection // Class unused; Name, minimum Confidence, Box
	}{
		{opencvData + "messi5.jpg", []Detection{
			{Name: "sports ball", Confidence: 0.8, Box: analyzer.BoundingBox{X: 338, Y: 291, W: 49, H: 46}},
			{Name: "person", Confidence: 0.75, Box: analyzer.BoundingBox{X: 59, Y: 58, W: 415, H: 277}},
		}},
		{azureImages + "azure-ai-vision-sdk_laptop-on-kitchen-table.jpg", []Detection{
			{Name: "laptop", Confidence: 0.8, Box: analyzer.BoundingBox{X: 467, Y: 218, W: 282, H: 240}},
			{Name: "person", Confidence: 0.8, Box: analyzer.BoundingBox{X: 680, Y: 0, W: 569, H: 470}},
		}},
		{azureImages + "azure-ai-vision-sdk_sample.jpg", []Detection{
			{Name: "person", Confidence: 0.7, Box: analyzer.BoundingBox{X: 291, Y: 182, W: 202, H: 241}},
			{Name: "laptop", Confidence: 0.7, Box: analyzer.BoundingBox{X: 225, Y: 293, W: 128, H: 73}},
		}},
	}
	for _, tt := range tests {
		for _, scaled := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/scaled=%v", tt.image, scaled), func(t *testing.T) {
				dets := detectMaybeScaled(t, y, readImage(t, tt.image), scaled)
				for _, w := range tt.want {
					found := false
					for _, d := range dets {
						if d.Name == w.Name && d.Confidence >= w.Confidence && boxIoU(d.Box, w.Box) > 0.85 {
							found = true
						}
					}
					if !found {
						t.Errorf("no %s ≥ %.2f near %+v; got %+v", w.Name, w.Confidence, w.Box, dets)
					}
				}
			})
		}
	}
}

// detectMaybeScaled detects on img, or, scaled, on img shrunk to the
// model's letterbox first (as a frame decoded at the model's size comes)
// with the boxes asked for in img's pixels.
func detectMaybeScaled(t *testing.T, y *YOLOX, img gocv.Mat, scaled bool) []Detection {
	t.Helper()
	full := image.Pt(img.Cols(), img.Rows())
	if scaled {
		small := gocv.NewMat()
		defer small.Close()
		gocv.Resize(img, &small, y.LetterboxSize(full.X, full.Y), 0, 0, gocv.InterpolationArea)
		img = small
	}
	dets, err := y.DetectScaled(img, full, DefaultThreshold, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dets
}

// A picture scaled down gives the boxes it gives at its own size, scaled
// up to the full picture's pixels (to within the rounding of a pixel),
// and one that is larger than the size it stands for is refused.
func TestYOLOXDetectScaledMapsBoxes(t *testing.T) {
	y := newTestYOLOX(t)
	img := readImage(t, opencvData+"messi5.jpg")
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(img, &small, y.LetterboxSize(img.Cols(), img.Rows()), 0, 0, gocv.InterpolationArea)
	own, err := y.Detect(small, DefaultThreshold, nil)
	if err != nil || len(own) == 0 {
		t.Fatalf("%v, %v", own, err)
	}
	tests := []struct{ w, h int }{{small.Cols(), small.Rows()}, {img.Cols(), img.Rows()}, {3 * img.Cols(), 2 * img.Rows()}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.w, tt.h), func(t *testing.T) {
			got, err := y.DetectScaled(small, image.Pt(tt.w, tt.h), DefaultThreshold, nil)
			if err != nil || len(got) != len(own) {
				t.Fatalf("%d boxes (%v), want %d", len(got), err, len(own))
			}
			sx, sy := float64(tt.w)/float64(small.Cols()), float64(tt.h)/float64(small.Rows())
			for i, d := range got {
				o := own[i].Box
				want := analyzer.BoundingBox{X: int(float64(o.X) * sx), Y: int(float64(o.Y) * sy),
					W: int(float64(o.W) * sx), H: int(float64(o.H) * sy)}
				tol := int(max(sx, sy)) + 1 // own's boxes were rounded to small's pixels
				if d.Name != own[i].Name || abs(d.Box.X-want.X) > tol || abs(d.Box.Y-want.Y) > tol ||
					abs(d.Box.W-want.W) > 2*tol || abs(d.Box.H-want.H) > 2*tol {
					t.Errorf("box %d: %s %+v, want %s near %+v", i, d.Name, d.Box, own[i].Name, want)
				}
			}
		})
	}
	if _, err := y.DetectScaled(img, image.Pt(10, 10), DefaultThreshold, nil); err == nil {
		t.Error("a picture larger than the size it stands for was not refused")
	}
}

func TestYOLOXLowThresholdKeepsEveryBox(t *testing.T) {
	y := newTestYOLOX(t)
	img := readImage(t, opencvData+"messi5.jpg")
	high, err := y.Detect(img, 0.25, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := y.Detect(img, 0.01, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= len(high) {
		t.Fatalf("threshold 0.01 gave %d boxes, 0.25 gave %d: low-confidence boxes are lost", len(all), len(high))
	}
	for _, h := range high {
		found := false
		for _, a := range all {
			if a.Name == h.Name && a.Box == h.Box {
				found = true
			}
		}
		if !found {
			t.Errorf("%+v found at 0.25 but not at 0.01", h)
		}
	}
	for _, a := range all {
		if a.Confidence < 0.01 {
			t.Errorf("%+v below the threshold", a)
		}
	}
}

func TestYOLOXRejectsBadImages(t *testing.T) {
	y := newTestYOLOX(t)
	gray := gocv.NewMatWithSize(100, 100, gocv.MatTypeCV8U)
	defer gray.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	for name, m := range map[string]gocv.Mat{"gray": gray, "empty": empty} {
		if _, err := y.Detect(m, 0.25, nil); err == nil {
			t.Errorf("%s image: no error", name)
		}
	}
}

func TestNewYOLOXErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"missing": dir + "/missing.onnx",
		"garbage": writeFile(t, dir+"/garbage.onnx", []byte("not an onnx model")),
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewYOLOX(path)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v does not name %s", err, path)
			}
		})
	}
}

// Letterboxing a box into the model's input and mapping it back returns it
// to within a pixel, for any image shape.
func TestLetterboxRoundTrip(t *testing.T) {
	lb := &letterbox{w: 416, h: 416}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		w, h := 50+rng.IntN(4000), 50+rng.IntN(4000)
		s := lb.scaleFor(w, h)
		x1, y1 := rng.IntN(w), rng.IntN(h)
		x2, y2 := x1+rng.IntN(w-x1+1), y1+rng.IntN(h-y1+1)
		in := rectF{float32(x1) * s, float32(y1) * s, float32(x2) * s, float32(y2) * s}
		got := in.toSource(s, s, w, h)
		want := image.Rect(x1, y1, x2, y2)
		if abs(got.Min.X-want.Min.X) > 1 || abs(got.Min.Y-want.Min.Y) > 1 || abs(got.Max.X-want.Max.X) > 1 || abs(got.Max.Y-want.Max.Y) > 1 {
			t.Fatalf("%dx%d: %v came back as %v", w, h, want, got)
		}
		if s*float32(max(w, h)) > 416.01 {
			t.Fatalf("%dx%d scaled by %v overflows the input", w, h, s)
		}
	}
}

func TestNMS(t *testing.T) {
	a := rectF{0, 0, 100, 100}
	overlapping := rectF{5, 5, 105, 105}
	apart := rectF{200, 200, 300, 300}
	tests := []struct {
		name       string
		in         []detection
		classAware bool
		want       []float32 // kept scores, highest first
	}{
		{"keeps the highest of an overlapping pair", []detection{{a, 0, 0.5}, {overlapping, 0, 0.9}}, true, []float32{0.9}},
		{"keeps boxes apart", []detection{{a, 0, 0.5}, {apart, 0, 0.9}}, true, []float32{0.9, 0.5}},
		{"class-aware keeps other classes", []detection{{a, 0, 0.5}, {overlapping, 1, 0.9}}, true, []float32{0.9, 0.5}},
		{"agnostic suppresses other classes", []detection{{a, 0, 0.5}, {overlapping, 1, 0.9}}, false, []float32{0.9}},
		{"empty", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nms(tt.in, yoloxNMS, tt.classAware)
			if len(got) != len(tt.want) {
				t.Fatalf("kept %v, want scores %v", got, tt.want)
			}
			for i := range got {
				if got[i].score != tt.want[i] {
					t.Fatalf("kept %v, want scores %v", got, tt.want)
				}
			}
		})
	}
}

// Random property: after NMS no two kept boxes of one class overlap beyond
// the threshold, and the best box always survives.
func TestNMSProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var dets []detection
		best := detection{score: -1}
		for range 1 + rng.IntN(60) {
			x, y := rng.Float32()*300, rng.Float32()*300
			d := detection{rectF{x, y, x + 20 + rng.Float32()*80, y + 20 + rng.Float32()*80}, rng.IntN(3), rng.Float32()}
			if d.score > best.score {
				best = d
			}
			dets = append(dets, d)
		}
		kept := nms(dets, 0.45, true)
		if kept[0] != best {
			t.Fatalf("best %v not kept first: %v", best, kept[0])
		}
		for i := range kept {
			for j := i + 1; j < len(kept); j++ {
				if kept[i].class == kept[j].class && iou(kept[i].box, kept[j].box) > 0.45 {
					t.Fatalf("kept overlapping %v and %v", kept[i], kept[j])
				}
			}
		}
	}
}

func BenchmarkYOLOXDetect(b *testing.B) {
	y := newTestYOLOX(b)
	cap, err := gocv.VideoCaptureFile(deps.DemoVideo)
	if err != nil {
		b.Fatal(err)
	}
	defer cap.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	cap.Read(&frame)
	dets := make([]Detection, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		if dets, err = y.Detect(frame, DefaultThreshold, dets[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// OpenCV DNN runs the same model with the same pre- and post-processing:
// its detections match ONNX Runtime's, which keeps the comparison honest.
func TestYOLOXOnDNNMatchesORT(t *testing.T) {
	y := newTestYOLOX(t)
	path, _ := deps.Model("yolox-nano/yolox_nano.onnx")
	d, err := NewYOLOXOnDNN(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	img := readImage(t, azureImages+"azure-ai-vision-sdk_laptop-on-kitchen-table.jpg")
	want, err := y.Detect(img, DefaultThreshold, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Detect(img, DefaultThreshold, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("DNN found %v, ORT %v", got, want)
	}
	for i := range got {
		if got[i].Name != want[i].Name || boxIoU(got[i].Box, want[i].Box) < 0.98 || math.Abs(got[i].Confidence-want[i].Confidence) > 0.01 {
			t.Errorf("DNN %+v, ORT %+v", got[i], want[i])
		}
	}
}

// BenchmarkYOLOXEngines compares the engines on identical work: ORT alone
// on a pre-made tensor (the limit), and the full detection on ORT and on
// OpenCV DNN.
func BenchmarkYOLOXEngines(b *testing.B) {
	path, err := deps.Model("yolox-nano/yolox_nano.onnx")
	if err != nil {
		b.Fatal(err)
	}
	img := readImage(b, azureImages+"azure-ai-vision-sdk_sample.jpg")
	for _, tc := range []struct {
		name string
		open func(string) (*YOLOX, error)
	}{{"ort", NewYOLOX}, {"dnn", NewYOLOXOnDNN}} {
		y, err := tc.open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name+"/detect", func(b *testing.B) {
			dets := make([]Detection, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				if dets, err = y.Detect(img, DefaultThreshold, dets[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/infer-only", func(b *testing.B) {
			for b.Loop() {
				if err := y.Infer(); err != nil {
					b.Fatal(err)
				}
			}
		})
		y.Close()
	}
}
