package video

import (
	"fmt"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/mats"
)

// A frame's pixels go back to its pool exactly once: when the frame is
// released and every loan given back, whichever comes last, however often
// each is repeated.
func TestFrameLendReturnsPixelsOnce(t *testing.T) {
	type step struct {
		op   string // "release", or "give N" for the N-th loan taken by "lend"
		back bool   // the pixels are in the pool after this step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"never lent", []step{{"release", true}}},
		{"released while lent", []step{{"lend", false}, {"release", false}, {"give 0", true}}},
		{"given back before the release", []step{{"lend", false}, {"give 0", false}, {"release", true}}},
		{"two loans, one given back twice", []step{{"lend", false}, {"lend", false}, {"release", false},
			{"give 0", false}, {"give 0", false}, {"give 1", true}}},
		{"released twice while lent", []step{{"lend", false}, {"release", false}, {"release", false}, {"give 0", true}}},
		{"lent again after a loan ended", []step{{"lend", false}, {"give 0", false}, {"lend", false}, {"release", false},
			{"give 1", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := &mats.Pool{}
			defer pool.Close()
			m := pool.Get(4, 4)
			pixels := m.Ptr()
			isPixels := func(x gocv.Mat) bool { return x.Ptr() == pixels }
			f := &Frame{Mat: m, pool: pool}
			var loans []func()
			for _, st := range tt.steps {
				switch st.op {
				case "release":
					f.Release()
				case "lend":
					loans = append(loans, f.Lend())
				default:
					var i int
					if _, err := fmt.Sscanf(st.op, "give %d", &i); err != nil {
						t.Fatal(err)
					}
					loans[i]()
				}
				if back := pooled(pool, isPixels); back != st.back {
					t.Fatalf("after %q: pixels in the pool %v, want %v", st.op, back, st.back)
				}
			}
			// Once: the pool holds them once, not twice.
			got := pool.Get(4, 4)
			again := pool.Get(4, 4)
			defer again.Close()
			defer got.Close()
			if !isPixels(got) || isPixels(again) {
				t.Error("the pixels went back to the pool twice, or not at all")
			}
		})
	}
}

// pooled says whether the pool's next Mat is the one sought, leaving the
// pool as it was.
func pooled(pool *mats.Pool, sought func(gocv.Mat) bool) bool {
	m := pool.Get(4, 4)
	defer pool.Put(m)
	return sought(m)
}
