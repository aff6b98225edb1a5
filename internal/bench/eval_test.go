package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/dataset"
)

// The set's images are the sample photos changed round by round, each
// with its real box moved to match: the second round's are 0.7 times the
// size and mirrored.
func TestWriteEvalSet(t *testing.T) {
	samples, err := detectionSamples()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	coco, err := WriteEvalSet(samples, dir, 42)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Read(coco)
	if err != nil {
		t.Fatal(err)
	}
	var src sampleRegions
	raw, _ := os.ReadFile(filepath.Join(samples, "object-detection", "regions.json"))
	if err := json.Unmarshal(raw, &src); err != nil || len(src.Images) != 40 {
		t.Fatalf("regions: %v, %d images", err, len(src.Images))
	}
	boxes := ds.AnnotationsByImage()
	if len(ds.Images) != 42 || len(ds.Annotations) != 42 || len(ds.Categories) != 2 {
		t.Fatalf("%d images, %d boxes, %d classes", len(ds.Images), len(ds.Annotations), len(ds.Categories))
	}
	tests := []struct {
		image, photo int
		scale        float64
		mirror       bool
	}{{0, 0, 0.6, false}, {39, 39, 0.6, false}, {40, 0, 0.7, true}, {41, 1, 0.7, true}}
	for _, tt := range tests {
		im, g := ds.Images[tt.image], src.Images[tt.photo].Regions[0]
		m := gocv.IMRead(filepath.Join(dir, im.FileName), gocv.IMReadColor)
		w, h := m.Cols(), m.Rows()
		m.Close()
		if w != im.Width || h != im.Height || math.Abs(float64(w)-816*tt.scale) > 1 || math.Abs(float64(h)-612*tt.scale) > 1 {
			t.Errorf("image %d: %dx%d on disk, %dx%d in the set; want %.0fx%.0f", tt.image, w, h, im.Width, im.Height, 816*tt.scale, 612*tt.scale)
		}
		x := g.Left * 816 * tt.scale
		if tt.mirror {
			x = float64(w) - x - g.Width*816*tt.scale
		}
		want := [4]float64{x, g.Top * 612 * tt.scale, g.Width * 816 * tt.scale, g.Height * 612 * tt.scale}
		a := boxes[im.ID][0]
		c, _ := ds.CategoryNamed(g.Tag)
		for k := range want {
			if math.Abs(a.BBox[k]-want[k]) > 1e-6 || a.CategoryID != c.ID {
				t.Errorf("image %d: box %v of class %d, want %v %s", tt.image, a.BBox, a.CategoryID, want, g.Tag)
				break
			}
		}
	}
}

// A short comparison gives both times, eval's AP and the ratio with its
// goal.
func TestCompareEval(t *testing.T) {
	b, _ := testBench(t, 10)
	if err := compareEval(context.Background(), b, 24); err != nil {
		t.Fatal(err)
	}
	rep := b.rep
	alone := figureNamed(t, rep, "YOLOX-nano alone on 24 labelled images")
	within(t, alone, 0.01, 600)
	within(t, figureNamed(t, rep, "eval on the same 24 images"), 0.01, 600)
	within(t, figureNamed(t, rep, "eval's mAP@0.5 on them (fork, scissors)"), 0.05, 1)
	if r := ratioNamed(t, rep, "detector alone / eval (eval ≤ 1.5× the detector)"); r.Met == nil || r.Value <= 0 || r.Value > 5 {
		t.Errorf("ratio %+v", r)
	}
}
