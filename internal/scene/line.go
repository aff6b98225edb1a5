package scene

import (
	"math"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/event"
)

// Crossing hysteresis: a track's side of a line changes only once its
// anchor is this far past the line (a fraction of the box's height, at
// least minMarginPx), so that a box jittering on the line counts once.
const (
	marginOfHeight = 0.05
	minMarginPx    = 2.0
)

// line is a counting line's state.
type line struct {
	cfg     Line
	a, b    vec // in pixels
	length  float64
	in, out int
	byClass []ClassCount
	// crossings feeds the crossings_below rules that watch this line.
	rules []*rule
}

// ClassCount is a line's crossings of one class.
type ClassCount struct {
	Name    string
	In, Out int
}

// lineTrack is one track's state on one line.
type lineTrack struct {
	prev    vec
	started bool
	side    int8 // the side the track is on for counting: -1, +1, 0 not yet known
	// through says the anchor's path went through the segment since it
	// last stood clearly on side.
	through bool
}

func (l *line) place(w, h int) {
	l.a, l.b = toVec(l.cfg.Points[0], w, h), toVec(l.cfg.Points[1], w, h)
	l.length = math.Hypot(l.b.x-l.a.x, l.b.y-l.a.y)
}

func (l *line) watches(class string) bool { return watches(l.cfg.Classes, class) }

// watches reports whether a class list (empty: every class) has class.
func watches(classes []string, class string) bool {
	if len(classes) == 0 {
		return true
	}
	for _, c := range classes {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// observe moves track lt's anchor to p (its box boxH pixels high) and
// returns the direction it crossed in: +1 in, −1 out, 0 none.
func (l *line) observe(lt *lineTrack, p vec, boxH float64) int8 {
	d := side(l.a, l.b, p) / l.length // signed distance in pixels
	if !lt.started {
		*lt = lineTrack{prev: p, started: true, side: sign(d)}
		return 0
	}
	if segmentsCross(lt.prev, p, l.a, l.b) {
		lt.through = true
	}
	lt.prev = p
	s := sign(d)
	switch {
	case lt.side == 0:
		lt.side = s
	case s == 0 || math.Abs(d) < max(minMarginPx, marginOfHeight*boxH):
		// On the line: undecided until the anchor is clearly on a side.
	case s == lt.side:
		lt.through = false
	case lt.through:
		lt.side, lt.through = s, false
		return s
	default: // passed beside the segment, not through it
		lt.side = s
	}
	return 0
}

// finish returns the crossing a track that ends just past the line has
// made: through the segment, on the other side, but not yet by the margin.
func (l *line) finish(lt *lineTrack) int8 {
	if !lt.started || !lt.through || lt.side == 0 {
		return 0
	}
	if s := sign(side(l.a, l.b, lt.prev)); s != 0 && s != lt.side {
		return s
	}
	return 0
}

// count records a crossing and returns its event.
func (l *line) count(dir int8, id int, class string, at event.At, now time.Duration) *event.LineCross {
	c := countOf(&l.byClass, class)
	e := &event.LineCross{Header: event.Header{Type: event.TypeLineCross}, At: at, Line: l.cfg.Name,
		TrackID: id, Name: class}
	if dir > 0 {
		l.in++
		c.In++
		e.Direction = "in"
	} else {
		l.out++
		c.Out++
		e.Direction = "out"
	}
	e.CountIn, e.CountOut = l.in, l.out
	for _, r := range l.rules {
		r.crossed(now)
	}
	return e
}
