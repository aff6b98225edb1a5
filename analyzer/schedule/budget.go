package schedule

import (
	"sync"
	"time"
)

// Budget paces cloud calls: evenly spaced at PerMinute a minute (no burst,
// not even at start: the first call may go at once, the next one 60/N s
// later) and at most PerDay in any calendar day. Every attempt, retry or
// probe takes a token. It is safe for concurrent use: the cameras of a run
// that call one Azure resource share one budget.
type Budget struct {
	PerMinute float64 // 0: unlimited
	PerDay    int     // 0: unlimited

	mu      sync.Mutex
	next    time.Time // earliest time of the next call
	day     time.Time // start of the day counted in used
	usedDay int
	// notBefore is set by a 429's Retry-After: nothing goes before it.
	notBefore time.Time
}

// NewBudget returns a budget of perMinute calls a minute and perDay a day.
func NewBudget(perMinute float64, perDay int) *Budget {
	return &Budget{PerMinute: perMinute, PerDay: perDay}
}

// Interval is the spacing of calls.
func (b *Budget) Interval() time.Duration {
	if b.PerMinute <= 0 {
		return 0
	}
	return time.Duration(float64(time.Minute) / b.PerMinute)
}

// Ready reports whether a call may go at now, without taking the token.
func (b *Budget) Ready(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readyLocked(now)
}

func (b *Budget) readyLocked(now time.Time) bool {
	if now.Before(b.next) || now.Before(b.notBefore) {
		return false
	}
	if b.PerDay > 0 && sameDay(b.day, now) && b.usedDay >= b.PerDay {
		return false
	}
	return true
}

// Take takes a token at now; it reports false, taking nothing, when the
// budget does not allow a call yet.
func (b *Budget) Take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.readyLocked(now) {
		return false
	}
	if !sameDay(b.day, now) {
		b.day, b.usedDay = startOfDay(now), 0
	}
	b.usedDay++
	b.next = now.Add(b.Interval())
	return true
}

// Spend records n more tokens used at now by a call already made, for what
// it turned out to cost beyond the token it took (a document analysis
// counts its pages): the calls after it wait n intervals longer, and the
// day counts them.
func (b *Budget) Spend(now time.Time, n int) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !sameDay(b.day, now) {
		b.day, b.usedDay = startOfDay(now), 0
	}
	b.usedDay += n
	b.next = maxTime(b.next, now).Add(time.Duration(n) * b.Interval())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Defer holds every call until t (a Retry-After).
func (b *Budget) Defer(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.notBefore) {
		b.notBefore = t
	}
}

// UsedToday is the number of calls taken today.
func (b *Budget) UsedToday(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !sameDay(b.day, now) {
		return 0
	}
	return b.usedDay
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func sameDay(a, b time.Time) bool { return !a.IsZero() && startOfDay(a).Equal(startOfDay(b)) }
