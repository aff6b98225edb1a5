// Package schedule decides, frame by frame, what to analyse where: local
// models on the newest frame, the cloud within its budget, a cache of cloud
// results for scenes that did not change, and auto mode's fall-back to local
// when the cloud fails. Results are delivered in order, outside its lock.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/internal/meter"
	"github.com/sightline/sightline/internal/stages"
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

// ParseMode reads a backend name as the command line and the settings
// write it.
func ParseMode(name string) (Mode, error) {
	switch m := Mode(name); m {
	case ModeLocal, ModeCloud, ModeAuto:
		return m, nil
	}
	return "", fmt.Errorf("unknown backend %q (local, azure or auto)", name)
}

// boxFeatures are what local models refresh on every frame while the cloud
// is healthy; the cloud does the rest at its pace.
var boxFeatures = analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureFaces}

// Options configure a Scheduler.
type Options struct {
	Local analyzer.Analyzer // nil: no local backend
	// Cloud is nil when no cloud is configured. With privacy on, it is
	// wrapped in analyzer.WithPrivacy: the one place faces are blurred.
	Cloud analyzer.Analyzer
	Mode  Mode
	// Features requested; Options are passed to both backends.
	Features analyzer.Features
	Options  analyzer.Options
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
	// Budget, when set, is shared with other schedulers calling the same
	// resource (the cameras of a run) and replaces CloudPerMinute and
	// CloudPerDay.
	Budget *Budget
	// CacheTTL is how long a cloud result answers for identical and
	// near-identical frames (default 60 s; negative disables the cache).
	CacheTTL time.Duration
	// WaitForLocal makes Offer wait for a busy local backend when a local
	// analysis is due, instead of skipping the frame: headless files then
	// analyse every frame (or every frame the fps limit allows), whatever
	// the machine's speed.
	WaitForLocal bool
	// PricePer1000 is the cloud's price per 1,000 transactions, for the
	// cost estimate (default: S1 list price, 1.00 USD).
	PricePer1000 float64
	// ProbeMin and ProbeMax bound the backoff between probes of a failed
	// cloud (defaults 5 s and 5 min).
	ProbeMin, ProbeMax time.Duration
	// Clock paces the budget, the cache and the probes. Latencies are
	// measured on the wall clock whatever it is.
	Clock Clock
	// OnResult receives every result (local, cloud and cache hits) and
	// OnBackend every switch of the active backend, in the order they
	// happened, on one goroutine of the scheduler's, never under its lock:
	// they may take their time (Offer does not wait for them) and may call
	// the scheduler.
	OnResult  func(*analyzer.Result)
	OnBackend func(backend, reason string)
}

// Frame is a frame offered for analysis. Epoch says which opening of which
// source it is from; it comes back on the frame's results so that a caller
// that switched sources can drop the ones still in flight. The Mat stays
// the caller's: the scheduler copies what it keeps, unless the caller
// lends it.
type Frame struct {
	Seq   int64
	PTS   time.Duration
	Mat   gocv.Mat
	Epoch int64
	// Full, when set, is the size of the picture Mat was scaled down from;
	// the analyzers get it with the Mat (analyzer.Image.Full).
	Full image.Point
	// Lend, when set, lends Mat instead of the scheduler copying it: the
	// scheduler calls it once for the analyses it starts on the frame and
	// calls what it returns when the last of them is done. The caller
	// frees the pixels only after that, and nobody changes them meanwhile.
	Lend func() (giveBack func())
}

// BackendStats are one backend's meters.
type BackendStats struct {
	Calls      int64 // requests made (for the cloud: every attempt the budget paid for)
	Errors     int64
	CacheHits  int64
	LatencyP50 time.Duration
	LatencyP95 time.Duration
	// LastError is the newest failure, LastErrorAt when it happened;
	// cleared by the next success.
	LastError   error
	LastErrorAt time.Time
}

// Stats are the scheduler's meters.
type Stats struct {
	FramesOffered  int64
	FramesAnalyzed int64 // frames that got at least one result
	Local, Cloud   BackendStats
	// CostUSD estimates what the cloud calls the service answered cost
	// (a call that never reached it, or that it refused, is not billed).
	CostUSD float64
	// CostPer1000 is the estimated cost of 1,000 analysed images with the
	// requested features.
	CostPer1000 float64
	Active      string
	// CloudDown is set while the cloud is failing and being probed.
	CloudDown bool
}

// HitRate is the share of cloud requests answered from the cache.
func (s Stats) HitRate() float64 {
	if n := s.Cloud.Calls + s.Cloud.CacheHits; n > 0 {
		return float64(s.Cloud.CacheHits) / float64(n)
	}
	return 0
}

// Scheduler decides, frame by frame, what to analyse where. Offer is
// called from one goroutine.
type Scheduler struct {
	opts  Options
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
	localPending []*pending
	cloudBusy    bool
	lastLocal    time.Time
	nextCloud    time.Time // earliest next cloud check (cache lookups are paced too)
	budget       *Budget
	cache        Cache
	cloudDown    bool
	probe        clock.Backoff
	probes       int // failed probes in a row
	nextProbe    time.Time
	lastSeq      int64
	stats        Stats
	localLat     meter.Meter
	cloudLat     meter.Meter
	// running counts analyses until their result is delivered, and
	// backend switches until they are.
	running sync.WaitGroup
	// outbox holds what is to be delivered, in order; the deliverer
	// goroutine hands it to OnResult and OnBackend outside the lock.
	outbox    []delivery
	delivered chan struct{} // closed when the deliverer stops
	closed    bool
}

// delivery is a result or a backend switch waiting to be reported.
type delivery struct {
	result          *analyzer.Result
	backend, reason string
}

// pending is a local analysis in flight, in frame order.
type pending struct {
	r    *analyzer.Result
	done bool
}

// New returns a scheduler; analyses stop when ctx ends.
func New(ctx context.Context, o Options) *Scheduler {
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
		probe:     clock.Backoff{Initial: o.ProbeMin, Max: o.ProbeMax, Jitter: 0.2},
		delivered: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	s.budget = o.Budget
	if s.budget == nil {
		s.budget = NewBudget(o.CloudPerMinute, o.CloudPerDay)
	}
	s.cache.TTL = o.CacheTTL
	s.setModeLocked(o.Mode, "start")
	go s.deliver()
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
		s.switchLocked(analyzer.SourceLocal, reason)
	case m == ModeCloud && s.opts.Cloud == nil:
		s.switchLocked(analyzer.SourceLocal, "cloud requested but not configured")
	default:
		s.cloudDown = false
		s.switchLocked(analyzer.SourceCloud, map[Mode]string{ModeCloud: "cloud mode " + why, ModeAuto: "auto: cloud configured"}[m])
	}
}

func (s *Scheduler) switchLocked(backend, reason string) {
	if s.active == backend {
		return
	}
	s.active = backend
	s.stats.Active = backend
	s.running.Add(1)
	s.postLocked(delivery{backend: backend, reason: reason})
}

// postLocked queues d for the deliverer.
func (s *Scheduler) postLocked(d delivery) {
	s.outbox = append(s.outbox, d)
	s.cond.Broadcast()
}

// deliver hands results and switches to the callbacks in order, outside
// the lock, until Close.
func (s *Scheduler) deliver() {
	defer close(s.delivered)
	for {
		s.mu.Lock()
		for len(s.outbox) == 0 && !s.closed {
			s.cond.Wait()
		}
		batch := s.outbox
		s.outbox = nil
		closed := s.closed
		s.mu.Unlock()
		for _, d := range batch {
			switch {
			case d.result == nil && s.opts.OnBackend != nil:
				s.opts.OnBackend(d.backend, d.reason)
			case d.result != nil && s.opts.OnResult != nil:
				s.opts.OnResult(d.result)
			}
			s.running.Done()
		}
		if closed && len(batch) == 0 {
			return
		}
	}
}

// localFeatures and cloudFeatures route the requested features.
func (s *Scheduler) localFeatures() analyzer.Features {
	if s.opts.Local == nil || s.mode == ModeCloud {
		return nil
	}
	var fs analyzer.Features
	for _, f := range s.opts.Features {
		if !s.opts.Local.Supports(f) {
			continue
		}
		// While the cloud is active, local models only refresh the boxes.
		if s.active == analyzer.SourceCloud && !boxFeatures.Has(f) {
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

func (s *Scheduler) cloudFeatures() analyzer.Features {
	if s.opts.Cloud == nil || s.mode == ModeLocal {
		return nil
	}
	var fs analyzer.Features
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

// sharedMat is a frame's pixels shared by the analyses that take them: a
// copy, whose last user returns it to the pool, or the caller's own,
// lent, which the last user gives back.
type sharedMat struct {
	m        gocv.Mat
	full     image.Point
	refs     atomic.Int32
	pool     *mats.Pool
	giveBack func() // lent pixels: nil for a copy
}

// share takes f's pixels for analyses: borrowed when f lends them, else
// copied into the pool.
func (s *Scheduler) share(f Frame) *sharedMat {
	sm := &sharedMat{m: f.Mat, full: f.Full}
	if f.Lend != nil {
		sm.giveBack = f.Lend()
	} else {
		span := stages.Begin()
		sm.m, sm.pool = s.frames.Copy(f.Mat), &s.frames
		span.End(stages.Copy)
	}
	sm.refs.Add(1)
	return sm
}

func (sm *sharedMat) release() {
	if sm.refs.Add(-1) != 0 {
		return
	}
	if sm.giveBack != nil {
		sm.giveBack()
	} else {
		sm.pool.Put(sm.m)
	}
}

// Offered says which backends took a frame: Local when a local analysis
// started, Cloud when a cloud call started or the cache answered. Each
// such frame gets a result or an error from that backend.
type Offered struct{ Local, Cloud bool }

// Offer gives the scheduler a frame. It starts the analyses that are due
// and returns at once, unless WaitForLocal makes it wait for the local
// backend. The frame's Mat stays the caller's.
func (s *Scheduler) Offer(f Frame) (o Offered) {
	if f.Mat.Ptr() == nil || f.Mat.Empty() || s.ctx.Err() != nil {
		return o
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return o
	}
	s.stats.FramesOffered++
	now := s.clock.Now()
	var shared *sharedMat
	take := func() *sharedMat {
		if shared == nil {
			// Offer holds a reference of its own until it returns, so an
			// analysis that finishes at once cannot let the pixels go early.
			shared = s.share(f)
		}
		shared.refs.Add(1)
		return shared
	}
	local := s.offerLocalLocked(f, now, take)
	cloud := s.offerCloudLocked(f, now, take)
	if (local || cloud) && f.Seq != s.lastSeq {
		s.stats.FramesAnalyzed++
		s.lastSeq = f.Seq
	}
	if shared != nil {
		shared.release()
	}
	return Offered{Local: local, Cloud: cloud}
}

// offerLocalLocked starts a local analysis of f when one is due and a
// worker is free (waiting for one with WaitForLocal).
func (s *Scheduler) offerLocalLocked(f Frame, now time.Time, take func() *sharedMat) bool {
	lf := s.localFeatures()
	if len(lf) == 0 {
		return false
	}
	minGap := time.Duration(0)
	if s.opts.LocalFPS > 0 {
		minGap = time.Duration(float64(time.Second) / s.opts.LocalFPS)
	}
	if !s.lastLocal.IsZero() && now.Sub(s.lastLocal) < minGap {
		return false
	}
	for s.opts.WaitForLocal && s.localRunning >= s.opts.LocalWorkers && s.ctx.Err() == nil && !s.closed {
		s.cond.Wait()
	}
	if s.localRunning >= s.opts.LocalWorkers || s.closed {
		return false
	}
	s.localRunning++
	s.lastLocal = now
	s.runLocal(f, take(), analyzer.Request{Features: lf, Options: s.opts.Options})
	return true
}

// offerCloudLocked answers f from the cache or sends it to the cloud, when
// the cloud's turn has come and the budget allows.
func (s *Scheduler) offerCloudLocked(f Frame, now time.Time, take func() *sharedMat) bool {
	cf := s.cloudFeatures()
	if len(cf) == 0 || s.cloudBusy || now.Before(s.nextCloud) || !s.budget.Ready(now) ||
		(s.cloudDown && now.Before(s.nextProbe)) {
		return false
	}
	s.nextCloud = now.Add(s.budget.Interval())
	fp := s.fp.of(f.Mat)
	if cached, ok := s.cache.Lookup(&fp, now); ok && !s.cloudDown {
		s.stats.Cloud.CacheHits++
		s.running.Add(1)
		s.postLocked(delivery{result: &analyzer.Result{Analysis: cached, Frame: f.Seq, PTS: f.PTS,
			Epoch: f.Epoch, Source: analyzer.SourceCache, Started: now, Finished: now}})
		return true
	}
	if !s.budget.Take(now) { // another camera took the turn
		return false
	}
	s.cloudBusy = true
	s.stats.Cloud.Calls++
	s.runCloud(f, take(), analyzer.Request{Features: cf, Options: s.opts.Options}, fp)
	return true
}

// runLocal analyses img on a goroutine; results are delivered in the
// order their frames were offered.
func (s *Scheduler) runLocal(f Frame, img *sharedMat, req analyzer.Request) {
	p := &pending{r: &analyzer.Result{Frame: f.Seq, PTS: f.PTS, Epoch: f.Epoch, Source: analyzer.SourceLocal}}
	s.localPending = append(s.localPending, p)
	s.running.Add(1)
	go func() {
		s.analyze(s.opts.Local, p.r, img, req)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.localRunning--
		s.cond.Broadcast()
		p.done = true
		for len(s.localPending) > 0 && s.localPending[0].done {
			s.finishLocalLocked(s.localPending[0].r)
			s.localPending[0] = nil
			s.localPending = s.localPending[1:]
		}
	}()
}

func (s *Scheduler) finishLocalLocked(r *analyzer.Result) {
	s.stats.Local.Calls++
	if r.Err != nil {
		s.stats.Local.Errors++
		s.stats.Local.LastError, s.stats.Local.LastErrorAt = r.Err, r.Finished
	} else {
		s.localLat.Add(r.Latency)
		s.stats.Local.LastError = nil
	}
	s.postLocked(delivery{result: r})
}

func (s *Scheduler) runCloud(f Frame, img *sharedMat, req analyzer.Request, fp Fingerprint) {
	s.running.Add(1)
	go func() {
		r := &analyzer.Result{Frame: f.Seq, PTS: f.PTS, Epoch: f.Epoch, Source: analyzer.SourceCloud}
		s.analyze(s.opts.Cloud, r, img, req)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cloudBusy = false
		now := s.clock.Now()
		if r.Err != nil {
			s.stats.Cloud.Errors++
			s.stats.Cloud.LastError, s.stats.Cloud.LastErrorAt = r.Err, now
			if t, ok := RetryAfter(r.Err, now); ok {
				s.budget.Defer(t)
			}
			s.cloudFailedLocked(r.Err, now)
		} else {
			s.stats.CostUSD += float64(len(req.Features)) * s.opts.PricePer1000 / 1000
			s.stats.Cloud.LastError = nil
			s.cloudLat.Add(r.Latency)
			s.cache.Add(fp, r.Analysis, now)
			if s.cloudDown {
				s.cloudDown = false
				s.probes = 0
				if s.mode == ModeAuto {
					s.switchLocked(analyzer.SourceCloud, "cloud answered again")
				}
			}
		}
		s.postLocked(delivery{result: r})
	}()
}

// cloudFailedLocked switches auto mode to local at once and schedules the
// next probe with capped exponential backoff and jitter.
func (s *Scheduler) cloudFailedLocked(err error, now time.Time) {
	s.nextProbe = now.Add(s.probe.Delay(s.probes))
	s.probes++
	s.cloudDown = true
	if s.mode == ModeAuto && s.opts.Local != nil {
		s.switchLocked(analyzer.SourceLocal, "cloud failed: "+err.Error())
	}
}

// analyze runs one analysis into r, turning a panic into an error so that
// a crashing model never takes the pipeline down.
func (s *Scheduler) analyze(a analyzer.Analyzer, r *analyzer.Result, img *sharedMat, req analyzer.Request) {
	defer img.release()
	r.Started = time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.Analysis, r.Err = nil, fmt.Errorf("%s analyzer crashed: %v", r.Source, p)
			}
		}()
		r.Analysis, r.Err = a.Analyze(s.ctx, analyzer.Image{Mat: img.m, Full: img.full}, req)
	}()
	r.Latency = time.Since(r.Started)
	r.Finished = s.clock.Now()
}

// RetryAfter reads the wait a throttled service asked for (its
// Retry-After) from errors that carry one.
func RetryAfter(err error, now time.Time) (time.Time, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return now.Add(ra.RetryAfter()), true
	}
	return time.Time{}, false
}

// Stats returns the meters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.CloudDown = s.cloudDown
	st.Local.LatencyP50, st.Local.LatencyP95 = s.localLat.Percentile(50), s.localLat.Percentile(95)
	st.Cloud.LatencyP50, st.Cloud.LatencyP95 = s.cloudLat.Percentile(50), s.cloudLat.Percentile(95)
	st.CostPer1000 = float64(len(s.opts.Features)) * s.opts.PricePer1000
	return st
}

// Wait blocks until every analysis started so far has finished and its
// result has been delivered, and every switch so far has been told.
func (s *Scheduler) Wait() { s.running.Wait() }

// Close waits for the running analyses and their delivery, then stops the
// deliverer and frees the buffers. Offer does nothing after Close.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.cond.Broadcast() // an Offer waiting for a worker gives up
	s.mu.Unlock()
	s.running.Wait()
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	<-s.delivered
	s.fp.Close()
	s.frames.Close()
}

// Active is the backend in charge now: "local" or "azure".
func (s *Scheduler) Active() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// SetLocalFPS changes how many local analyses a second may start at most
// (0: as many as the backend manages).
func (s *Scheduler) SetLocalFPS(v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.LocalFPS = v
}
