package analyzer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/mats"
)

// Mode chooses the backends.
type Mode string

const (
	ModeLocal Mode = "local"
	ModeCloud Mode = "azure"
	// ModeAuto uses the cloud when configured, reachable and within budget,
	// and local models otherwise, with local boxes on every frame.
	ModeAuto Mode = "auto"
)

// Sources of results, as in the `source` field of events.
const (
	SourceLocal = "local"
	SourceCloud = "azure"
	SourceCache = "cache"
)

// boxFeatures are what local models refresh on every frame while the cloud
// is healthy; the cloud does the rest at its pace.
var boxFeatures = Features{FeatureObjects, FeaturePeople, FeatureFaces}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Local Analyzer // nil: no local backend
	Cloud Analyzer // nil: no cloud configured
	Mode  Mode
	// Features requested; Options are passed to both backends.
	Features Features
	Options  Options
	// LocalFPS limits local analyses a second (0: as fast as they go).
	LocalFPS float64
	// LocalWorkers is how many local analyses may run at once (default 1).
	// More than one only helps a backend that can run them in parallel
	// (local.Options.Detectors); results are still delivered in frame order.
	LocalWorkers int
	// CloudPerMinute and CloudPerDay budget cloud calls (defaults 20 and
	// unlimited); every call, retry and probe counts.
	CloudPerMinute float64
	CloudPerDay    int
	// CacheTTL is how long a cloud result answers for identical and
	// near-identical frames (default 60 s; negative disables the cache).
	CacheTTL time.Duration
	// WaitForLocal makes Offer wait for a busy local backend when a local
	// analysis is due, instead of skipping the frame: headless files then
	// analyse every frame (or every frame the fps limit allows), whatever
	// the machine's speed.
	WaitForLocal bool
	// Privacy, when set, blurs the faces it finds in every frame before the
	// frame goes to the cloud; a frame whose faces cannot be looked for is
	// not sent.
	Privacy FaceFinder
	// PricePer1000 is the cloud's price per 1,000 transactions, for the
	// cost estimate (default: S1 list price, 1.00 USD).
	PricePer1000 float64
	// ProbeMin and ProbeMax bound the backoff between probes of a failed
	// cloud (defaults 5 s and 5 min).
	ProbeMin, ProbeMax time.Duration
	Clock              Clock
	// OnResult receives every result (local, cloud and cache hits) and
	// OnBackend every switch of the active backend. They are called from
	// the scheduler's goroutines and must not block.
	OnResult  func(*Result)
	OnBackend func(backend, reason string)
}

// Merged is what the overlay draws: the newest result of each kind.
type Merged struct {
	*Analysis
	// Frame and Source are those of the newest result drawn; Age is its
	// age. CloudSource and CloudAge describe the newest cloud or cache
	// result, if any.
	Frame       int64
	Source      string
	Age         time.Duration
	CloudSource string
	CloudAge    time.Duration
	Active      string // the active backend
}

// BackendStats are one backend's meters.
type BackendStats struct {
	Calls      int64
	Errors     int64
	CacheHits  int64
	LatencyP50 time.Duration
	LatencyP95 time.Duration
}

// Stats are the scheduler's meters.
type Stats struct {
	FramesOffered  int64
	FramesAnalyzed int64 // frames that got at least one result
	Local, Cloud   BackendStats
	// CostUSD estimates what the cloud calls cost.
	CostUSD float64
	// CostPer1000 is the estimated cost of 1,000 analysed images with the
	// requested features.
	CostPer1000 float64
	Active      string
}

// HitRate is the share of cloud requests answered from the cache.
func (s Stats) HitRate() float64 {
	if n := s.Cloud.Calls + s.Cloud.CacheHits; n > 0 {
		return float64(s.Cloud.CacheHits) / float64(n)
	}
	return 0
}

// Scheduler decides, frame by frame, what to analyse where, and keeps the
// newest results to draw meanwhile. Offer is called from one goroutine.
type Scheduler struct {
	opts  SchedulerOptions
	ctx   context.Context
	clock Clock
	fp    *fingerprinter
	// frames recycles the copies analyses work on, so the steady state
	// allocates no pixels.
	frames mats.Pool

	mu           sync.Mutex
	cond         *sync.Cond
	mode         Mode
	active       string
	localRunning int
	// localPending are the local results not yet delivered, in frame
	// order: with several workers a later frame can finish first.
	localPending []*Result
	cloudBusy    bool
	lastLocal    time.Time
	nextCloud    time.Time // earliest next cloud check (cache lookups are paced too)
	budget       *Budget
	cache        Cache
	cloudDown    bool
	probe        clock.Backoff
	probes       int // failed probes in a row
	nextProbe    time.Time
	latestLocal  *Result
	latestCloud  *Result
	lastSeq      int64
	stats        Stats
	localLat     Meter
	cloudLat     Meter
	wg           sync.WaitGroup
}

// NewScheduler returns a scheduler; analyses stop when ctx ends.
func NewScheduler(ctx context.Context, o SchedulerOptions) *Scheduler {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.LocalWorkers <= 0 {
		o.LocalWorkers = 1
	}
	if o.CloudPerMinute == 0 {
		o.CloudPerMinute = 20
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = time.Minute
	}
	if o.PricePer1000 == 0 {
		o.PricePer1000 = 1.0
	}
	if o.ProbeMin == 0 {
		o.ProbeMin = 5 * time.Second
	}
	if o.ProbeMax == 0 {
		o.ProbeMax = 5 * time.Minute
	}
	if o.Mode == "" {
		o.Mode = ModeAuto
	}
	s := &Scheduler{opts: o, ctx: ctx, clock: o.Clock, fp: newFingerprinter(), lastSeq: -1,
		probe: clock.Backoff{Initial: o.ProbeMin, Max: o.ProbeMax, Jitter: 0.2}}
	s.cond = sync.NewCond(&s.mu)
	s.budget = NewBudget(o.CloudPerMinute, o.CloudPerDay)
	s.cache.TTL = o.CacheTTL
	s.setModeLocked(o.Mode, "start")
	return s
}

// SetMode switches between local, cloud and auto (the GUI's switch).
func (s *Scheduler) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setModeLocked(m, "chosen by the user")
}

func (s *Scheduler) setModeLocked(m Mode, why string) {
	s.mode = m
	switch {
	case m == ModeLocal || (m == ModeAuto && s.opts.Cloud == nil):
		reason := "local mode " + why
		if m == ModeAuto {
			reason = "auto: cloud not configured"
		}
		s.switchLocked(SourceLocal, reason)
	case m == ModeCloud && s.opts.Cloud == nil:
		s.switchLocked(SourceLocal, "cloud requested but not configured")
	default:
		s.cloudDown = false
		s.switchLocked(SourceCloud, map[Mode]string{ModeCloud: "cloud mode " + why, ModeAuto: "auto: cloud configured"}[m])
	}
}

func (s *Scheduler) switchLocked(backend, reason string) {
	if s.active == backend {
		return
	}
	s.active = backend
	s.stats.Active = backend
	if s.opts.OnBackend != nil {
		s.opts.OnBackend(backend, reason)
	}
}

// localFeatures and cloudFeatures route the requested features.
func (s *Scheduler) localFeatures() Features {
	if s.opts.Local == nil || s.mode == ModeCloud {
		return nil
	}
	var fs Features
	for _, f := range s.opts.Features {
		if !s.opts.Local.Supports(f) {
			continue
		}
		// While the cloud is active, local models only refresh the boxes.
		if s.active == SourceCloud && !boxFeatures.Has(f) {
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

func (s *Scheduler) cloudFeatures() Features {
	if s.opts.Cloud == nil || s.mode == ModeLocal {
		return nil
	}
	var fs Features
	for _, f := range s.opts.Features {
		if !s.opts.Cloud.Supports(f) {
			continue
		}
		if s.mode == ModeAuto && s.opts.Local != nil && boxFeatures.Has(f) && s.opts.Local.Supports(f) {
			continue // local boxes, every frame
		}
		fs = append(fs, f)
	}
	return fs
}

// sharedMat is one copy of a frame shared by the analyses that take it;
// the last to let go returns its pixels to the pool.
type sharedMat struct {
	m    gocv.Mat
	refs atomic.Int32
	pool *mats.Pool
}

func (s *Scheduler) copyOf(frame gocv.Mat) *sharedMat {
	sm := &sharedMat{m: s.frames.Copy(frame), pool: &s.frames}
	sm.refs.Add(1)
	return sm
}

func (sm *sharedMat) release() {
	if sm.refs.Add(-1) == 0 {
		sm.pool.Put(sm.m)
	}
}

// Offer gives the scheduler frame number seq, shown at pts. It starts the
// analyses that are due and returns at once, unless WaitForLocal makes it
// wait for the local backend. The frame stays the caller's.
func (s *Scheduler) Offer(seq int64, pts time.Duration, frame gocv.Mat) {
	if frame.Ptr() == nil || frame.Empty() || s.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.FramesOffered++
	now := s.clock.Now()
	var shared *sharedMat
	take := func() *sharedMat {
		if shared == nil {
			// Offer holds a reference of its own until it returns, so an
			// analysis that finishes at once cannot free the copy early.
			shared = s.copyOf(frame)
		}
		shared.refs.Add(1)
		return shared
	}
	analysed := false

	if lf := s.localFeatures(); len(lf) > 0 {
		minGap := time.Duration(0)
		if s.opts.LocalFPS > 0 {
			minGap = time.Duration(float64(time.Second) / s.opts.LocalFPS)
		}
		due := s.lastLocal.IsZero() || now.Sub(s.lastLocal) >= minGap
		for due && s.opts.WaitForLocal && s.localRunning >= s.opts.LocalWorkers && s.ctx.Err() == nil {
			s.cond.Wait()
		}
		if due && s.localRunning < s.opts.LocalWorkers {
			s.localRunning++
			s.lastLocal = now
			s.runLocal(seq, pts, take(), Request{Features: lf, Options: s.opts.Options})
			analysed = true
		}
	}

	if cf := s.cloudFeatures(); len(cf) > 0 && !s.cloudBusy && !now.Before(s.nextCloud) && s.budget.Ready(now) &&
		(!s.cloudDown || !now.Before(s.nextProbe)) {
		s.nextCloud = now.Add(s.budget.interval())
		fp := s.fp.of(frame)
		if cached, ok := s.cache.Lookup(&fp, now); ok && !s.cloudDown {
			s.stats.Cloud.CacheHits++
			r := &Result{Analysis: cached, Frame: seq, PTS: pts, Source: SourceCache, Finished: now}
			s.latestCloud = r
			analysed = true
			if s.opts.OnResult != nil {
				s.opts.OnResult(r)
			}
		} else {
			s.budget.Take(now)
			s.cloudBusy = true
			s.stats.Cloud.Calls++
			s.stats.CostUSD += float64(len(cf)) * s.opts.PricePer1000 / 1000
			var img *sharedMat
			if s.opts.Privacy != nil {
				// The cloud gets its own copy to blur: the local analysis
				// must still see the faces it is asked to find.
				img = s.copyOf(frame)
			} else {
				img = take()
			}
			s.runCloud(seq, pts, img, Request{Features: cf, Options: s.opts.Options}, fp)
			analysed = true
		}
	}
	if analysed && seq != s.lastSeq {
		s.stats.FramesAnalyzed++
		s.lastSeq = seq
	}
	if shared != nil {
		shared.release()
	}
}

// runLocal analyses img on a goroutine; results are recorded and delivered
// in the order their frames were offered.
func (s *Scheduler) runLocal(seq int64, pts time.Duration, img *sharedMat, req Request) {
	r := &Result{Frame: seq, PTS: pts, Source: SourceLocal}
	s.localPending = append(s.localPending, r)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.analyze(s.opts.Local, r, img, req)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.localRunning--
		s.cond.Broadcast()
		r.done = true
		for len(s.localPending) > 0 && s.localPending[0].done {
			s.deliverLocalLocked(s.localPending[0])
			s.localPending[0] = nil
			s.localPending = s.localPending[1:]
		}
	}()
}

func (s *Scheduler) deliverLocalLocked(r *Result) {
	s.stats.Local.Calls++
	if r.Err != nil {
		s.stats.Local.Errors++
	} else {
		s.localLat.Add(r.Latency)
		s.latestLocal = r
	}
	if s.opts.OnResult != nil {
		s.opts.OnResult(r)
	}
}

func (s *Scheduler) runCloud(seq int64, pts time.Duration, img *sharedMat, req Request, fp Fingerprint) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r := &Result{Frame: seq, PTS: pts, Source: SourceCloud}
		if s.opts.Privacy != nil {
			if _, err := BlurFaces(&img.m, s.opts.Privacy); err != nil {
				img.release()
				r.Err, r.Finished = err, s.clock.Now()
			}
		}
		if r.Err == nil { // not sent when its faces could not be looked for
			s.analyze(s.opts.Cloud, r, img, req)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cloudBusy = false
		now := s.clock.Now()
		if r.Err != nil {
			s.stats.Cloud.Errors++
			if t, ok := retryAfter(r.Err, now); ok {
				s.budget.Defer(t)
			}
			s.cloudFailedLocked(r.Err, now)
		} else {
			s.cloudLat.Add(r.Latency)
			s.latestCloud = r
			s.cache.Add(fp, r.Analysis, now)
			if s.cloudDown {
				s.cloudDown = false
				s.probes = 0
				if s.mode == ModeAuto {
					s.switchLocked(SourceCloud, "cloud answered again")
				}
			}
		}
		if s.opts.OnResult != nil {
			s.opts.OnResult(r)
		}
	}()
}

// cloudFailedLocked switches auto mode to local at once and schedules the
// next probe with capped exponential backoff and jitter.
func (s *Scheduler) cloudFailedLocked(err error, now time.Time) {
	s.nextProbe = now.Add(s.probe.Delay(s.probes))
	s.probes++
	s.cloudDown = true
	if s.mode == ModeAuto && s.opts.Local != nil {
		s.switchLocked(SourceLocal, "cloud failed: "+err.Error())
	}
}

// analyze runs one analysis into r, turning a panic into an error so that
// a crashing model never takes the pipeline down.
func (s *Scheduler) analyze(a Analyzer, r *Result, img *sharedMat, req Request) {
	defer img.release()
	r.Started = time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.Analysis, r.Err = nil, fmt.Errorf("%s analyzer crashed: %v", r.Source, p)
			}
		}()
		r.Analysis, r.Err = a.Analyze(s.ctx, Image{Mat: img.m}, req)
	}()
	r.Latency = time.Since(r.Started)
	r.Finished = s.clock.Now()
}

// retryAfter reads the wait a throttled service asked for (its
// Retry-After) from errors that carry one.
func retryAfter(err error, now time.Time) (time.Time, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return now.Add(ra.RetryAfter()), true
	}
	return time.Time{}, false
}

// Merged returns what to draw now: for each field, the newest result that
// has it. Cloud captions, tags and text stay while local boxes refresh.
func (s *Scheduler) Merged() *Merged {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	m := &Merged{Active: s.active}
	results := []*Result{s.latestLocal, s.latestCloud}
	if s.latestCloud != nil && s.latestLocal != nil && s.latestCloud.Finished.After(s.latestLocal.Finished) {
		results[0], results[1] = s.latestCloud, s.latestLocal
	}
	var a Analysis
	for _, r := range results { // newest first
		if r == nil || r.Analysis == nil {
			continue
		}
		if m.Analysis == nil {
			m.Analysis, m.Frame, m.Source, m.Age = &a, r.Frame, r.Source, now.Sub(r.Finished)
			a.Metadata, a.ModelVersion = r.Metadata, r.ModelVersion
		}
		a.fillFrom(r.Analysis)
	}
	if c := s.latestCloud; c != nil {
		m.CloudSource, m.CloudAge = c.Source, now.Sub(c.Finished)
	}
	return m
}

// Stats returns the meters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Local.LatencyP50, st.Local.LatencyP95 = s.localLat.Percentile(50), s.localLat.Percentile(95)
	st.Cloud.LatencyP50, st.Cloud.LatencyP95 = s.cloudLat.Percentile(50), s.cloudLat.Percentile(95)
	st.CostPer1000 = float64(len(s.opts.Features)) * s.opts.PricePer1000
	return st
}

// Wait blocks until every running analysis has finished.
func (s *Scheduler) Wait() { s.wg.Wait() }

// Close waits for the running analyses and frees the buffers.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
	s.fp.Close()
	s.frames.Close()
}
