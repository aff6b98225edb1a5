package cli

import (
	"math"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer/local/onnxtest"
)

// TestPredictLocalDetectors: `predict --model DIR --detect` on both kinds of
// Custom Vision detector export prints the contract's line: predictions
// sorted by probability, each with a bounding box as fractions of the image,
// and a top prediction without one. The exports are tiny models written at
// test time whose outputs are known.
func TestPredictLocalDetectors(t *testing.T) {
	// One dog in the grid at row 6, column 4, anchor 2 (3.34×5.47 cells):
	// box centre ((0.5+4)/13, (0.25+6)/13), size (3.34/13, 5.47/13);
	// probability logistic(2) · softmax(0, ln 3)[1] = 0.880797 · 0.75. A cat
	// one cell to the right overlaps it by IoU 0.54 and is suppressed.
	grid := onnxtest.NewGrid(2, 13, 13)
	grid.Set(6, 4, 2, 0.5, 0.25, 0, 0, 2, 0, float32(math.Log(3)))
	grid.Set(6, 5, 2, 0.5, 0.25, 0, 0, 1, 0, 0)
	gridDog := pred{"dog", 0.75 / (1 + math.Exp(-2)), []float64{4.5/13 - 3.34/26, 6.25/13 - 5.47/26, 3.34 / 13, 5.47 / 13}}

	s1 := onnxtest.S1Detector(
		[]float32{0.5, 0.5, 0.75, 1.25, 0.125, 0.25, 0.375, 0.5},
		[]int64{0, 1},
		[]float32{0.25, 0.875})

	img := cvSample + "test_image.jpg"
	for _, tc := range []struct {
		name    string
		dir     string
		want    []pred
		wantMet bool
	}{
		{"S1 export", onnxtest.Export(t, s1, "cat", "dog"),
			[]pred{{"dog", 0.875, []float64{0.125, 0.25, 0.25, 0.25}}, {"cat", 0.25, []float64{0.5, 0.5, 0.25, 0.5}}}, true},
		{"grid export", onnxtest.Export(t, onnxtest.GridDetector(grid), "cat", "dog"), []pred{gridDog}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, "predict", "--model", tc.dir, "--detect", img)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := jsonLines(t, out)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1: %s", len(lines), out)
			}
			l := lines[0]
			if l["input"] != img || l["success"] != true || l["source"] != "local" {
				t.Fatalf("line %v", l)
			}
			data := l["data"].(map[string]any)
			if data["confidence_threshold_met"] != tc.wantMet {
				t.Errorf("confidence_threshold_met %v, want %v (top %v, threshold 0.7)", data["confidence_threshold_met"], tc.wantMet, tc.want[0].prob)
			}
			top := data["top_prediction"].(map[string]any)
			if len(top) != 2 || top["tag"] != tc.want[0].tag || !near(top["probability"], tc.want[0].prob) {
				t.Errorf("top_prediction %v, want {tag: %s, probability: %v} and no box", top, tc.want[0].tag, tc.want[0].prob)
			}
			all := data["all_predictions"].([]any)
			if len(all) != len(tc.want) {
				t.Fatalf("all_predictions %v, want %d", all, len(tc.want))
			}
			for i, w := range tc.want {
				p := all[i].(map[string]any)
				box, _ := p["bounding_box"].(map[string]any)
				if p["tag"] != w.tag || !near(p["probability"], w.prob) || len(box) != 4 ||
					!near(box["left"], w.box[0]) || !near(box["top"], w.box[1]) ||
					!near(box["width"], w.box[2]) || !near(box["height"], w.box[3]) {
					t.Errorf("all_predictions[%d] = %v, want %s %v with box (left, top, width, height) %v", i, p, w.tag, w.prob, w.box)
				}
			}

			// Without --detect: that input fails with a line saying why.
			code, out, _ = runCLI(t, nil, "predict", "--model", tc.dir, img)
			lines = jsonLines(t, out)
			if code != exitFailed || len(lines) != 1 || lines[0]["success"] != false ||
				!strings.Contains(lines[0]["error"].(string), "object detector: use --detect") {
				t.Errorf("without --detect: exit %d, %s", code, out)
			}
		})
	}

	// A grid whose class count disagrees with labels.txt is a configuration
	// error naming both files.
	dir := onnxtest.Export(t, onnxtest.GridDetector(grid), "cat", "dog", "bird")
	code, out, stderr := runCLI(t, nil, "predict", "--model", dir, "--detect", img)
	if code != exitUsage || out != "" || !strings.Contains(stderr, "labels.txt") || !strings.Contains(stderr, "model.onnx") {
		t.Errorf("labels mismatch: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// pred is an expected prediction; box is left, top, width, height.
type pred struct {
	tag  string
	prob float64
	box  []float64
}

// near compares a decoded JSON number with a float64 computed in the test;
// the models compute in float32.
func near(v any, want float64) bool {
	f, ok := v.(float64)
	return ok && math.Abs(f-want) < 1e-6
}
