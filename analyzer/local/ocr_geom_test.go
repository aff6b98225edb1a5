package local

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCTCDecode(t *testing.T) {
	dict := []string{"a", "b", "c", " "}
	// steps given as argmax classes; 0 is the blank.
	for _, tc := range []struct {
		name  string
		steps []int
		want  string
	}{
		{"empty", nil, ""},
		{"all blank", []int{0, 0, 0}, ""},
		{"repeats collapse", []int{1, 1, 1, 2, 2}, "ab"},
		{"blank separates repeats", []int{1, 0, 1, 1, 0, 0, 1}, "aaa"},
		{"space and words", []int{1, 2, 0, 4, 4, 0, 3, 3}, "ab c"},
		{"leading and trailing blanks", []int{0, 0, 3, 0, 0}, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			classes := len(dict) + 1
			probs := make([]float32, len(tc.steps)*classes)
			for s, k := range tc.steps {
				for c := 0; c < classes; c++ {
					probs[s*classes+c] = 0.05
				}
				probs[s*classes+k] = 0.8
			}
			chars := ctcDecode(probs, classes, dict)
			text, conf := ctcText(chars)
			if text != tc.want {
				t.Errorf("got %q, want %q", text, tc.want)
			}
			if text != "" && math.Abs(conf-0.8) > 1e-6 || text == "" && conf != 0 {
				t.Errorf("confidence %v", conf)
			}
			for i := 1; i < len(chars); i++ {
				if chars[i].step <= chars[i-1].step {
					t.Errorf("steps not increasing: %+v", chars)
				}
			}
		})
	}
}

func TestCTCWords(t *testing.T) {
	cs := []ctcChar{{"H", 1, 1, 0.9}, {"i", 3, 3, 0.7}, {" ", 5, 5, 0.99}, {" ", 6, 6, 0.99}, {"y", 8, 8, 0.6}, {"o", 9, 9, 1}, {"u", 11, 11, 0.8}, {" ", 13, 13, 0.9}}
	got := ctcWords(cs)
	want := []ctcWord{{"Hi", 0.8, 1, 3}, {"you", 0.8, 8, 11}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range got {
		if got[i].text != want[i].text || math.Abs(got[i].conf-want[i].conf) > 1e-6 || got[i].first != want[i].first || got[i].last != want[i].last {
			t.Errorf("word %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestMinAreaRectAndUnclip: for random rotated rectangles, the minimum-area
// rectangle of their corners is the rectangle itself, miniBox orders it
// top-left first and clockwise, and unclip pushes every side out by
// area×1.5/perimeter.
func TestMinAreaRectAndUnclip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		h := 5 + rng.Float64()*40
		w := h * (2 + rng.Float64()*10)            // text lines: wider than tall
		ang := (rng.Float64() - 0.5) * math.Pi / 3 // ±30°, text-like
		c := fpt{200 + rng.Float64()*300, 200 + rng.Float64()*300}
		u, v := fpt{math.Cos(ang), math.Sin(ang)}, fpt{-math.Sin(ang), math.Cos(ang)}
		corner := func(a, b float64) image.Point { return c.add(u.mul(a)).add(v.mul(b)).round() }
		pts := []image.Point{corner(-w/2, -h/2), corner(w/2, -h/2), corner(w/2, h/2), corner(-w/2, h/2)}
		rect, short := minAreaRect(pts)
		box := miniBox(rect)
		bw, bh := box[1].sub(box[0]).norm(), box[3].sub(box[0]).norm()
		if math.Abs(bw-w) > 2 || math.Abs(bh-h) > 2 || math.Abs(short-math.Min(bw, bh)) > 1e-9 {
			t.Fatalf("rect %vx%v at %.2f rad: got %vx%v (short %v)", w, h, ang, bw, bh, short)
		}
		if box[0].X > box[1].X || box[0].Y > box[3].Y || box[2].X < box[3].X {
			t.Fatalf("not top-left first, clockwise: %v", box)
		}
		big := miniBox(unclipRect(box, 1.5))
		d := bw * bh * 1.5 / (2 * (bw + bh))
		gw, gh := big[1].sub(big[0]).norm(), big[3].sub(big[0]).norm()
		if math.Abs(gw-(bw+2*d)) > 1e-6 || math.Abs(gh-(bh+2*d)) > 1e-6 {
			t.Fatalf("unclip %vx%v by %v: got %vx%v", bw, bh, d, gw, gh)
		}
		if cb, cg := box[0].add(box[2]).mul(0.5), big[0].add(big[2]).mul(0.5); cb.sub(cg).norm() > 1e-6 {
			t.Fatalf("unclip moved the centre: %v → %v", cb, cg)
		}
	}
}

func TestOrderClockwise(t *testing.T) {
	want := [4]image.Point{{10, 20}, {110, 25}, {108, 60}, {8, 55}}
	p := want
	for i := 0; i < 24; i++ { // every permutation
		perm := permutation(i)
		var in [4]image.Point
		for k := range in {
			in[k] = p[perm[k]]
		}
		if got := orderClockwise(in); got != want {
			t.Fatalf("order %v: got %v, want %v", in, got, want)
		}
	}
}

func permutation(i int) [4]int {
	rest := []int{0, 1, 2, 3}
	var out [4]int
	for k, f := range []int{6, 2, 1, 1} {
		j := (i / f) % len(rest)
		out[k] = rest[j]
		rest = slices.Delete(rest, j, j+1)
	}
	return out
}

// TestSortBoxesReadingOrder: boxes of a page shuffled come back top to
// bottom, and left to right within a row even when the row's boxes are a
// few pixels out of line.
func TestSortBoxesReadingOrder(t *testing.T) {
	box := func(x, y int) [4]image.Point {
		return [4]image.Point{{x, y}, {x + 50, y}, {x + 50, y + 15}, {x, y + 15}}
	}
	want := [][4]image.Point{
		box(10, 10), box(80, 14), box(150, 8), // a row, jittered by up to 6 px
		box(10, 40), box(90, 41),
		box(12, 70),
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50; i++ {
		got := slices.Clone(want)
		rng.Shuffle(len(got), func(a, b int) { got[a], got[b] = got[b], got[a] })
		sortBoxes(got)
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestSpacelessLines(t *testing.T) {
	for _, tc := range []struct {
		text string
		run  int
	}{
		{"", 0},
		{"The quick brown fox", 5},
		{"Sightlinereadstextfromvideoframes.", 34},
		{"call help@example.com now", 16},
		{"implementation, fine", 15},
		{"识别中文文本没有空格也是正常的", 0}, // Chinese: no spaces, and rightly so
		{"ZX-2290号货物", 7},
	} {
		if got := longestLatinRun(tc.text); got != tc.run {
			t.Errorf("longestLatinRun(%q) = %d, want %d", tc.text, got, tc.run)
		}
	}
	// Lines of Document Intelligence's read.png and layout.png as first
	// read, and whether the padded second reading restored spaces on them.
	for _, tc := range []struct {
		text string
		lost bool
	}{
		{"WhilehealthcareisstillintheearlystagesofitsAljourney,we", true},
		{"beforeheorshemeetsthedoctor.It's a", true},
		{"Your reference:2334566", true},
		{"765HalifaxSt.Clearwater,FL 33756", true},
		{"118QueenStreet", true},
		{"Sightlinereadstextfromvideoframes.", true},
		{"satisfaction with telemedicine. In the same report, 72 percent of", false},
		{"EMBRACING DIGITAL TRANSFORMATION IN LIFE SCIENCES ORGANIZATIONS", false},
		{"Pharmaceutical companies and other life sciences companies", false},
		{"Harleysville, PA", false},
		{"The quick brown fox", false},
		{"识别中文文本没有空格也是正常的", false},
	} {
		if got := spacesLost(tc.text); got != tc.lost {
			t.Errorf("spacesLost(%q) = %v, want %v", tc.text, got, tc.lost)
		}
	}
	for _, tc := range []struct {
		padded, first string
		same          bool
	}{
		{"Sightline reads text from video frames.", "Sightlinereadstextfromvideoframes.", true},
		{"Sightline reads text from video frames.", "Sightlinereadstextfromvideoframes", true}, // the full stop found
		{"Sightline reeds test from video frames.", "Sightlinereadstextfromvideoframes.", false},
		{"a b", "ab", true},
		{"a c", "ab", false},
	} {
		if got := sameButSpaces(tc.padded, tc.first); got != tc.same {
			t.Errorf("sameButSpaces(%q, %q) = %v, want %v", tc.padded, tc.first, got, tc.same)
		}
	}
}
