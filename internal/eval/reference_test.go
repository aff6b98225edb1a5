package eval

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sightline/sightline/internal/dataset"
)

var update = flag.Bool("update", false, "rewrite testdata/random_expected.json with the Python reference's figures")

const (
	referenceScript   = "testdata/cocoeval_ref.py"
	referenceExpected = "testdata/random_expected.json"
)

// randomCase is a larger dataset with everything that makes COCO
// evaluation subtle: jittered boxes over the whole IoU range, duplicates,
// crowd boxes, tied scores (two decimals), a class with no ground truth,
// a class never detected, images without boxes and images with more than
// 100 detections of a class. The generator is seeded, so the case is the
// same on every run and Go version (PCG's output is fixed).
func randomCase() (*dataset.Dataset, []Detection) {
	rng := rand.New(rand.NewPCG(16, 2024))
	d := &dataset.Dataset{Categories: []dataset.Category{
		{ID: 1, Name: "fork"}, {ID: 2, Name: "scissors"}, {ID: 3, Name: "knife"}, {ID: 5, Name: "spoon"},
	}}
	score := func(lo, span float64) float64 { return math.Round((lo+span*rng.Float64())*100) / 100 }
	var dets []Detection
	for i := int64(1); i <= 300; i++ {
		d.Images = append(d.Images, dataset.Image{ID: i, FileName: "img.jpg", Width: 640, Height: 480})
		for range rng.IntN(5) {
			cat := []int64{1, 1, 2, 5}[rng.IntN(4)]
			w, h := 20+rng.Float64()*200, 20+rng.Float64()*200
			box := [4]float64{rng.Float64() * (640 - w), rng.Float64() * (480 - h), w, h}
			crowd := 0
			if rng.Float64() < 0.05 {
				crowd = 1
			}
			d.Annotations = append(d.Annotations, dataset.Annotation{
				ID: int64(len(d.Annotations) + 1), ImageID: i, CategoryID: cat, BBox: box, Area: w * h, IsCrowd: crowd})
			if cat == 5 {
				continue // spoons are never detected
			}
			for k := 0; k < 2 && rng.Float64() < []float64{0.85, 0.2}[k]; k++ {
				j := func(s float64) float64 { return (rng.Float64() - 0.5) * 0.3 * s }
				dets = append(dets, Detection{ImageID: i, CategoryID: cat, Score: score(0.2, 0.8),
					BBox: [4]float64{box[0] + j(w), box[1] + j(h), w * (1 + j(1)), h * (1 + j(1))}})
			}
		}
		fps := rng.IntN(4)
		if i%50 == 0 {
			fps = 110
		}
		for range fps {
			cat := []int64{1, 2, 3}[rng.IntN(3)]
			if fps == 110 {
				cat = 1
			}
			dets = append(dets, Detection{ImageID: i, CategoryID: cat, Score: score(0.01, 0.6),
				BBox: [4]float64{rng.Float64() * 500, rng.Float64() * 380, 10 + rng.Float64()*130, 10 + rng.Float64()*90}})
		}
	}
	return d, dets
}

// writeCase writes the case in the reference script's input format.
func writeCase(t *testing.T, d *dataset.Dataset, dets []Detection, iou float64) string {
	t.Helper()
	type jsonDet struct {
		ImageID    int64      `json:"image_id"`
		CategoryID int64      `json:"category_id"`
		Score      float64    `json:"score"`
		BBox       [4]float64 `json:"bbox"`
	}
	out := struct {
		Dataset    *dataset.Dataset `json:"dataset"`
		Detections []jsonDet        `json:"detections"`
		IoU        float64          `json:"iou"`
	}{Dataset: d, IoU: iou}
	for _, x := range dets {
		out.Detections = append(out.Detections, jsonDet(x))
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "case.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// referenceFigures is the script's output.
type referenceFigures struct {
	Images  int                    `json:"images"`
	MAP50   float64                `json:"map50"`
	MAP5095 float64                `json:"map50_95"`
	Classes map[string]ClassResult `json:"classes"`
}

// TestAgainstReference compares the Go evaluation of the random case with
// the figures of the independent Python implementation: run now when
// python3 is installed, and as committed in testdata otherwise (always
// both when it is, so a stale file is caught).
func TestAgainstReference(t *testing.T) {
	d, dets := randomCase()
	got, err := Evaluate(d, dets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var committed referenceFigures
	b, err := os.ReadFile(referenceExpected)
	if err != nil && !*update {
		t.Fatal(err)
	}
	if err == nil {
		if err := json.Unmarshal(b, &committed); err != nil {
			t.Fatal(err)
		}
	}
	if python, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(python, referenceScript, writeCase(t, d, dets, DefaultIoU)).Output()
		if err != nil {
			t.Fatalf("%s: %v", referenceScript, err)
		}
		var now referenceFigures
		if err := json.Unmarshal(out, &now); err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(referenceExpected, out, 0o644); err != nil {
				t.Fatal(err)
			}
			committed = now
		}
		t.Run("python3 now", func(t *testing.T) { compareFigures(t, got, now) })
		t.Run("python3 and committed", func(t *testing.T) { compareReferences(t, now, committed) })
	} else {
		t.Logf("python3 not found: comparing with %s only", referenceExpected)
	}
	t.Run("committed", func(t *testing.T) { compareFigures(t, got, committed) })

	// The case must exercise what it claims to.
	if len(got.Classes) != 3 || got.Classes["spoon"].AP50 != 0 || got.Classes["spoon"].GroundTruth == 0 {
		t.Errorf("classes %v: want fork, scissors and spoon (never detected), not knife", got.Classes)
	}
	if _, ok := got.Classes["knife"]; ok {
		t.Error("knife has no ground truth but is reported")
	}
}

// agreement is how closely the two implementations must agree: the goal
// is the third decimal; they are expected to agree to rounding.
const agreement = 1e-9

func compareFigures(t *testing.T, got *Result, want referenceFigures) {
	t.Helper()
	check := func(what string, g, w float64) {
		if math.Abs(g-w) > agreement {
			t.Errorf("%s: Go %.12f, reference %.12f", what, g, w)
		}
	}
	if got.Images != want.Images || len(got.Classes) != len(want.Classes) {
		t.Fatalf("Go: %d images, %d classes; reference: %d images, %d classes", got.Images, len(got.Classes), want.Images, len(want.Classes))
	}
	check("map50", got.MAP50, want.MAP50)
	check("map50_95", got.MAP5095, want.MAP5095)
	for name, w := range want.Classes {
		g := got.Classes[name]
		if g.GroundTruth != w.GroundTruth {
			t.Errorf("%s: ground truth %d, reference %d", name, g.GroundTruth, w.GroundTruth)
		}
		check(name+" ap50", g.AP50, w.AP50)
		check(name+" ap50_95", g.AP5095, w.AP5095)
		check(name+" best_threshold", g.BestThreshold, w.BestThreshold)
		check(name+" precision", g.Precision, w.Precision)
		check(name+" recall", g.Recall, w.Recall)
		check(name+" f1", g.F1, w.F1)
	}
}

func compareReferences(t *testing.T, now, committed referenceFigures) {
	t.Helper()
	a, _ := json.Marshal(now)
	b, _ := json.Marshal(committed)
	if string(a) != string(b) {
		t.Errorf("%s is stale (rerun with -update):\nnow       %s\ncommitted %s", referenceExpected, a, b)
	}
}
