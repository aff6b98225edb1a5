package docrules

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/levenshtein"
)

// line is an OCR line with what the rules ask of it.
type line struct {
	text   string
	words  []analyzer.Word
	poly   []analyzer.Point
	x0, y0 float64 // top-left of the bounding box
	x1, y1 float64 // bottom-right
	conf   float64 // mean word confidence
	used   bool    // a field was read from it
}

func (l *line) cy() float64     { return (l.y0 + l.y1) / 2 }
func (l *line) height() float64 { return l.y1 - l.y0 }

// linesOf flattens a read result into lines in reading order: rows top to
// bottom, each left to right.
func linesOf(r *analyzer.ReadResult) []*line {
	var out []*line
	if r == nil {
		return out
	}
	for _, b := range r.Blocks {
		for _, l := range b.Lines {
			if strings.TrimSpace(l.Text) != "" && len(l.BoundingPolygon) > 0 {
				out = append(out, newLine(l))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *line) int { return cmp.Compare(a.cy(), b.cy()) })
	var ordered []*line
	for _, row := range rowsOf(out) {
		ordered = append(ordered, row...)
	}
	return ordered
}

func newLine(l analyzer.Line) *line {
	ln := &line{text: strings.TrimSpace(l.Text), words: l.Words, poly: l.BoundingPolygon,
		x0: math.Inf(1), y0: math.Inf(1), x1: math.Inf(-1), y1: math.Inf(-1), conf: 1}
	for _, p := range l.BoundingPolygon {
		ln.x0, ln.y0 = min(ln.x0, float64(p.X)), min(ln.y0, float64(p.Y))
		ln.x1, ln.y1 = max(ln.x1, float64(p.X)), max(ln.y1, float64(p.Y))
	}
	if len(l.Words) > 0 {
		sum := 0.0
		for _, w := range l.Words {
			sum += w.Confidence
		}
		ln.conf = sum / float64(len(l.Words))
	}
	return ln
}

// rowsOf groups lines sorted by their centre's height into rows: a line
// joins the row whose first line it is on the same row with; each row is
// sorted left to right.
func rowsOf(sorted []*line) [][]*line {
	var rows [][]*line
	for _, l := range sorted {
		if n := len(rows); n > 0 && sameRow(rows[n-1][0], l) {
			rows[n-1] = append(rows[n-1], l)
			continue
		}
		rows = append(rows, []*line{l})
	}
	for _, row := range rows {
		slices.SortStableFunc(row, func(a, b *line) int { return cmp.Compare(a.x0, b.x0) })
	}
	return rows
}

// sameRow: the lines' centres are closer than half the taller one, which
// tolerates a photo held slightly askew.
func sameRow(a, b *line) bool {
	return math.Abs(a.cy()-b.cy()) < 0.5*max(a.height(), b.height())
}

// rightOf returns the nearest line to the right of l on its row that
// accept takes.
func rightOf(lines []*line, l *line, accept func(*line) bool) *line {
	var best *line
	for _, o := range lines {
		if o == l || o.used || !sameRow(l, o) || o.x0 < l.x1-0.25*l.height() || !accept(o) {
			continue
		}
		if best == nil || o.x0 < best.x0 {
			best = o
		}
	}
	return best
}

// below returns the nearest line under l, in its column (overlapping it
// horizontally, give or take a line height for a value aligned otherwise
// than its header), within a few line heights, that accept takes.
func below(lines []*line, l *line, accept func(*line) bool) *line {
	var best *line
	h := l.height()
	for _, o := range lines {
		if o == l || o.used || o.cy() <= l.y1 || o.y0-l.y1 > 3*h ||
			o.x1 < l.x0-h || o.x0 > l.x1+h || !accept(o) {
			continue
		}
		if best == nil || o.y0 < best.y0 {
			best = o
		}
	}
	return best
}

// squash keeps a label's letters, lower-cased: OCR loses spaces and dots
// ("P.O.NUMBER", "AMOUNTDUE"), so labels are compared without them.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// labelMatches reports whether got is one of the labels, allowing one
// misread letter in labels of five letters or more ("Tatal").
func labelMatches(got string, labels []string) (exact, ok bool) {
	for _, l := range labels {
		if got == l {
			return true, true
		}
	}
	for _, l := range labels {
		if len(l) >= 5 && levenshtein.Distance([]rune(got), []rune(l)) <= 1 {
			return false, true
		}
	}
	return false, false
}

// splitLabel splits "INVOICE DATE: 11/15/2019" into its label and the
// value after the colon, and "Total $14.50" into "Total" and the amount
// that ends it; other lines are all label.
func splitLabel(text string) (label, value string) {
	if label, value, ok := strings.Cut(text, ":"); ok {
		return strings.TrimSpace(label), strings.TrimSpace(value)
	}
	if loc := amountIn.FindStringIndex(text); loc != nil && loc[0] > 0 {
		return strings.TrimSpace(text[:loc[0]]), strings.TrimSpace(text[loc[0]:])
	}
	return text, ""
}

// valuePolygon outlines the words of l that make up value (the end of the
// line), or the whole line when the words do not say.
func valuePolygon(l *line, value string) []analyzer.DocumentPoint {
	pts := l.poly
	if n := len(strings.Fields(value)); value != l.text && n > 0 && n < len(l.words) &&
		strings.Join(wordTexts(l.words[len(l.words)-n:]), " ") == strings.Join(strings.Fields(value), " ") {
		pts = nil
		for _, w := range l.words[len(l.words)-n:] {
			pts = append(pts, w.BoundingPolygon...)
		}
		pts = boxOf(pts)
	}
	out := make([]analyzer.DocumentPoint, len(pts))
	for i, p := range pts {
		out[i] = analyzer.DocumentPoint{X: float64(p.X), Y: float64(p.Y)}
	}
	return out
}

func wordTexts(ws []analyzer.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

// boxOf is the axis-aligned box around pts, clockwise from the top left.
func boxOf(pts []analyzer.Point) []analyzer.Point {
	if len(pts) == 0 {
		return pts
	}
	x0, y0, x1, y1 := pts[0].X, pts[0].Y, pts[0].X, pts[0].Y
	for _, p := range pts[1:] {
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	return []analyzer.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}
