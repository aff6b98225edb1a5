package video

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/mats"
)

// conn is one connection of a live source: it decodes pictures until it
// fails, and close ends it.
type conn interface {
	info() Info
	read() (m gocv.Mat, pts time.Duration, err error)
	close()
}

// dialer opens a connection. ctx is the connection's lifetime; deadline
// bounds the opening.
type dialer func(ctx context.Context, deadline time.Time, pool *mats.Pool, dmg *damage) (conn, error)

// permanentError marks an opening failure that retrying cannot fix (a
// webcam device that does not exist).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// ErrClosed is returned by Next once the source is closed.
var ErrClosed = errors.New("source closed")

// liveSource reads a webcam or a network stream on its own goroutine, which
// never waits for the consumer: a new picture replaces the one the consumer
// has not taken yet (counted as dropped), so the consumer always gets the
// newest. A lost connection is reopened with backoff until Close.
type liveSource struct {
	uri    string
	opts   Options
	dial   dialer
	pool   *mats.Pool
	dmg    damage
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{} // the reader ended: closed, or failed to open
	ready  chan struct{} // a frame is in the slot (capacity 1)
	first  chan struct{} // the first frame arrived
	err    error         // why the reader ended; set before done closes

	mu         sync.Mutex // guards the fields below and orders status reports
	slot       *Frame
	info       Info
	state      State
	stallAfter time.Duration
	lastErr    error

	seq                       int64 // reader goroutine only
	read, dropped, reconnects atomic.Int64
	lastFrame                 atomic.Int64 // unix ns
	closeOnce, firstOnce      sync.Once
}

func openLive(ctx context.Context, uri string, opts Options, dial dialer) (*liveSource, error) {
	life, cancel := context.WithCancel(context.Background())
	s := &liveSource{
		uri: uri, opts: opts, dial: dial, pool: &mats.Pool{}, cancel: cancel,
		done: make(chan struct{}), ready: make(chan struct{}, 1), first: make(chan struct{}),
		state: StateOpening, info: Info{URI: uri, Live: true}, stallAfter: time.Second,
	}
	s.wg.Add(2)
	go s.run(life)
	go s.watch(life)
	select {
	case <-s.first:
		return s, nil
	case <-s.done:
		err := s.err
		s.Close()
		return nil, err
	case <-ctx.Done():
		s.mu.Lock()
		last := s.lastErr
		s.mu.Unlock()
		s.Close()
		// Not the open timeout, which ends the reader with its own error:
		// the caller gave up (Ctrl-C, or its own deadline).
		if last != nil {
			return nil, fmt.Errorf("%s: %s (last attempt: %v): %w", uri, gaveUp(ctx), last, ctx.Err())
		}
		return nil, fmt.Errorf("%s: %s: %w", uri, gaveUp(ctx), ctx.Err())
	}
}

// gaveUp says why a caller's context ended an opening.
func gaveUp(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the caller's deadline passed while opening"
	}
	return "interrupted while opening"
}

// run connects, reads and reconnects until ctx ends. Before the first
// frame it gives up at the open deadline or on a permanent error; after
// it, it retries for ever.
func (s *liveSource) run(ctx context.Context) {
	defer s.wg.Done()
	defer close(s.done)
	clock := s.opts.Clock
	openBy := clock.Now().Add(s.opts.OpenTimeout)
	played := false
	for attempt := 0; ; attempt++ {
		limit := s.opts.OpenTimeout
		if !played {
			limit = openBy.Sub(clock.Now())
		}
		c, err := s.dial(ctx, time.Now().Add(limit), s.pool, &s.dmg)
		if err == nil {
			if played {
				s.reconnects.Add(1)
			}
			s.setInfo(c.info())
			var got bool
			got, err = s.pump(ctx, c)
			c.close()
			if got {
				played, attempt = true, 0
			}
		}
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		wait := s.opts.Backoff.Delay(attempt)
		if !played {
			left := openBy.Sub(clock.Now())
			if errors.As(err, new(permanentError)) {
				s.err = err
				return
			}
			if left <= 0 {
				s.err = fmt.Errorf("%s: no frame within %v: %w", s.uri, s.opts.OpenTimeout, err)
				return
			}
			wait = min(wait, left)
			s.setState(StateOpening, fmt.Sprintf("%v; retrying in %v", err, wait.Round(time.Millisecond)))
		} else {
			s.setState(StateReconnecting, fmt.Sprintf("%v; attempt %d in %v", err, attempt+1, wait.Round(time.Millisecond)))
		}
		tc, stop := clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-tc:
		}
	}
}

// pump publishes the connection's pictures until it fails; got tells
// whether any arrived.
func (s *liveSource) pump(ctx context.Context, c conn) (got bool, err error) {
	for {
		m, pts, err := c.read()
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%s: stream ended", s.uri)
		}
		if err != nil {
			return got, err
		}
		if ctx.Err() != nil {
			s.pool.Put(m)
			return got, ctx.Err()
		}
		got = true
		s.publish(m, pts)
	}
}

// publish puts a new picture in the slot, dropping the one not taken.
func (s *liveSource) publish(m gocv.Mat, pts time.Duration) {
	now := time.Now()
	f := &Frame{Seq: s.seq, PTS: pts, Arrived: now, Mat: m, pool: s.pool}
	s.seq++
	s.read.Add(1)
	gap := now.Sub(time.Unix(0, s.lastFrame.Swap(now.UnixNano())))
	s.mu.Lock()
	old := s.slot
	s.slot = f
	switch {
	case s.state == StateStalled && gap > s.stallAfter:
		// One frame after a stall is not a stream flowing again (a read
		// that times out can flush a last buffered picture): playing
		// waits for the next frame in time.
	case s.state != StatePlaying:
		s.report(StatePlaying, fmt.Sprintf("%s (%dx%d)", s.uri, m.Cols(), m.Rows()))
	default:
		if d, ok := s.dmg.due(now); ok {
			s.report(StatePlaying, d)
		}
	}
	s.mu.Unlock()
	if old != nil {
		old.Release()
		s.dropped.Add(1)
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
	s.firstOnce.Do(func() { close(s.first) })
}

// watch reports a stall: no frame for max(2 frame intervals, 1 s) while
// playing. A stall that lasts ReadTimeout makes the connection reopen.
func (s *liveSource) watch(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			if idle := now.Sub(time.Unix(0, s.lastFrame.Load())); s.state == StatePlaying && idle > s.stallAfter {
				s.report(StateStalled, fmt.Sprintf("no frame for %v", idle.Round(100*time.Millisecond)))
			}
			s.mu.Unlock()
		}
	}
}

func (s *liveSource) setInfo(in Info) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in.Live = true
	s.info = in
	s.stallAfter = time.Second
	if in.FPS > 0 {
		s.stallAfter = max(s.stallAfter, time.Duration(2*float64(time.Second)/in.FPS))
	}
}

func (s *liveSource) setState(st State, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report(st, detail)
}

// report records and reports a state; s.mu is held, so reports from the
// reader and the watcher arrive in order.
func (s *liveSource) report(st State, detail string) {
	s.state = st
	report(s.opts.OnStatus, st, detail)
}

func (s *liveSource) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

func (s *liveSource) Stats() Stats {
	return Stats{Read: s.read.Load(), Dropped: s.dropped.Load(), Reconnects: s.reconnects.Load()}
}

// Next returns the newest frame, waiting for one if the consumer already
// took it.
func (s *liveSource) Next(ctx context.Context) (*Frame, error) {
	for {
		if f := s.take(); f != nil {
			return f, nil
		}
		select {
		case <-s.ready:
		case <-s.done:
			if f := s.take(); f != nil {
				return f, nil
			}
			if s.err != nil {
				return nil, s.err
			}
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *liveSource) take() *Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.slot
	s.slot = nil
	return f
}

// Close stops the reader (interrupting any blocked FFmpeg call) and frees
// the frames it holds; frames the consumer holds stay valid until released.
func (s *liveSource) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.take().Release()
		s.pool.Close()
	})
	return nil
}

// streamDialer opens network streams through FFmpeg.
func streamDialer(uri string, opts Options) dialer {
	cfg := avConfig{live: true, transport: opts.Transport, buffered: opts.Buffered, readTimeout: opts.ReadTimeout, packets: opts.Packets}
	return func(ctx context.Context, deadline time.Time, pool *mats.Pool, dmg *damage) (conn, error) {
		in, err := openAV(ctx, ctx, uri, deadline, cfg, pool, dmg)
		if err != nil {
			return nil, err
		}
		return in, nil
	}
}

// webcam is a V4L2 camera read through OpenCV.
type webcam struct {
	cap   *gocv.VideoCapture
	inf   Info
	pool  *mats.Pool
	start time.Time
}

func webcamDialer(n int) dialer {
	return func(_ context.Context, _ time.Time, pool *mats.Pool, _ *damage) (conn, error) {
		uri := fmt.Sprintf("webcam:%d", n)
		dev := fmt.Sprintf("/dev/video%d", n)
		if _, err := os.Stat(dev); errors.Is(err, os.ErrNotExist) {
			return nil, permanentError{fmt.Errorf("%s: no such camera (%s does not exist)", uri, dev)}
		}
		c, err := gocv.OpenVideoCaptureWithAPI(n, gocv.VideoCaptureV4L2)
		if err != nil || !c.IsOpened() {
			if c != nil {
				c.Close()
			}
			return nil, fmt.Errorf("%s: cannot open %s (busy or not a capture device)", uri, dev)
		}
		w := &webcam{cap: c, pool: pool, start: time.Now(), inf: Info{
			URI:    uri,
			Width:  int(c.Get(gocv.VideoCaptureFrameWidth)),
			Height: int(c.Get(gocv.VideoCaptureFrameHeight)),
			FPS:    c.Get(gocv.VideoCaptureFPS),
			Live:   true,
		}}
		return w, nil
	}
}

func (w *webcam) info() Info { return w.inf }

func (w *webcam) read() (gocv.Mat, time.Duration, error) {
	m := w.pool.Get(w.inf.Height, w.inf.Width)
	if !w.cap.Read(&m) || m.Empty() {
		w.pool.Put(m)
		return gocv.Mat{}, 0, fmt.Errorf("%s: read failed (camera unplugged?)", w.inf.URI)
	}
	return m, time.Since(w.start), nil
}

func (w *webcam) close() { w.cap.Close() }
