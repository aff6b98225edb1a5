package local

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/levenshtein"
)

// imageTextN is the text of opencv-doc's imageTextN.png (and, rotated,
// imageTextR.png), transcribed by hand from the image.
var imageTextN = []string{
	"technical details are too complex to cover in the book itself.",
	"In teaching our courses, we have found it useful for the students to attempt a number of",
	"small implementation projects, which often build on one another, in order to get them used to",
	"working with real-world images and the challenges that these present. The students are then",
	"asked to choose an individual topic for each of their small-group, final projects. (Sometimes",
	"these projects even turn into conference papers!) The exercises at the end of each chapter",
	"contain numerous suggestions for smaller mid-term projects, as well as more open-ended",
	"problems whose solutions are still active research topics. Wherever possible, I encourage",
	"students to try their algorithms on their own personal photographs, since this better motivates",
	"them, often leads to creative variants on the problems, and better acquaints them with the",
	"variety and complexity of real-world imagery.",
	"In formulating and solving computer vision problems, I have often found it useful to draw",
	"inspiration from three high-level approaches:",
}

var (
	sharedOCROnce sync.Once
	sharedOCR     *OCR
	sharedOCRErr  error
)

// testOCR loads the PP-OCRv4 models once for the package's tests.
func testOCR(t testing.TB) *OCR {
	t.Helper()
	sharedOCROnce.Do(func() {
		dir, err := DefaultOCRDir()
		if err != nil {
			sharedOCRErr = err
			return
		}
		sharedOCR, sharedOCRErr = NewOCR(dir)
	})
	if sharedOCRErr != nil {
		t.Fatalf("PP-OCRv4 not installed (scripts/setup.sh): %v", sharedOCRErr)
	}
	return sharedOCR
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// cer is the character error rate: edit distance over the reference length.
func cer(got, want string) float64 {
	return float64(levenshtein.Distance([]rune(got), []rune(want))) / float64(max(len([]rune(want)), 1))
}

func lineTexts(r *analyzer.ReadResult) []string {
	var out []string
	for _, b := range r.Blocks {
		for _, l := range b.Lines {
			out = append(out, l.Text)
		}
	}
	return out
}

func TestOCRCharacterErrorRate(t *testing.T) {
	o := testOCR(t)
	// The Chinese PP-OCRv4 recogniser drops every space of crisp rendered
	// English (the DejaVu renderings) unless those lines get their second,
	// padded reading (recheckSpaces): every case is scored with its spaces.
	for _, tc := range []struct {
		name, image string
		want        []string
		maxCER      float64
	}{
		// Bounds set after reading the outputs drawn over the images once:
		// imageTextN 0.1% (one c read as e), imageTextR 1.8%, the
		// renderings 0.0%, 0.4% and 0.5% (without the second reading of
		// spaceless lines: 15.0%, 15.4% and 1.8%).
		{"imageTextN", opencvData + "imageTextN.png", imageTextN, 0.01},
		{"imageTextR rotated", opencvData + "imageTextR.png", imageTextN, 0.03},
		{"rendered DejaVu Sans", "testdata/ocr/lines.png", readLines(t, "testdata/ocr/lines.txt"), 0.01},
		{"rendered upside down", "testdata/ocr/lines_upside_down.png", readLines(t, "testdata/ocr/lines.txt"), 0.01},
		{"rendered 1280x720 frame", "testdata/ocr/frame_1280x720_20lines.png", readLines(t, "testdata/ocr/frame20.txt"), 0.01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := readImage(t, tc.image)
			r, err := o.Read(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Blocks) != 1 {
				t.Fatalf("got %d blocks, want 1", len(r.Blocks))
			}
			got := lineTexts(r)
			// Lines compared in order: a reading-order mistake costs as
			// much as misread characters.
			e := cer(strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			t.Logf("CER %.4f over %d lines", e, len(got))
			if e > tc.maxCER || len(got) != len(tc.want) {
				t.Errorf("CER %.4f (max %.2f), %d lines (want %d):\n%s", e, tc.maxCER, len(got), len(tc.want), strings.Join(got, "\n"))
			}
			checkReadGeometry(t, r, img.Cols(), img.Rows())
		})
	}
}

// checkReadGeometry: every polygon has four corners inside the image, words
// join back into their line, confidences are probabilities.
func checkReadGeometry(t *testing.T, r *analyzer.ReadResult, w, h int) {
	t.Helper()
	for _, l := range r.Blocks[0].Lines {
		inside := func(ps []analyzer.Point) bool {
			for _, p := range ps {
				if p.X < 0 || p.Y < 0 || p.X >= w || p.Y >= h {
					return false
				}
			}
			return len(ps) == 4
		}
		if !inside(l.BoundingPolygon) {
			t.Errorf("line %q polygon %v outside %dx%d", l.Text, l.BoundingPolygon, w, h)
		}
		var words []string
		for _, wd := range l.Words {
			words = append(words, wd.Text)
			if !inside(wd.BoundingPolygon) || wd.Confidence <= 0 || wd.Confidence > 1 {
				t.Errorf("word %q: polygon %v confidence %v", wd.Text, wd.BoundingPolygon, wd.Confidence)
			}
		}
		if strings.Join(words, " ") != strings.Join(strings.Fields(l.Text), " ") {
			t.Errorf("words %q do not make line %q", words, l.Text)
		}
	}
}

// TestOCRWordPolygons checks word boxes against the rendered layout: on
// each upright line, words run left to right without overlapping much and
// stay within the line's box.
func TestOCRWordPolygons(t *testing.T) {
	o := testOCR(t)
	img := readImage(t, "testdata/ocr/lines.png")
	r, err := o.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Blocks[0].Lines {
		lp := l.BoundingPolygon
		prevRight := -1 << 30
		for _, wd := range l.Words {
			p := wd.BoundingPolygon
			left, right := min(p[0].X, p[3].X), max(p[1].X, p[2].X)
			if right <= left || left < lp[0].X-2 || right > lp[1].X+2 {
				t.Errorf("word %q spans x %d..%d outside line %v", wd.Text, left, right, lp)
			}
			if left < prevRight-6 {
				t.Errorf("word %q starts at %d, before the previous word ends at %d", wd.Text, left, prevRight)
			}
			prevRight = right
		}
	}
}

func TestOCRUnreadableImage(t *testing.T) {
	o := testOCR(t)
	for _, tc := range []struct {
		name string
		img  func() gocv.Mat
	}{
		{"motion blur", func() gocv.Mat { m := readImage(t, opencvData+"text_motion.jpg"); return m.Clone() }},
		{"blank", func() gocv.Mat {
			return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), 64, 64, gocv.MatTypeCV8UC3)
		}},
		{"tiny", func() gocv.Mat { return gocv.NewMatWithSize(3, 5, gocv.MatTypeCV8UC3) }},
		{"gray", func() gocv.Mat { return gocv.NewMatWithSize(40, 200, gocv.MatTypeCV8U) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img()
			defer img.Close()
			r, err := o.Read(img)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Blocks) != 1 || r.Blocks[0].Lines == nil {
				t.Fatalf("want one block with a non-nil line list, got %+v", r)
			}
		})
	}
	if _, err := o.Read(gocv.Mat{}); err == nil {
		t.Error("empty Mat: want an error")
	}
}

func TestNewOCRErrors(t *testing.T) {
	dir, err := DefaultOCRDir()
	if err != nil {
		t.Fatal(err)
	}
	link := func(t *testing.T, dst string, skip string) {
		for _, f := range []string{ocrDetFile, ocrRecFile, ocrClsFile, ocrDictFile} {
			if f != skip {
				if err := os.Symlink(filepath.Join(dir, f), filepath.Join(dst, f)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, d string)
		want    []string // substrings of the error
	}{
		{"missing model", func(t *testing.T, d string) { link(t, d, ocrRecFile) }, []string{ocrRecFile, "no such file"}},
		{"truncated model", func(t *testing.T, d string) {
			link(t, d, ocrDetFile)
			b, err := os.ReadFile(filepath.Join(dir, ocrDetFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, ocrDetFile), b[:len(b)/3], 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{ocrDetFile, "not a readable ONNX model"}},
		{"wrong dictionary", func(t *testing.T, d string) {
			link(t, d, ocrDictFile)
			if err := os.WriteFile(filepath.Join(d, ocrDictFile), []byte("a\nb\nc\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{ocrRecFile, "3 dictionary characters"}},
		{"model in the wrong place", func(t *testing.T, d string) {
			link(t, d, ocrClsFile)
			if err := os.Symlink(filepath.Join(dir, ocrRecFile), filepath.Join(d, ocrClsFile)); err != nil {
				t.Fatal(err)
			}
		}, []string{ocrClsFile, "expected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			tc.prepare(t, d)
			o, err := NewOCR(d)
			if err == nil {
				o.Close()
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func BenchmarkOCR1280x720(b *testing.B) {
	o := testOCR(b)
	img := readImage(b, "testdata/ocr/frame_1280x720_20lines.png")
	if img.Cols() != 1280 || img.Rows() != 720 {
		b.Fatalf("frame is %dx%d", img.Cols(), img.Rows())
	}
	if _, err := o.Read(img); err != nil { // warm-up: tensor allocation
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := o.Read(img); err != nil {
			b.Fatal(err)
		}
	}
}

// Reads running at once share the sessions and the cores, and each reads
// exactly what it reads alone.
func TestOCRConcurrentReadsAgree(t *testing.T) {
	o := testOCR(t)
	imgs := []gocv.Mat{readImage(t, "testdata/ocr/lines.png"), readImage(t, "testdata/ocr/lines_upside_down.png")}
	want := make([][]string, len(imgs))
	for i, img := range imgs {
		r, err := o.Read(img)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = lineTexts(r)
	}
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Go(func() {
			i := k % len(imgs)
			r, err := o.Read(imgs[i])
			if err != nil {
				t.Error(err)
				return
			}
			if got := lineTexts(r); !slices.Equal(got, want[i]) {
				t.Errorf("concurrent read %d: %q, alone %q", k, got, want[i])
			}
		})
	}
	wg.Wait()
}
