package eval

import (
	"math"
	"testing"

	"github.com/sightline/sightline/internal/dataset"
)

const (
	fork     = 1
	scissors = 2
	knife    = 3
)

// gt is a ground-truth box of the hand-worked cases.
type gt struct {
	image, category int64
	box             [4]float64
	crowd           bool
}

// handDataset builds a dataset of n 100×100 images with the boxes given.
func handDataset(n int, boxes ...gt) *dataset.Dataset {
	d := &dataset.Dataset{Categories: []dataset.Category{{ID: fork, Name: "fork"}, {ID: scissors, Name: "scissors"}, {ID: knife, Name: "knife"}}}
	for i := 1; i <= n; i++ {
		d.Images = append(d.Images, dataset.Image{ID: int64(i), FileName: "x.jpg", Width: 100, Height: 100})
	}
	for i, b := range boxes {
		a := dataset.Annotation{ID: int64(i + 1), ImageID: b.image, CategoryID: b.category, BBox: b.box, Area: b.box[2] * b.box[3]}
		if b.crowd {
			a.IsCrowd = 1
		}
		d.Annotations = append(d.Annotations, a)
	}
	return d
}

func det(image, category int64, score float64, box [4]float64) Detection {
	return Detection{ImageID: image, CategoryID: category, Score: score, BBox: box}
}

// want is a class's expected figures; best is threshold, precision,
// recall, F1.
type want struct {
	ap50, ap5095 float64
	gt           int
	best         [4]float64
}

var (
	boxA    = [4]float64{10, 10, 40, 40}
	farAway = [4]float64{60, 60, 20, 20}
	perfect = want{1, 1, 1, [4]float64{0.9, 1, 1, 1}}
	nothing = [4]float64{1, 0, 0, 0}
)

// Figures worked out by hand from COCO's definition; the comments show
// the working.
var handCases = []struct {
	name      string
	data      *dataset.Dataset
	dets      []Detection
	iou       float64
	map50     float64
	map5095   float64
	classes   map[string]want
	noClasses []string
}{
	{
		name:  "one box found exactly",
		data:  handDataset(1, gt{1, fork, boxA, false}),
		dets:  []Detection{det(1, fork, 0.9, boxA)},
		map50: 1, map5095: 1, classes: map[string]want{"fork": perfect},
	},
	{
		// IoU 60/100 = 0.6 exactly: found at 0.50, 0.55 and 0.60 (NumPy's
		// linspace gives exactly 0.6), not above: 3 of 10 thresholds.
		name:  "IoU exactly 0.6",
		data:  handDataset(1, gt{1, fork, [4]float64{0, 0, 10, 10}, false}),
		dets:  []Detection{det(1, fork, 0.9, [4]float64{0, 0, 10, 6})},
		map50: 1, map5095: 0.3, classes: map[string]want{"fork": {1, 0.3, 1, [4]float64{0.9, 1, 1, 1}}},
	},
	{
		name:  "IoU just under 0.5 finds nothing",
		data:  handDataset(1, gt{1, fork, [4]float64{0, 0, 10, 10}, false}),
		dets:  []Detection{det(1, fork, 0.9, [4]float64{0, 0, 10, 4.99})},
		map50: 0, map5095: 0, classes: map[string]want{"fork": {0, 0, 1, nothing}},
	},
	{
		// The same box tuned at IoU 0.3: AP stays COCO's (0), the threshold
		// is chosen at 0.3, where the detection is a true positive.
		name: "tuning IoU below COCO's",
		data: handDataset(1, gt{1, fork, [4]float64{0, 0, 10, 10}, false}),
		dets: []Detection{det(1, fork, 0.9, [4]float64{0, 0, 10, 4.99})},
		iou:  0.3, map50: 0, map5095: 0, classes: map[string]want{"fork": {0, 0, 1, [4]float64{0.9, 1, 1, 1}}},
	},
	{
		// Ranked: FP (p 0, r 0), TP (p 1/2, r 1). Envelope 1/2 everywhere.
		// F1 at 0.9: 0; at 0.8: 2·(1/2)·1/(3/2) = 2/3.
		name:  "false positive ranked first",
		data:  handDataset(1, gt{1, fork, boxA, false}),
		dets:  []Detection{det(1, fork, 0.9, farAway), det(1, fork, 0.8, boxA)},
		map50: 0.5, map5095: 0.5, classes: map[string]want{"fork": {0.5, 0.5, 1, [4]float64{0.8, 0.5, 1, 2.0 / 3}}},
	},
	{
		// Recall reaches 1/2 with precision 1: recall points 0…0.50 (51 of
		// 101) read 1, the rest 0.
		name:  "half the boxes found",
		data:  handDataset(2, gt{1, fork, boxA, false}, gt{2, fork, boxA, false}),
		dets:  []Detection{det(1, fork, 0.7, boxA)},
		map50: 51.0 / 101, map5095: 51.0 / 101, classes: map[string]want{"fork": {51.0 / 101, 51.0 / 101, 2, [4]float64{0.7, 1, 0.5, 2.0 / 3}}},
	},
	{
		// One match a box: the second detection is a false positive, but it
		// comes after full recall, so AP stays 1.
		name:  "duplicate detection",
		data:  handDataset(1, gt{1, fork, boxA, false}),
		dets:  []Detection{det(1, fork, 0.9, boxA), det(1, fork, 0.8, boxA)},
		map50: 1, map5095: 1, classes: map[string]want{"fork": perfect},
	},
	{
		// The 0.95 detection lies inside a crowd box: ignored, neither true
		// nor false. The crowd box is not ground truth to find.
		name:  "detection on a crowd box is ignored",
		data:  handDataset(1, gt{1, fork, [4]float64{10, 10, 20, 20}, false}, gt{1, fork, [4]float64{50, 50, 50, 50}, true}),
		dets:  []Detection{det(1, fork, 0.95, [4]float64{60, 60, 10, 10}), det(1, fork, 0.9, [4]float64{10, 10, 20, 20})},
		map50: 1, map5095: 1, classes: map[string]want{"fork": perfect},
	},
	{
		// The same without the crowd flag: IoU 100/2500, a false positive
		// first; then a TP. p [0, 1/2], r [0, 1/2]: envelope 1/2 to r 0.5,
		// 51·0.5/101.
		name:  "the same box not crowd",
		data:  handDataset(1, gt{1, fork, [4]float64{10, 10, 20, 20}, false}, gt{1, fork, [4]float64{50, 50, 50, 50}, false}),
		dets:  []Detection{det(1, fork, 0.95, [4]float64{60, 60, 10, 10}), det(1, fork, 0.9, [4]float64{10, 10, 20, 20})},
		map50: 25.5 / 101, map5095: 25.5 / 101, classes: map[string]want{"fork": {25.5 / 101, 25.5 / 101, 2, [4]float64{0.9, 0.5, 0.5, 0.5}}},
	},
	{
		name:  "class without ground truth is not averaged",
		data:  handDataset(1, gt{1, fork, boxA, false}),
		dets:  []Detection{det(1, fork, 0.9, boxA), det(1, knife, 0.99, farAway)},
		map50: 1, map5095: 1, classes: map[string]want{"fork": perfect}, noClasses: []string{"knife", "scissors"},
	},
	{
		name:  "class with ground truth and no detections averages as 0",
		data:  handDataset(1, gt{1, fork, boxA, false}, gt{1, scissors, farAway, false}),
		dets:  []Detection{det(1, fork, 0.9, boxA)},
		map50: 0.5, map5095: 0.5, classes: map[string]want{"fork": perfect, "scissors": {0, 0, 1, nothing}},
	},
	{
		// Equal scores keep image order: image 1's false positive ranks
		// before image 2's true positive, p [0, 1/2].
		name:  "tie, false positive on the first image",
		data:  handDataset(2, gt{2, fork, boxA, false}),
		dets:  []Detection{det(2, fork, 0.5, boxA), det(1, fork, 0.5, farAway)},
		map50: 0.5, map5095: 0.5, classes: map[string]want{"fork": {0.5, 0.5, 1, [4]float64{0.5, 0.5, 1, 2.0 / 3}}},
	},
	{
		// Swapped: the true positive ranks first, p [1, 1/2], r [1, 1]: AP 1.
		name:  "tie, true positive on the first image",
		data:  handDataset(2, gt{1, fork, boxA, false}),
		dets:  []Detection{det(2, fork, 0.5, farAway), det(1, fork, 0.5, boxA)},
		map50: 1, map5095: 1, classes: map[string]want{"fork": {1, 1, 1, [4]float64{0.5, 0.5, 1, 2.0 / 3}}},
	},
	{
		// 100 better-scored false positives fill the image's 100
		// detections; the true positive is never seen.
		name:  "at most 100 detections an image and class",
		data:  handDataset(1, gt{1, fork, [4]float64{0, 0, 10, 10}, false}),
		dets:  append(repeat(100, det(1, fork, 0.99, farAway)), det(1, fork, 0.5, [4]float64{0, 0, 10, 10})),
		map50: 0, map5095: 0, classes: map[string]want{"fork": {0, 0, 1, nothing}},
	},
	{
		// A (0.9, [3,0,10,10]) overlaps box 2 by 80/120 and box 1 by 70/130:
		// it takes box 2. B (0.8) is box 2 exactly but box 2 is taken, and
		// overlaps box 1 by 50/150: a false positive. Up to IoU 0.65, p
		// [1, 1/2], r [1/2, 1/2]: 51/101. From 0.70, A no longer matches
		// (FP) and B takes box 2: p [0, 1/2]: 25.5/101. AP50:95 =
		// (4·51 + 6·25.5)/1010.
		name:  "greedy matching by score",
		data:  handDataset(1, gt{1, fork, [4]float64{0, 0, 10, 10}, false}, gt{1, fork, [4]float64{5, 0, 10, 10}, false}),
		dets:  []Detection{det(1, fork, 0.8, [4]float64{5, 0, 10, 10}), det(1, fork, 0.9, [4]float64{3, 0, 10, 10})},
		map50: 51.0 / 101, map5095: (4*51 + 6*25.5) / 1010.0,
		classes: map[string]want{"fork": {51.0 / 101, (4*51 + 6*25.5) / 1010.0, 2, [4]float64{0.9, 1, 0.5, 2.0 / 3}}},
	},
}

func repeat(n int, d Detection) []Detection {
	out := make([]Detection, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestHandWorkedCases(t *testing.T) {
	for _, tc := range handCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Evaluate(tc.data, tc.dets, Options{IoU: tc.iou})
			if err != nil {
				t.Fatal(err)
			}
			near(t, "map50", r.MAP50, tc.map50)
			near(t, "map50_95", r.MAP5095, tc.map5095)
			for name, w := range tc.classes {
				c, ok := r.Classes[name]
				if !ok {
					t.Fatalf("no class %q in %v", name, r.Classes)
				}
				near(t, name+" ap50", c.AP50, w.ap50)
				near(t, name+" ap50_95", c.AP5095, w.ap5095)
				if c.GroundTruth != w.gt {
					t.Errorf("%s ground truth %d, want %d", name, c.GroundTruth, w.gt)
				}
				got := [4]float64{c.BestThreshold, c.Precision, c.Recall, c.F1}
				for i, label := range []string{"best_threshold", "precision", "recall", "f1"} {
					near(t, name+" "+label, got[i], w.best[i])
				}
			}
			for _, name := range tc.noClasses {
				if _, ok := r.Classes[name]; ok {
					t.Errorf("class %q has no ground truth but is reported", name)
				}
			}
		})
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("%s = %.15g, want %.15g", what, got, want)
	}
}

func TestCurveAndMistakes(t *testing.T) {
	// The greedy case: A 0.9 true positive (box 2), B 0.8 false positive;
	// box 1 is never found.
	tc := handCases[len(handCases)-1]
	r, err := Evaluate(tc.data, tc.dets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Curves()
	if c.IoU != 0.5 {
		t.Errorf("curves at IoU %g", c.IoU)
	}
	curve := c.Classes["fork"]
	wantCurve := Curve{Threshold: []float64{0.9, 0.8}, Precision: []float64{1, 0.5}, Recall: []float64{0.5, 0.5}, F1: []float64{2.0 / 3, 0.5}}
	for i := range wantCurve.Threshold {
		near(t, "threshold", curve.Threshold[i], wantCurve.Threshold[i])
		near(t, "precision", curve.Precision[i], wantCurve.Precision[i])
		near(t, "recall", curve.Recall[i], wantCurve.Recall[i])
		near(t, "f1", curve.F1[i], wantCurve.F1[i])
	}
	if len(curve.Threshold) != 2 {
		t.Errorf("curve %+v, want two points", curve)
	}
	tests := []struct {
		threshold      float64
		falsePositives []float64 // their scores
		misses         []int64   // annotation ids
	}{
		{0.5, []float64{0.8}, []int64{1}},
		{0.85, nil, []int64{1}},
		{0.95, nil, []int64{1, 2}},
	}
	for _, tt := range tests {
		m := r.Mistakes("fork", tt.threshold)
		var fps []float64
		for _, d := range m.FalsePositives {
			fps = append(fps, d.Score)
		}
		var misses []int64
		for _, a := range m.Misses {
			misses = append(misses, a.ID)
		}
		if !equal(fps, tt.falsePositives) || !equal(misses, tt.misses) {
			t.Errorf("at %g: false positives %v, misses %v; want %v, %v", tt.threshold, fps, misses, tt.falsePositives, tt.misses)
		}
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEvaluateErrors(t *testing.T) {
	d := handDataset(1)
	if _, err := Evaluate(d, nil, Options{}); err == nil {
		t.Error("a dataset without boxes was scored")
	}
	d = handDataset(2, gt{1, fork, boxA, false})
	if _, err := Evaluate(d, nil, Options{Images: []int64{2}}); err == nil {
		t.Error("images without boxes were scored")
	}
	if _, err := Evaluate(d, nil, Options{IoU: 1.5}); err == nil {
		t.Error("IoU 1.5 accepted")
	}
	r, err := Evaluate(d, []Detection{det(2, fork, 0.9, boxA)}, Options{Images: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Images != 1 || r.Classes["fork"].F1 != 0 {
		t.Errorf("a detection on a left-out image counted: %+v", r)
	}
}
