package scene

import (
	"time"

	"github.com/sightline/sightline/internal/event"
)

// Zone hysteresis: a track enters (or leaves) a zone once its anchor has
// been clearly inside (outside) – by the same margin as lines – on
// settleAnalyses consecutive analyses spanning at least settleTime. An
// anchor standing on the edge, jittering across it, changes nothing; a
// one-analysis glitch of the detector neither; and at 60 analyses a second
// a 30 ms glitch neither.
const (
	settleAnalyses = 2
	settleTime     = 100 * time.Millisecond
)

// zone is a zone's state.
type zone struct {
	cfg        Zone
	poly       []vec // in pixels
	occupancy  int
	entries    int
	maxOcc     int
	emptySince time.Duration // when the zone last became empty
	lastLeft   time.Duration // the latest anchor inside of a track that left
	visits     int           // finished visits, for the mean dwell
	dwellSum   time.Duration
}

// zoneTrack is one track's state in one zone.
type zoneTrack struct {
	inside     bool          // counted as inside
	streak     int           // consecutive analyses clearly on the other side
	streakFrom time.Duration // the first of them
	prev       time.Duration // the analysis before the streak, when there was one
	seen       bool          // prev is set
	latest     time.Duration // the latest analysis
	entered    time.Duration // when the visit began
	lastInside time.Duration // the latest analysis inside, while counted inside
}

func (z *zone) place(w, h int) {
	z.poly = z.poly[:0]
	for _, p := range z.cfg.Polygon {
		z.poly = append(z.poly, toVec(p, w, h))
	}
}

func (z *zone) watches(class string) bool { return watches(z.cfg.Classes, class) }

// observe updates track zt with its anchor at p (its box boxH pixels
// high) at now, and returns +1 if the track entered, −1 if it left, 0
// otherwise. A visit is timed from halfway between the last analysis
// outside and the first inside to halfway between the last inside and the
// first outside, so that its dwell is off by at most half an analysis
// interval at each end.
func (z *zone) observe(zt *zoneTrack, p vec, boxH float64, now time.Duration) int8 {
	in := inside(z.poly, p)
	defer func() { zt.latest, zt.seen = now, true }()
	if zt.inside && in {
		zt.lastInside = now
	}
	if in == zt.inside || edgeDistance(z.poly, p) < max(minMarginPx, marginOfHeight*boxH) {
		if in == zt.inside {
			zt.streak = 0
		}
		return 0 // on the side counted, or on the edge: undecided
	}
	if zt.streak == 0 {
		zt.streakFrom, zt.prev = now, zt.latest
		if !zt.seen {
			zt.prev = now
		}
	}
	if zt.streak++; zt.streak < settleAnalyses || now-zt.streakFrom < settleTime {
		return 0
	}
	zt.inside, zt.streak = in, 0
	if in {
		zt.entered, zt.lastInside = (zt.prev+zt.streakFrom)/2, now
		return 1
	}
	zt.lastInside = (zt.lastInside + zt.streakFrom) / 2
	return -1
}

// enter counts a track in and returns the event.
func (z *zone) enter(id int, class string, at event.At) *event.ZoneEnter {
	z.occupancy++
	z.entries++
	z.maxOcc = max(z.maxOcc, z.occupancy)
	return &event.ZoneEnter{Header: event.Header{Type: event.TypeZoneEnter}, At: at, Zone: z.cfg.Name,
		TrackID: id, Name: class, Occupancy: z.occupancy}
}

// exit counts a track out: one that left (observe returned −1), or one
// whose track ended inside, whose visit ends when it was last seen.
func (z *zone) exit(zt *zoneTrack, id int, class string, at event.At) *event.ZoneExit {
	dwell := zt.lastInside - zt.entered
	zt.inside, zt.streak = false, 0
	z.occupancy--
	z.lastLeft = max(z.lastLeft, zt.lastInside)
	if z.occupancy == 0 {
		z.emptySince = z.lastLeft // the zone emptied when the last one was last seen inside
	}
	z.visits++
	z.dwellSum += dwell
	return &event.ZoneExit{Header: event.Header{Type: event.TypeZoneExit}, At: at, Zone: z.cfg.Name,
		TrackID: id, Name: class, Occupancy: z.occupancy, DwellS: dwell.Seconds()}
}

// meanDwell is the mean of the finished visits.
func (z *zone) meanDwell() time.Duration {
	if z.visits == 0 {
		return 0
	}
	return z.dwellSum / time.Duration(z.visits)
}
