package local

import (
	"image"
	"math"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

var (
	sharedFaceOnce sync.Once
	sharedFace     *FaceDetector
	sharedFaceErr  error
)

func testFaceDetector(t testing.TB) *FaceDetector {
	t.Helper()
	sharedFaceOnce.Do(func() {
		p, err := DefaultFaceModel()
		if err != nil {
			sharedFaceErr = err
			return
		}
		sharedFace, sharedFaceErr = NewFaceDetector(p)
	})
	if sharedFaceErr != nil {
		t.Fatalf("BlazeFace not installed (scripts/setup.sh): %v", sharedFaceErr)
	}
	return sharedFace
}

func TestFaceDetectorFindsKnownFaces(t *testing.T) {
	d := testFaceDetector(t)
	for _, tc := range []struct {
		image string
		want  []analyzer.BoundingBox // established by drawing the boxes once
	}{
		{opencvData + "messi5.jpg", []analyzer.BoundingBox{{X: 221, Y: 96, W: 37, H: 37}}},
		{azureImages + "azure-ai-vision-sdk_sample.jpg", []analyzer.BoundingBox{{X: 356, Y: 207, W: 43, H: 43}}},
		{azureImages + "azure-ai-vision-sdk_sample1.jpg", []analyzer.BoundingBox{{X: 237, Y: 138, W: 29, H: 29}}},
		{opencvData + "building.jpg", nil},
		{opencvData + "fruits.jpg", nil},
	} {
		t.Run(tc.image, func(t *testing.T) {
			img := readImage(t, tc.image)
			faces, err := d.Detect(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != len(tc.want) {
				t.Fatalf("got %d faces %+v, want %d", len(faces), faces, len(tc.want))
			}
			for i, f := range faces {
				if f.Confidence < DefaultFaceThreshold || f.Confidence > 1 {
					t.Errorf("confidence %v", f.Confidence)
				}
				if v := boxIoU(f.BoundingBox, tc.want[i]); v < 0.7 {
					t.Errorf("face %+v, want about %+v (IoU %.2f)", f.BoundingBox, tc.want[i], v)
				}
			}
		})
	}
}

// TestFaceLetterboxMapping: the same face placed in a larger canvas (so the
// letterbox scale and padding change) is found at the same place, shifted.
func TestFaceLetterboxMapping(t *testing.T) {
	d := testFaceDetector(t)
	src := readImage(t, opencvData+"messi5.jpg")
	base, err := d.Detect(src)
	if err != nil || len(base) != 1 {
		t.Fatalf("base: %v %+v", err, base)
	}
	for _, pad := range []struct{ top, left, bottom, right int }{
		{0, 0, 0, 0}, {100, 0, 100, 0}, {0, 40, 0, 0}, {40, 0, 0, 0}, {0, 0, 150, 0},
	} {
		m := gocv.NewMat()
		gocv.CopyMakeBorder(src, &m, pad.top, pad.bottom, pad.left, pad.right, gocv.BorderConstant, colorBlack)
		faces, err := d.Detect(m)
		m.Close()
		if err != nil || len(faces) != 1 {
			t.Fatalf("pad %+v: %v %+v", pad, err, faces)
		}
		want := base[0].BoundingBox
		want.X += pad.left
		want.Y += pad.top
		if v := boxIoU(faces[0].BoundingBox, want); v < 0.7 {
			t.Errorf("pad %+v: %+v, want about %+v (IoU %.2f)", pad, faces[0].BoundingBox, want, v)
		}
	}
}

func TestWeightedNMS(t *testing.T) {
	a := face{cx: 0.5, cy: 0.5, w: 0.2, h: 0.2, score: 0.9}
	b := face{cx: 0.52, cy: 0.5, w: 0.2, h: 0.2, score: 0.8} // overlaps a
	c := face{cx: 0.1, cy: 0.1, w: 0.1, h: 0.1, score: 0.95} // apart
	for _, tc := range []struct {
		name string
		in   []face
		want []face
	}{
		{"empty", nil, nil},
		{"single", []face{a}, []face{a}},
		{"merge keeps max score and weighted mean", []face{b, a},
			[]face{{cx: (0.5*0.9 + 0.52*0.8) / 1.7, cy: 0.5, w: 0.2, h: 0.2, score: 0.9}}},
		{"apart kept, highest first", []face{a, c}, []face{c, a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := weightedNMS(append([]face(nil), tc.in...), faceIoU)
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if math.Abs(float64(g.cx-w.cx)) > 1e-5 || math.Abs(float64(g.cy-w.cy)) > 1e-5 ||
					math.Abs(float64(g.w-w.w)) > 1e-5 || g.score != w.score {
					t.Errorf("%d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestNewFaceDetectorErrors(t *testing.T) {
	p, err := DefaultFaceModel()
	if err != nil {
		t.Fatal(err)
	}
	ocrDir, _ := DefaultOCRDir()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", dir + "/nope.onnx", "no such file"},
		{"truncated", truncatedCopy(t, p, dir), "not a readable ONNX model"},
		{"wrong model", ocrDir + "/" + ocrClsFile, "expected BlazeFace input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewFaceDetector(tc.path)
			if err == nil {
				d.Close()
				t.Fatal("want an error")
			}
			if !containsAll(err.Error(), tc.path, tc.want) {
				t.Errorf("error %q should name %s and say %q", err, tc.path, tc.want)
			}
		})
	}
}

func BenchmarkFaces(b *testing.B) {
	d := testFaceDetector(b)
	img := readImage(b, azureImages+"azure-ai-vision-sdk_sample.jpg")
	frame := gocv.NewMat()
	defer frame.Close()
	gocv.Resize(img, &frame, image.Pt(1280, 720), 0, 0, gocv.InterpolationLinear)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Detect(frame); err != nil {
			b.Fatal(err)
		}
	}
}
