// Package mqtt publishes a run's events to the plant's MQTT broker (MQTT 5,
// QoS 1): every event as JSON on sightline/<camera>/events/<type>, line,
// zone and inspection counts retained on sightline/<camera>/counts, and
// online/offline retained on sightline/<camera>/status with offline as the
// last will. Nothing is lost while the broker is away: events wait in an
// ordered queue (memory, then a spool file that also outlives the process)
// and leave it only when the broker acknowledges them.
package mqtt

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/sightline/sightline/internal/event"
)

// Counters account for every event given to the sink:
// Sent + Restored = Delivered + Rejected + Dropped + Queued.
type Counters struct {
	Sent      int64 // events given to Publish
	Restored  int64 // events a previous run left in the spool, found at start
	Delivered int64 // acknowledged by the broker (PUBACK)
	Queued    int64 // waiting now, in memory or the spool, the one in flight included
	Spilled   int64 // written to the spool because memory was full (they may since have been delivered)
	Dropped   int64 // lost: the spool was full or could not be written
	Rejected  int64 // refused by the broker for good (PUBACK reason ≥ 0x80, e.g. not authorized)
	Retries   int64 // publishes tried again after a failure; each may repeat one the broker had
}

// Status is the connection's state for the app's status dot and the summary.
type Status struct {
	Connected bool
	LastError string // the latest error, also when since recovered; never holds credentials
	Counters
}

// Counts is the retained counts message: the run's totals so far, in the
// summary's shape.
type Counts struct {
	Lines       map[string]event.LineCount       `json:"lines,omitempty"`
	Zones       map[string]event.ZoneCount       `json:"zones,omitempty"`
	Inspections map[string]event.InspectionCount `json:"inspections,omitempty"`
}

// Status payloads.
const (
	Online  = "online"
	Offline = "offline"
)

// offlineTimeout bounds Close's last words (counts, offline, DISCONNECT)
// after the drain, which the caller's context bounds.
const offlineTimeout = 2 * time.Second

// Sink is an event.Sink publishing to one broker for one camera. Publish
// never waits for the network.
type Sink struct {
	cfg   Config
	base  string // sightline/<camera>
	cm    *autopaho.ConnectionManager
	stop  context.CancelFunc // ends the send and retained loops
	loops sync.WaitGroup

	wake       chan struct{} // something was queued
	up         chan struct{} // the connection came up
	countsWake chan struct{} // new counts

	mu       sync.Mutex
	q        *spool
	closed   bool
	progress chan struct{} // closed and replaced at each delivery
	n        Counters
	lastErr  string
	// The connection: conn is cancelled when it drops, which ends the
	// publishes waiting on it (paho would wait for its packet timeout);
	// upWait is closed while one is up.
	loopCtx    context.Context
	conn       context.Context
	dropConn   context.CancelFunc
	upWait     chan struct{}
	counts     []byte // the latest counts
	countsSent []byte // the last counts the broker acknowledged
}

// New starts connecting to the broker in the background (a broker that is
// down is retried until Close) and returns at once. Errors are about the
// configuration: the URL, the CA file, the spool.
func New(cfg Config) (*Sink, error) {
	if cfg.Camera == "" {
		return nil, errNoCamera
	}
	cfg = cfg.withDefaults()
	u, err := cfg.brokerURL()
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.tlsConfig(u)
	if err != nil {
		return nil, err
	}
	path, err := cfg.spoolPath()
	if err != nil {
		return nil, err
	}
	q, err := openSpool(path, cfg.MemoryBytes, cfg.SpoolBytes)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg: cfg, base: "sightline/" + topicLevel(cfg.Camera), q: q,
		wake: make(chan struct{}, 1), up: make(chan struct{}, 1), countsWake: make(chan struct{}, 1),
		progress: make(chan struct{}), upWait: make(chan struct{}),
	}
	s.n.Restored = int64(q.restored)
	s.loopCtx, s.stop = context.WithCancel(context.Background())
	s.cm, err = autopaho.NewConnection(context.Background(), s.clientConfig(u, tlsCfg))
	if err != nil {
		s.stop()
		_ = q.close()
		return nil, fmt.Errorf("mqtt: %s", cfg.scrub(err))
	}
	s.loops.Add(2)
	go s.sendLoop(s.loopCtx)
	go s.retainedLoop(s.loopCtx)
	return s, nil
}

func (s *Sink) clientConfig(u *url.URL, tlsCfg *tls.Config) autopaho.ClientConfig {
	cfg := s.cfg.connection(u, tlsCfg)
	// The sink's own queue makes delivery survive a broker that lost its
	// sessions, so no broker session is kept.
	cfg.CleanStartOnInitialConnection = true
	cfg.WillMessage = &paho.WillMessage{Topic: s.base + "/status", Payload: []byte(Offline), QoS: 1, Retain: true}
	cfg.OnConnectionUp = func(*autopaho.ConnectionManager, *paho.Connack) { s.connectionUp() }
	cfg.OnConnectionDown = func() bool {
		s.connectionDown()
		return true // keep reconnecting until Close
	}
	cfg.OnConnectError = func(err error) { s.recordErr(refusal(err)) }
	cfg.OnClientError = func(err error) { s.recordErr(fmt.Errorf("connection to the MQTT broker lost: %w", err)) }
	return cfg
}

// Publish queues e for the broker. It never waits for the network; a full
// spool drops the event and counts it.
func (s *Sink) Publish(e event.Event) {
	payload, err := marshal(e)
	topic := s.eventTopic(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n.Sent++
	if err != nil || s.closed {
		s.n.Dropped++
		if err != nil {
			s.lastErr = s.cfg.scrub(err)
		}
		return
	}
	where, err := s.q.push(record{topic: topic, payload: payload})
	switch where {
	case spilled:
		s.n.Spilled++
	case dropped:
		s.n.Dropped++
	}
	if err != nil {
		s.lastErr = s.cfg.scrub(err)
	}
	signal(s.wake)
}

// PublishCounts sets the retained counts. Call it as often as counts change
// (every frame is fine): the broker gets the latest, at most once every
// CountsEvery, and again after a reconnect.
func (s *Sink) PublishCounts(c Counts) {
	b, err := json.Marshal(c)
	if err != nil {
		return // maps of plain structs always marshal
	}
	s.mu.Lock()
	s.counts = b
	s.mu.Unlock()
	signal(s.countsWake)
}

// Counters is a snapshot of the delivery counters.
func (s *Sink) Counters() Counters { return s.Status().Counters }

// Status is the connection's state and the counters.
func (s *Sink) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.n
	c.Queued = int64(s.q.len())
	return Status{Connected: s.conn != nil, LastError: s.lastErr, Counters: c}
}

// Close stops taking events, waits until the queue is delivered or ctx ends,
// saves what is left in the spool for the next run, publishes the last
// counts and `offline`, and disconnects (those last steps take at most a
// further two seconds). The error is the spool's: what could not be saved.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.drain(ctx)
	s.stop()
	s.loops.Wait()

	s.mu.Lock()
	err := s.q.close()
	counts := s.unsentCounts()
	s.mu.Unlock()

	last, cancel := context.WithTimeout(context.Background(), offlineTimeout)
	defer cancel()
	if counts != nil {
		_ = s.publishRetained(last, "/counts", counts)
	}
	_ = s.publishRetained(last, "/status", []byte(Offline))
	_ = s.cm.Disconnect(last)
	return err
}

// drain waits until every queued event is delivered or ctx ends.
func (s *Sink) drain(ctx context.Context) {
	for {
		s.mu.Lock()
		n, progress := s.q.len(), s.progress
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return
		}
	}
}

// sendLoop publishes the queue's head until the broker acknowledges it, one
// at a time, so events arrive in order across reconnects.
func (s *Sink) sendLoop(ctx context.Context) {
	defer s.loops.Done()
	failures := 0
	for {
		r, ok := s.next(ctx)
		if !ok {
			return
		}
		conn, ok := s.awaitConnection(ctx)
		if !ok {
			return
		}
		resp, err := s.cm.Publish(conn, &paho.Publish{QoS: 1, Topic: r.topic, Payload: r.payload})
		switch {
		case err == nil:
			s.done(&s.n.Delivered, nil)
			failures = 0
		case ctx.Err() != nil:
			return // closing: the event stays queued and is saved
		case refused(resp, err):
			s.done(&s.n.Rejected, err)
		default:
			s.retry(err)
			if !s.sleep(ctx, s.cfg.Backoff.Delay(failures)) {
				return
			}
			failures++
		}
	}
}

// next waits for the queue's head.
func (s *Sink) next(ctx context.Context) (record, bool) {
	for {
		s.mu.Lock()
		r, ok, err := s.q.head()
		if err != nil {
			s.lastErr = s.cfg.scrub(err)
		}
		s.mu.Unlock()
		if ok {
			return r, true
		}
		wait := s.wake
		if err != nil {
			// A spool that cannot be read now may be readable later (a
			// full disk while saving the offset): try again shortly.
			if !s.sleep(ctx, s.cfg.Backoff.Delay(0)) {
				return record{}, false
			}
			continue
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return record{}, false
		}
	}
}

// done removes the head, delivered or refused, and counts it.
func (s *Sink) done(counter *int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q.pop()
	*counter++
	if err != nil {
		s.lastErr = s.cfg.scrub(err)
	}
	close(s.progress)
	s.progress = make(chan struct{})
}

func (s *Sink) retry(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n.Retries++
	s.noteErr(err)
}

// noteErr keeps err as the latest error; the caller holds s.mu. "Currently
// down" says less than why the connection failed, which the connection
// manager reported: that one is kept instead.
func (s *Sink) noteErr(err error) {
	if !errors.Is(err, autopaho.ConnectionDownError) || s.lastErr == "" {
		s.lastErr = s.cfg.scrub(err)
	}
}

// refused tells a broker's final no (not authorized, a bad topic, too
// large) from failures worth retrying (the connection, a timeout, a quota).
func refused(resp *paho.PublishResponse, err error) bool {
	if errors.Is(err, paho.ErrInvalidArguments) {
		return true
	}
	const quotaExceeded = 0x97
	return resp != nil && resp.ReasonCode >= 0x80 && resp.ReasonCode != quotaExceeded
}

// sleep waits d on the sink's clock; false when ctx ended first.
func (s *Sink) sleep(ctx context.Context, d time.Duration) bool {
	c, stop := s.cfg.Clock.NewTimer(d)
	defer stop()
	select {
	case <-c:
		return true
	case <-ctx.Done():
		return false
	}
}

// retainedLoop keeps the retained status and counts current: online at
// every connection, counts when they change, spaced by CountsEvery.
func (s *Sink) retainedLoop(ctx context.Context) {
	defer s.loops.Done()
	var limit <-chan time.Time
	stop := func() bool { return false }
	defer func() { stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.up:
			if conn, ok := s.connection(); ok {
				_ = s.publishRetained(conn, "/status", []byte(Online))
			}
			s.mu.Lock()
			s.countsSent = nil // a restarted broker may have lost them
			s.mu.Unlock()
		case <-s.countsWake:
		case <-limit:
			limit = nil
		}
		if limit != nil {
			continue
		}
		s.mu.Lock()
		counts := s.unsentCounts()
		s.mu.Unlock()
		conn, ok := s.connection()
		if counts == nil || !ok {
			continue // sent when the connection comes up
		}
		if s.publishRetained(conn, "/counts", counts) == nil {
			s.mu.Lock()
			s.countsSent = counts
			s.mu.Unlock()
		}
		limit, stop = s.cfg.Clock.NewTimer(s.cfg.CountsEvery)
	}
}

// unsentCounts is the latest counts if the broker does not have them yet.
// The caller holds s.mu.
func (s *Sink) unsentCounts() []byte {
	if s.counts == nil || bytes.Equal(s.counts, s.countsSent) {
		return nil
	}
	return s.counts
}

// publishRetained publishes a retained message on base+suffix and waits
// for its PUBACK.
func (s *Sink) publishRetained(ctx context.Context, suffix string, payload []byte) error {
	_, err := s.cm.Publish(ctx, &paho.Publish{QoS: 1, Retain: true, Topic: s.base + suffix, Payload: payload})
	if err != nil && ctx.Err() == nil {
		s.recordErr(err)
	}
	return err
}

func (s *Sink) connectionUp() {
	s.mu.Lock()
	if s.conn == nil {
		close(s.upWait)
	} else {
		s.dropConn() // up twice without a down between: the old one is gone
	}
	s.conn, s.dropConn = context.WithCancel(s.loopCtx)
	s.mu.Unlock()
	signal(s.up)
}

func (s *Sink) connectionDown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return
	}
	s.dropConn()
	s.conn, s.dropConn = nil, nil
	s.upWait = make(chan struct{})
}

// connection is the live connection's context, if one is up.
func (s *Sink) connection() (context.Context, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn, s.conn != nil
}

// awaitConnection waits for a connection; false when ctx ended first.
func (s *Sink) awaitConnection(ctx context.Context) (context.Context, bool) {
	for {
		s.mu.Lock()
		conn, wait := s.conn, s.upWait
		s.mu.Unlock()
		if conn != nil {
			return conn, true
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (s *Sink) recordErr(err error) {
	s.mu.Lock()
	s.noteErr(err)
	s.mu.Unlock()
}

// refusal says in words why the broker refused a connection; other
// errors (TLS, the network) already do.
func refusal(err error) error {
	var ce *autopaho.ConnackError
	if !errors.As(err, &ce) {
		return err
	}
	reason, _, _ := strings.Cut((&packets.Connack{ReasonCode: ce.ReasonCode}).Reason(), " - ")
	msg := fmt.Sprintf("the MQTT broker refused the connection: %s (reason %d)", reason, ce.ReasonCode)
	if ce.Reason != "" {
		msg += ": " + ce.Reason
	}
	if ce.ReasonCode == packets.ConnackBadUsernameOrPassword || ce.ReasonCode == packets.ConnackNotAuthorized {
		msg += "; check " + EnvUsername + " and " + EnvPassword
	}
	return errors.New(msg)
}

// eventTopic is sightline/<camera>/events/<type>; an event that names its
// camera (multi-camera runs) goes under that camera.
func (s *Sink) eventTopic(e event.Event) string {
	h := e.Head()
	base := s.base
	if h.Camera != "" {
		base = "sightline/" + topicLevel(h.Camera)
	}
	return base + "/events/" + topicLevel(h.Type)
}

// marshal encodes e as `run --events` does (no HTML escaping), without the
// trailing newline.
func marshal(e event.Event) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encoding a %s event: %w", e.Head().Type, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// signal wakes a loop without waiting: one pending wake is enough.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
