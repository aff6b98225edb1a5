// Package capture saves the frames worth labelling while a source plays:
// frames with a box near its class's threshold (where the model is unsure),
// frames on which the cloud and the local model disagree, frames the user
// marks, and a small random sample; each as a JPEG with a record of the
// predictions beside it (Record), within limits a minute and on disk.
//
// A Capture is a pipeline output (it copies the frames being analysed)
// and an event sink (it hears their results); a frame is decided once its
// results are in, and written by a goroutine of its own, so the pipeline
// never waits on the disk.
package capture

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/overlay"
)

// Clock tells the time; internal/clock has the real and the fake one.
type Clock interface{ Now() time.Time }

// Options say what is worth saving and how much. Zero values take the
// defaults; a negative Band, Sample or MinGap turns that off.
type Options struct {
	// Band: a box whose confidence is within Band of its class's
	// threshold makes the frame uncertain (default 0.1).
	Band float64
	// DisagreeIoU is the overlap a cloud box and a local box of the same
	// class need to count as the same object (default 0.5).
	DisagreeIoU float64
	// Sample is the share of analysed frames saved at random (default 0.01).
	Sample float64
	// PerMinute caps the frames saved a minute (default 10), MinGap spaces
	// them (default 3 s): consecutive frames are nearly the same picture.
	// Marked frames pass both, and count.
	PerMinute int
	MinGap    time.Duration
	// MaxBytes caps the folder's captures, those of earlier runs included
	// (default 2 GiB); past it nothing more is saved.
	MaxBytes int64
	// Quality is the JPEG quality (default 92).
	Quality int
	// Seed makes the random sample repeatable (0: a random seed).
	Seed uint64
	// Clock times the limits (clock.Real when nil). With VideoTime they
	// run on the frames' own timestamps instead, for files read faster
	// than they play.
	Clock     Clock
	VideoTime bool
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Band, 0.1)
	def(&o.DisagreeIoU, 0.5)
	def(&o.Sample, 0.01)
	if o.PerMinute <= 0 {
		o.PerMinute = 10
	}
	if o.MinGap == 0 {
		o.MinGap = 3 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 2 << 30
	}
	if o.Quality <= 0 || o.Quality > 100 {
		o.Quality = 92
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return o
}

// Stats say what a capture saved and what it left out.
type Stats struct {
	Saved    int            // frames saved by this Capture
	ByReason map[string]int // of those, how many for each reason
	Bytes    int64          // the folder's captures, earlier ones included
	// Limited frames were worth saving but came too soon (PerMinute,
	// MinGap); Full ones found MaxBytes reached; Dropped ones found the
	// writer still busy or their results lost.
	Limited, Full, Dropped int
	// Err is the failure that stopped the capture (a full disk).
	Err error
}

// maxPending bounds the frames kept while their results come.
const maxPending = 8

// pendingFor is how long a frame waits for its results at most.
const pendingFor = 30 * time.Second

// Capture saves frames worth labelling into a folder.
type Capture struct {
	dir  string
	opts Options
	pool mats.Pool

	mu       sync.Mutex
	rng      *rand.Rand
	filter   overlay.Filter
	marks    int
	pending  []*pending
	early    []result // results that came before their frame
	vocab    map[string]map[string]bool
	saves    []time.Time // when frames were saved, the last minute
	lastSave time.Time
	stats    Stats
	queued   int // frames handed to the writer and not yet written
	err      error
	reported bool // err has been returned to the pipeline
	closed   bool

	jobs chan *pending
	done chan struct{}
	// create opens a file for writing (tests make the disk fill up).
	create func(path string) (file, error)
}

// file is what the writer needs of an *os.File.
type file interface {
	Write([]byte) (int, error)
	Close() error
}

// New saves into dir, creating it; the captures already there count
// towards MaxBytes.
func New(dir string, opts Options) (*Capture, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	used, err := folderBytes(dir)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	opts = opts.withDefaults()
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	c := &Capture{dir: dir, opts: opts, rng: rand.New(rand.NewPCG(seed, seed>>1|1)),
		vocab: map[string]map[string]bool{}, jobs: make(chan *pending, 4), done: make(chan struct{}),
		create: func(path string) (file, error) { return os.Create(path) }}
	c.stats.Bytes, c.stats.ByReason = used, map[string]int{}
	go c.write()
	return c, nil
}

// folderBytes is the size of the captures in dir: the records and the
// frames they name.
func folderBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), SidecarExt) {
			continue
		}
		for _, name := range []string{e.Name(), strings.TrimSuffix(e.Name(), SidecarExt) + ImageExt} {
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
				n += st.Size()
			}
		}
	}
	return n, nil
}

// Dir is the folder the captures go to.
func (c *Capture) Dir() string { return c.dir }

// Mark asks for the next frame (the paused one, when paused) to be saved,
// whatever the limits a minute.
func (c *Capture) Mark() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marks = min(c.marks+1, maxPending)
}

// Stats reads the counters.
func (c *Capture) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.ByReason = make(map[string]int, len(c.stats.ByReason))
	for k, v := range c.stats.ByReason {
		st.ByReason[k] = v
	}
	st.Err = c.err
	return st
}

// pending is a frame kept until its results are in.
type pending struct {
	seq       int64
	pts       time.Duration
	at        time.Time
	mat       gocv.Mat
	filter    overlay.Filter
	marked    bool
	sampled   bool
	wantLocal bool
	wantCloud bool
	local     *analyzer.Analysis // nil until it came (or failed: done set)
	cloud     *analyzer.Analysis
	localDone bool
	cloudDone bool
	reasons   []string // why it is saved, once decided
}

// result is an analysis (or its failure) heard on the bus.
type result struct {
	seq   int64
	cloud bool
	data  *analyzer.Analysis // nil: the analysis failed
}

// WriteFrame keeps a copy of a frame worth deciding on: one being
// analysed while the limits allow a save, or one the user marked. It
// returns the error that stopped the capture, once.
func (c *Capture) WriteFrame(f *pipeline.Frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.closed {
		if c.err != nil && !c.reported {
			c.reported = true
			return c.err
		}
		return nil
	}
	c.filter = f.Filter
	now := c.now(f)
	c.expireLocked(f.Seq, now)
	marked := c.marks > 0
	analysed := !f.Repeat && (f.Offered.Local || f.Offered.Cloud)
	if !marked && (!analysed || c.roomLocked(now) != nil) {
		return nil
	}
	if marked {
		c.marks--
	}
	p := &pending{seq: f.Seq, pts: f.PTS, at: now, mat: c.pool.Copy(f.Clean), filter: f.Filter, marked: marked,
		wantLocal: analysed && f.Offered.Local, wantCloud: analysed && f.Offered.Cloud}
	p.sampled = p.wantLocal && c.opts.Sample > 0 && c.rng.Float64() < c.opts.Sample
	if !p.wantLocal && !p.wantCloud {
		// A marked frame no analysis is coming for (paused, or the
		// analyser busy) keeps what is drawn on it.
		p.local, p.localDone = f.View.Analysis, true
	}
	c.pending = append(c.pending, p)
	c.takeEarlyLocked(p)
	c.decideLocked(p, now)
	return nil
}

func (c *Capture) now(f *pipeline.Frame) time.Time {
	if c.opts.VideoTime {
		return time.Time{}.Add(f.PTS)
	}
	return c.opts.Clock.Now()
}

// expireLocked lets go of frames whose results will not come: kept too
// long, of a source that restarted (its sequence numbers went back), or
// more than maxPending.
func (c *Capture) expireLocked(seq int64, now time.Time) {
	keep := c.pending[:0]
	for i, p := range c.pending {
		if p.seq >= seq || now.Sub(p.at) > pendingFor || len(c.pending)-i > maxPending {
			c.stats.Dropped++
			c.pool.Put(p.mat)
			continue
		}
		keep = append(keep, p)
	}
	clear(c.pending[len(keep):])
	c.pending = keep
	if len(c.early) > 0 && c.early[len(c.early)-1].seq > seq {
		c.early = nil // of the source before
		if c.opts.VideoTime {
			c.saves, c.lastSave = nil, time.Time{} // its clock started again
		}
	}
}

// Publish hears the analyses (and their failures) of the frames kept.
func (c *Capture) Publish(e event.Event) {
	var r result
	var source string
	switch e := e.(type) {
	case *event.Analysis:
		r, source = result{seq: e.Frame, data: e.Data}, e.Source
	case *event.AnalysisError:
		r, source = result{seq: e.Frame}, e.Source
	default:
		return
	}
	r.cloud = source != analyzer.SourceLocal
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.learnLocked(r)
	matched := false
	for _, p := range slices.Clone(c.pending) {
		switch {
		case p.seq == r.seq:
			p.take(r)
			matched = true
		case p.seq < r.seq:
			// A backend's results come in frame order: this frame's
			// result from it was lost.
			p.take(result{seq: p.seq, cloud: r.cloud})
		default:
			continue
		}
		c.decideLocked(p, p.at)
	}
	if !matched {
		c.early = append(c.early, r)
		if len(c.early) > maxPending {
			c.early = c.early[1:]
		}
	}
}

// learnLocked notes the class names each side has used.
func (c *Capture) learnLocked(r result) {
	side := "local"
	if r.cloud {
		side = "cloud"
	}
	if c.vocab[side] == nil {
		c.vocab[side] = map[string]bool{}
	}
	for _, b := range boxes(r.data) {
		c.vocab[side][strings.ToLower(b.Name)] = true
	}
}

// take records a result, or a failure, of the backend that sent it.
func (p *pending) take(r result) {
	if r.cloud && p.wantCloud && !p.cloudDone {
		p.cloud, p.cloudDone = r.data, true
	}
	if !r.cloud && p.wantLocal && !p.localDone {
		p.local, p.localDone = r.data, true
	}
}

func (c *Capture) takeEarlyLocked(p *pending) {
	for _, r := range c.early {
		if r.seq == p.seq {
			p.take(r)
		}
	}
}

// decideLocked saves p once its results are in and a reason holds, and
// lets it go otherwise.
func (c *Capture) decideLocked(p *pending, now time.Time) {
	if (p.wantLocal && !p.localDone) || (p.wantCloud && !p.cloudDone) {
		return
	}
	c.pending = slices.DeleteFunc(c.pending, func(q *pending) bool { return q == p })
	p.reasons = c.reasonsLocked(p)
	if len(p.reasons) == 0 {
		c.pool.Put(p.mat)
		return
	}
	room := c.roomLocked(now)
	switch {
	case errors.Is(room, errFull):
		c.stats.Full++
	case room != nil && !p.marked:
		c.stats.Limited++
	default:
		c.saves = append(c.saves, now)
		c.lastSave = now
		select {
		case c.jobs <- p:
			c.queued++
			return
		default:
			c.stats.Dropped++
		}
	}
	c.pool.Put(p.mat)
}

// reasonsLocked says why p is worth saving, if it is.
func (c *Capture) reasonsLocked(p *pending) []string {
	var rs []string
	if p.marked {
		rs = append(rs, ReasonMarked)
	}
	own := p.primary()
	if own == nil {
		return rs // the analysis failed: nothing to start a review from
	}
	if c.opts.Band > 0 && uncertain(boxes(own), p.filter, c.opts.Band) {
		rs = append(rs, ReasonUncertain)
	}
	if p.local != nil && p.cloud != nil &&
		disagree(boxes(p.local), boxes(p.cloud), c.vocab["local"], c.vocab["cloud"], p.filter, c.opts.DisagreeIoU) {
		rs = append(rs, ReasonDisagreement)
	}
	if p.sampled {
		rs = append(rs, ReasonSample)
	}
	return rs
}

// primary is the frame's own analysis: the local one, else the cloud's.
func (p *pending) primary() *analyzer.Analysis {
	if p.local != nil {
		return p.local
	}
	return p.cloud
}

var (
	errFull    = errors.New("the capture folder reached its size limit")
	errTooSoon = errors.New("too soon after the last capture")
)

// roomLocked says whether a frame may be saved at now: nil, errFull or
// errTooSoon.
func (c *Capture) roomLocked(now time.Time) error {
	if c.stats.Bytes >= c.opts.MaxBytes {
		return errFull
	}
	old := 0
	for old < len(c.saves) && now.Sub(c.saves[old]) >= time.Minute {
		old++
	}
	c.saves = c.saves[old:]
	if len(c.saves) >= c.opts.PerMinute || (c.opts.MinGap > 0 && !c.lastSave.IsZero() && now.Sub(c.lastSave) < c.opts.MinGap) {
		return errTooSoon
	}
	return nil
}

// Close writes the frames already decided, lets go of the others, and
// returns the failure that stopped the capture if the pipeline has not
// been told of it.
func (c *Capture) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, p := range c.pending {
		c.pool.Put(p.mat)
	}
	c.pending = nil
	close(c.jobs)
	c.mu.Unlock()
	<-c.done
	c.pool.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil && !c.reported {
		c.reported = true
		return c.err
	}
	return nil
}
