package overlay

import (
	"flag"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

var update = flag.Bool("update", false, "rewrite the golden images")

func bbox(x, y, w, h int) analyzer.BoundingBox { return analyzer.BoundingBox{X: x, Y: y, W: w, H: h} }

// scene is a fixed result with every kind of thing the overlay draws.
var scene = &analyzer.Analysis{
	Objects: []analyzer.Object{
		{Name: "car", Confidence: 0.91, BoundingBox: bbox(20, 30, 180, 100)},
		{Name: "dog", Confidence: 0.15, BoundingBox: bbox(400, 250, 90, 70)},
		{Name: "person", Confidence: 0.88, BoundingBox: bbox(260, 60, 80, 220)},
	},
	People: []analyzer.Person{{Confidence: 0.88, BoundingBox: bbox(260, 60, 80, 220)}},
	Faces:  []analyzer.Face{{Confidence: 0.95, BoundingBox: bbox(280, 70, 40, 40)}},
	DenseCaptions: []analyzer.DenseCaption{
		{Text: "a red car", Confidence: 0.8, BoundingBox: bbox(15, 25, 190, 110)},
	},
	ReadResult: &analyzer.ReadResult{Blocks: []analyzer.Block{{Lines: []analyzer.Line{{
		Text:            "EXIT",
		BoundingPolygon: []analyzer.Point{{X: 420, Y: 40}, {X: 560, Y: 50}, {X: 555, Y: 95}, {X: 415, Y: 85}},
	}}}}},
}

// testFrame is a deterministic textured frame, so blur shows.
func testFrame(t *testing.T) gocv.Mat {
	m := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	for y := 0; y < 360; y++ {
		for x := 0; x < 640; x++ {
			m.SetUCharAt(y, x*3, uint8(x*255/640))
			m.SetUCharAt(y, x*3+1, uint8(y*255/360))
			m.SetUCharAt(y, x*3+2, uint8((x^y)&0xff))
		}
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestDrawGolden(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
	}{
		{"default", Filter{Threshold: 0.25}},
		{"dimmed", Filter{Threshold: 0.25, Dimmed: true}},
		{"high-threshold", Filter{Threshold: 0.9}},
		{"hidden-car", Filter{Threshold: 0.25, Hidden: map[string]bool{"car": true}}},
		{"per-class", Filter{Threshold: 0.25, PerClass: map[string]float64{"dog": 0.1}}},
		{"blur", Filter{Threshold: 0.25, BlurFaces: true, HideFaces: true}},
		{"layers-off", Filter{Threshold: 0.25, HideDense: true, HideRead: true, HideFaces: true}},
		{"highlight", Filter{Threshold: 0.25, Highlight: []string{"total", "exit"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := testFrame(t)
			Draw(&img, scene, tt.filter)
			assertGolden(t, img, filepath.Join("testdata", tt.name+".png"))
		})
	}
}

func assertGolden(t *testing.T, img gocv.Mat, path string) {
	t.Helper()
	if *update {
		if !gocv.IMWrite(path, img) {
			t.Fatalf("writing %s", path)
		}
		return
	}
	want := gocv.IMRead(path, gocv.IMReadColor)
	defer want.Close()
	if want.Empty() {
		t.Fatalf("golden %s missing (go test ./overlay -update)", path)
	}
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(img, want, &diff)
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(diff, &gray, gocv.ColorBGRToGray)
	if n := gocv.CountNonZero(gray); n > 0 {
		out := filepath.Join(t.TempDir(), filepath.Base(path))
		gocv.IMWrite(out, img)
		t.Fatalf("%d pixels differ from %s; got %s (go test ./overlay -update to accept)", n, path, out)
	}
}

// pixel reads img at (x,y) as RGB.
func pixel(img gocv.Mat, x, y int) color.RGBA {
	v := img.GetVecbAt(y, x)
	return color.RGBA{v[2], v[1], v[0], 255}
}

func TestDrawColours(t *testing.T) {
	img := testFrame(t)
	Draw(&img, scene, Filter{Threshold: 0.25})
	// Left edges of the boxes carry their class colours.
	if got := pixel(img, 260, 150); got != PersonColor {
		t.Errorf("person box edge %v, want %v", got, PersonColor)
	}
	if got := pixel(img, 20, 100); got != ClassColor("car") {
		t.Errorf("car box edge %v, want %v", got, ClassColor("car"))
	}
	if got := pixel(img, 400, 300); got == ClassColor("dog") {
		t.Errorf("dog under the threshold was drawn")
	}
}

// TestLabelsStayReadable: a label is never cut off by the frame's right
// edge, covered by another label, or crossed by another box's outline.
func TestLabelsStayReadable(t *testing.T) {
	img := testFrame(t)
	a := &analyzer.Analysis{Objects: []analyzer.Object{
		{Name: "car", Confidence: 0.9, BoundingBox: bbox(100, 100, 200, 100)},
		{Name: "truck", Confidence: 0.8, BoundingBox: bbox(150, 60, 100, 200)}, // its left edge crosses the car's label
		{Name: "bus", Confidence: 0.7, BoundingBox: bbox(610, 200, 30, 60)},    // at the right edge
		{Name: "dog", Confidence: 0.85, BoundingBox: bbox(105, 110, 50, 50)},   // its label would cover the car's
	}}
	Draw(&img, a, Filter{Threshold: 0.25})
	st := newStyle(img.Cols(), img.Rows())
	size := gocv.GetTextSize(Label("car", 0.9), font, st.fontScale, st.fontThick)
	carLabelY := 100 - size.Y/2 - 3
	if got := pixel(img, 150, carLabelY); got == ClassColor("truck") {
		t.Errorf("the truck's outline crosses the car's label at (150,%d)", carLabelY)
	}
	if got := pixel(img, 110, 98); got == ClassColor("dog") {
		t.Error("the dog's label covers the car's")
	}
	size = gocv.GetTextSize(Label("bus", 0.7), font, st.fontScale, st.fontThick)
	left := img.Cols() - size.X - 6
	for _, x := range []int{left, img.Cols() - 1} {
		if got := pixel(img, x, 200-2); got != ClassColor("bus") {
			t.Errorf("bus label background at x=%d is %v, want %v: label not kept inside the frame", x, got, ClassColor("bus"))
		}
	}
}

// A label goes to the first free spot around its box, and when every spot
// is taken, to the one earlier labels cover least.
func TestLabelSpot(t *testing.T) {
	img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	st := newStyle(img.Cols(), img.Rows())
	size := gocv.GetTextSize(Label("car", 0.9), font, st.fontScale, st.fontThick)
	w, h := size.X+6, size.Y+6
	r := image.Rect(100, 100, 300, 200)
	left, right := r.Min.X-st.thick/2, r.Max.X+st.thick/2-w
	at := func(x, top int) image.Rectangle { return image.Rect(x, top, x+w, top+h) }
	above, aboveRight := at(left, r.Min.Y-h), at(right, r.Min.Y-h)
	insideTop, insideTopRight := at(left, r.Min.Y), at(right, r.Min.Y)
	below, belowRight := at(left, r.Max.Y), at(right, r.Max.Y)
	insideBottom, insideBottomRight := at(left, r.Max.Y-h), at(right, r.Max.Y-h)
	taken := []image.Rectangle{above, aboveRight, insideTop, insideTopRight, below, belowRight, insideBottom}
	tests := []struct {
		name  string
		taken []image.Rectangle
		want  image.Rectangle
	}{
		{"free: above", nil, above},
		{"above taken: its right end", taken[:1], aboveRight},
		{"above taken: inside", taken[:2], insideTop},
		{"above and inside taken: below", taken[:4], below},
		{"all but the last taken", taken, insideBottomRight},
		{"all taken: least covered", append(taken[:6:6], insideBottomRight, insideBottom.Add(image.Pt(w/2, 0))), insideBottom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var placed labelSpots
			for _, q := range tt.taken {
				placed.add(q)
			}
			st.label(&img, box{r: r, c: ClassColor("car"), name: "car", conf: 0.9, strength: 1}, &placed)
			if got := placed.rects[placed.n-1]; got != tt.want {
				t.Errorf("label at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassColor(t *testing.T) {
	if ClassColor("person") != PersonColor || ClassColor("Person") != PersonColor {
		t.Error("people must have their own colour")
	}
	if ClassColor("face") != FaceColor {
		t.Error("faces must have their own colour")
	}
	seen := map[color.RGBA]bool{}
	for _, name := range []string{"car", "truck", "bicycle", "dog", "cat", "laptop", "chair", "bottle"} {
		c := ClassColor(name)
		if c == PersonColor || c == FaceColor {
			t.Errorf("%s shares the people/face colour", name)
		}
		if c != ClassColor(name) {
			t.Errorf("%s colour not stable", name)
		}
		seen[c] = true
	}
	if len(seen) < 5 {
		t.Errorf("8 classes share %d colours", len(seen))
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

// BenchmarkDraw measures the overlay on the fixed scene; the steady state
// should allocate nothing in Go.
func BenchmarkDraw(b *testing.B) {
	img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	scene := &analyzer.Analysis{Objects: []analyzer.Object{
		{Name: "car", Confidence: 0.91, BoundingBox: bbox(20, 30, 180, 100)},
		{Name: "dog", Confidence: 0.45, BoundingBox: bbox(400, 250, 90, 70)},
	}, People: []analyzer.Person{{Confidence: 0.88, BoundingBox: bbox(260, 60, 80, 220)}}}
	f := Filter{Threshold: 0.25}
	Draw(&img, scene, f)
	b.ReportAllocs()
	for b.Loop() {
		Draw(&img, scene, f)
	}
}

// Boxes under the threshold fade with their score, and their labels stay
// out of each other's way: a pile of doubtful boxes gets one label, a box
// far under its threshold none.
func TestDimmedBoxesFadeAndDeclutter(t *testing.T) {
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), 360, 640, gocv.MatTypeCV8UC3)
	defer img.Close()
	faint, near := bbox(40, 40, 100, 100), bbox(300, 40, 100, 100)
	a := &analyzer.Analysis{Objects: []analyzer.Object{
		{Name: "car", Confidence: 0.05, BoundingBox: faint},
		{Name: "car", Confidence: 0.22, BoundingBox: near},
	}}
	Draw(&img, a, Filter{Threshold: 0.25, Dimmed: true})
	edge := func(b analyzer.BoundingBox) uint8 {
		return img.GetUCharAt(b.Y+b.H/2, b.X*3) + img.GetUCharAt(b.Y+b.H/2, b.X*3+1)
	}
	if edge(faint) >= edge(near) {
		t.Errorf("a 0.05 box is drawn as bright (%d) as a 0.22 one (%d)", edge(faint), edge(near))
	}
	st := newStyle(img.Cols(), img.Rows())
	var placed labelSpots
	r := image.Rect(100, 100, 200, 200)
	for range 10 {
		st.label(&img, box{r: r, c: ClassColor("car"), name: "car", conf: 0.2, strength: 0.8}, &placed)
	}
	if placed.n != 1 {
		t.Errorf("%d labels for ten doubtful boxes on one spot, want 1", placed.n)
	}
	st.label(&img, box{r: image.Rect(300, 200, 400, 300), c: ClassColor("car"), name: "car", conf: 0.05, strength: 0.2}, &placed)
	if placed.n != 1 {
		t.Error("a box far under its threshold got a label")
	}
}

// Outline draws a polygon's edge in its colour, and shades its inside
// only when filled.
func TestOutline(t *testing.T) {
	poly := []analyzer.Point{{X: 100, Y: 100}, {X: 300, Y: 100}, {X: 300, Y: 200}, {X: 100, Y: 200}}
	for _, filled := range []bool{false, true} {
		img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
		defer img.Close()
		Outline(&img, poly, HighlightColor, 3, filled)
		if got := pixel(img, 100, 150); got != HighlightColor {
			t.Errorf("filled %v: edge %v, want %v", filled, got, HighlightColor)
		}
		inside := pixel(img, 200, 150)
		if shaded := inside != (color.RGBA{0, 0, 0, 255}); shaded != filled {
			t.Errorf("filled %v: inside %v", filled, inside)
		}
	}
}
