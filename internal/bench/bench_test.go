package bench

import (
	"bytes"
	"strings"
	"testing"
)

// The report says whether each goal holds, and sorts nothing it was given.
func TestReportGoalsAndTable(t *testing.T) {
	var r Report
	runs := []float64{3, 1, 2}
	f := r.figure("decode", "fps", runs)
	if f.Median != 2 || f.P95 != 3 || f.Runs != 3 || runs[0] != 3 {
		t.Errorf("figure %+v from %v", f, runs)
	}
	r.ratio("fast enough", 0.97, 0.95, "≥ 0.95")
	r.ratio("too slow", 0.80, 0.95, "≥ 0.95")
	r.ratio("informative", 1.2, 0, "")
	r.ratioAtMost("small enough", 0.8, 1, "< 1")
	r.ratioAtMost("too big", 1.0, 1, "< 1")
	if !*r.Ratios[0].Met || *r.Ratios[1].Met || r.Ratios[2].Met != nil || !*r.Ratios[3].Met || *r.Ratios[4].Met {
		t.Errorf("goals %+v", r.Ratios)
	}
	var b bytes.Buffer
	r.Print(&b)
	out := b.String()
	for _, want := range []string{"decode", "goal ≥ 0.95: met", "goal ≥ 0.95: NOT met", "informative"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
