package local

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sightline/sightline/analyzer"
)

func bb(x, y, w, h int) analyzer.BoundingBox { return analyzer.BoundingBox{X: x, Y: y, W: w, H: h} }

func within(inner, outer analyzer.BoundingBox) bool {
	return inner.X >= outer.X && inner.Y >= outer.Y && inner.X+inner.W <= outer.X+outer.W && inner.Y+inner.H <= outer.Y+outer.H
}

func TestSmartCrops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w, h   int
		ratios []float64
		a      *analyzer.Analysis
		want   []analyzer.SmartCrop
	}{
		{"nothing found: centred square", 1000, 500, nil, nil,
			[]analyzer.SmartCrop{{AspectRatio: 1, BoundingBox: bb(250, 0, 500, 500)}}},
		{"face at the right edge", 1000, 500, []float64{1},
			&analyzer.Analysis{Faces: []analyzer.Face{{Confidence: 0.9, BoundingBox: bb(850, 100, 100, 100)}}},
			[]analyzer.SmartCrop{{AspectRatio: 1, BoundingBox: bb(500, 0, 500, 500)}}}, // centred on the face would pass the edge
		{"face beats a larger object", 1000, 500, []float64{1},
			&analyzer.Analysis{
				Faces:   []analyzer.Face{{Confidence: 0.8, BoundingBox: bb(50, 50, 100, 100)}},
				Objects: []analyzer.Object{{Name: "car", Confidence: 0.9, BoundingBox: bb(600, 100, 350, 300)}},
			},
			[]analyzer.SmartCrop{{AspectRatio: 1, BoundingBox: bb(0, 0, 500, 500)}}},
		{"tall crop of a wide image keeps the person", 1200, 600, []float64{0.75},
			&analyzer.Analysis{People: []analyzer.Person{{Confidence: 0.9, BoundingBox: bb(100, 50, 200, 500)}}},
			[]analyzer.SmartCrop{{AspectRatio: 0.75, BoundingBox: bb(0, 0, 450, 600)}}},
		{"wide crop of a tall image slides vertically", 600, 1200, []float64{1.8},
			&analyzer.Analysis{Faces: []analyzer.Face{{Confidence: 0.9, BoundingBox: bb(250, 900, 100, 100)}}},
			[]analyzer.SmartCrop{{AspectRatio: 1.8, BoundingBox: bb(0, 784, 600, 333)}}},
		{"several ratios in order, bad ones skipped", 800, 600, []float64{1, 0, -2, 4.0 / 3},
			nil,
			[]analyzer.SmartCrop{{AspectRatio: 1, BoundingBox: bb(100, 0, 600, 600)}, {AspectRatio: 4.0 / 3, BoundingBox: bb(0, 0, 800, 600)}}},
		{"default ratio follows the content", 1000, 800, nil,
			&analyzer.Analysis{People: []analyzer.Person{{Confidence: 0.9, BoundingBox: bb(400, 100, 150, 600)}}},
			[]analyzer.SmartCrop{{AspectRatio: 0.75, BoundingBox: bb(175, 0, 600, 800)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SmartCrops(tc.w, tc.h, tc.ratios, tc.a)
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("crop %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestSmartCropsProperties: every crop lies inside the image, has the
// requested ratio within a pixel and is as large as the ratio allows, and a
// single face that fits is kept whole.
func TestSmartCropsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for i := 0; i < 500; i++ {
		w, h := 50+rng.IntN(2000), 50+rng.IntN(2000)
		r := 0.5 + rng.Float64()*1.5
		fw := 5 + rng.IntN(min(w, h)/3)
		f := bb(rng.IntN(w-fw), rng.IntN(h-fw), fw, fw)
		a := &analyzer.Analysis{Faces: []analyzer.Face{{Confidence: 0.5 + rng.Float64()/2, BoundingBox: f}}}
		c := SmartCrops(w, h, []float64{r}, a)[0].BoundingBox
		img := bb(0, 0, w, h)
		if !within(c, img) {
			t.Fatalf("%dx%d r=%.2f: crop %+v outside", w, h, r, c)
		}
		if c.W != w && c.H != h {
			t.Fatalf("%dx%d r=%.2f: crop %+v is not the largest", w, h, r, c)
		}
		if math.Abs(float64(c.W)-r*float64(c.H)) > math.Max(1, r) {
			t.Fatalf("%dx%d r=%.2f: crop %+v has ratio %.3f", w, h, r, c, float64(c.W)/float64(c.H))
		}
		if f.W <= c.W && f.H <= c.H && !within(f, c) {
			t.Fatalf("%dx%d r=%.2f: crop %+v cuts face %+v", w, h, r, c, f)
		}
	}
}
