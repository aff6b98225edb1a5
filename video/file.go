package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/mats"
)

// maxLate is how far behind its clock a paced file may fall and still
// catch up (a slow frame or two); later than that it resynchronises.
const maxLate = 250 * time.Millisecond

// pacer holds frames back to their presentation time (files with
// Realtime).
type pacer struct {
	on      bool
	started bool
	start   time.Time
	pts0    time.Duration
}

// release holds f back to its presentation time and stamps its arrival
// then: a paced file stands in for a live source, whose frames arrive
// when they are due, not when they were decoded ahead.
func (p *pacer) release(ctx context.Context, f *Frame) error {
	if !p.on {
		return nil
	}
	if err := p.wait(ctx, f.PTS); err != nil {
		return err
	}
	f.Arrived = time.Now()
	return nil
}

func (p *pacer) wait(ctx context.Context, pts time.Duration) error {
	now := time.Now()
	if !p.started {
		p.started, p.start, p.pts0 = true, now, pts
		return nil
	}
	wait := p.start.Add(pts - p.pts0).Sub(now)
	if wait < -maxLate {
		// The consumer paused or stalled: play on from here rather than
		// fast-forward to catch up with the wall clock.
		p.start, p.pts0 = now, pts
		return nil
	}
	if wait <= 0 {
		return nil
	}
	if wait > time.Second {
		// A timestamp jump: resynchronise rather than freeze.
		p.start, p.pts0 = now, pts
		return nil
	}
	return clock.Real{}.Sleep(ctx, wait)
}

// checkFile turns a missing or unreadable path into a clear error before
// a decoder gets to guess.
func checkFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("opening %s: no such file", path)
	case err != nil:
		return fmt.Errorf("opening %s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("opening %s: is a directory", path)
	}
	return nil
}

// avFile reads a file through FFmpeg: every frame in order, on the caller's
// goroutine.
type avFile struct {
	in      *avInput
	info    Info
	opts    Options
	pool    *mats.Pool
	dmg     damage
	cancel  context.CancelFunc
	pace    pacer
	pending []*Frame // decoded ahead at opening
	seq     int64
	read    atomic.Int64 // frames delivered
	done    bool
}

func openAVFile(ctx context.Context, path string, opts Options) (*avFile, error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	life, cancel := context.WithCancel(context.Background())
	s := &avFile{opts: opts, pool: &mats.Pool{}, cancel: cancel, pace: pacer{on: opts.Realtime}}
	cfg := avConfig{readTimeout: opts.ReadTimeout, packets: opts.Packets}
	if opts.Packets == nil { // clips keep the source's own pictures
		cfg.scale = opts.Scale
	}
	in, err := openAV(life, ctx, path, time.Now().Add(opts.OpenTimeout), cfg, s.pool, &s.dmg)
	if err != nil {
		cancel()
		s.pool.Close()
		return nil, fileOpenError(ctx, path, err)
	}
	s.in, s.info = in, in.info()
	// Open's ctx bounds the first decode too.
	stop := context.AfterFunc(ctx, func() { in.abort.Store(true) })
	f, err := s.decode()
	stop()
	if err == nil && ctx.Err() != nil { // decoded before the interrupt landed
		f.Release()
		err = ctx.Err()
	}
	if err != nil {
		s.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no frame could be decoded", path)
		}
		return nil, fileOpenError(ctx, path, err)
	}
	s.pending = []*Frame{f}
	// A file of one frame is a still: decoding the second tells.
	switch f2, err := s.decode(); {
	case err == nil:
		s.pending = append(s.pending, f2)
	case errors.Is(err, io.EOF):
		s.info.Still = true
	default:
		s.Close()
		return nil, fileOpenError(ctx, path, err)
	}
	report(opts.OnStatus, StatePlaying, path)
	return s, nil
}

// fileOpenError says why a file did not open: the caller gave up, it
// timed out, or FFmpeg cannot read it.
func fileOpenError(ctx context.Context, path string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", path, gaveUp(ctx), ctx.Err())
	case errors.Is(err, errTimeout):
		return err
	}
	return fmt.Errorf("%w (not a video FFmpeg can read?)", err)
}

func (s *avFile) decode() (*Frame, error) {
	m, pts, err := s.in.read()
	if err != nil {
		return nil, err
	}
	f := &Frame{Seq: s.seq, PTS: pts, Arrived: time.Now(), Mat: m, pool: s.pool}
	if full := s.in.full; full != image.Pt(m.Cols(), m.Rows()) {
		f.Full = full
	}
	s.seq++
	return f, nil
}

func (s *avFile) Info() Info   { return s.info }
func (s *avFile) Stats() Stats { return Stats{Read: s.read.Load()} }

func (s *avFile) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.done {
		return nil, io.EOF
	}
	var f *Frame
	if len(s.pending) > 0 {
		f, s.pending = s.pending[0], s.pending[1:]
	} else {
		var err error
		if f, err = s.decode(); err != nil {
			if errors.Is(err, io.EOF) {
				s.done = true
				report(s.opts.OnStatus, StateEOF, s.endDetail())
			}
			return nil, err
		}
	}
	if d, ok := s.dmg.due(f.Arrived); ok {
		report(s.opts.OnStatus, StatePlaying, d)
	}
	if err := s.pace.release(ctx, f); err != nil {
		f.Release()
		return nil, err
	}
	s.read.Add(1)
	return f, nil
}

// endDetail describes how the file ended, naming any damage.
func (s *avFile) endDetail() string {
	n := s.read.Load()
	d := fmt.Sprintf("%d frames", n)
	if want := s.in.expectedFrames(); want > 0 && n < want*98/100 {
		d += fmt.Sprintf(" of %d announced: file truncated or damaged", want)
	}
	if e := s.dmg.count(); e > 0 {
		d += fmt.Sprintf(", %d decode error(s)", e)
	}
	return d
}

func (s *avFile) Close() error {
	for _, f := range s.pending {
		f.Release()
	}
	s.pending = nil
	s.cancel()
	if s.in != nil {
		s.in.close()
		s.in = nil
	}
	s.pool.Close()
	return nil
}

// goCVFile reads a file with OpenCV's VideoCapture, every frame in order
// (BackendGoCV, kept to compare decoders).
type goCVFile struct {
	cap  *gocv.VideoCapture
	info Info
	opts Options
	pace pacer
	read atomic.Int64
	eof  bool
}

func openGoCVFile(path string, opts Options) (*goCVFile, error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	c, err := gocv.OpenVideoCaptureWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil || !c.IsOpened() {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("opening %s: not a video file OpenCV can read", path)
	}
	return &goCVFile{cap: c, opts: opts, pace: pacer{on: opts.Realtime}, info: Info{
		URI:    path,
		Width:  int(c.Get(gocv.VideoCaptureFrameWidth)),
		Height: int(c.Get(gocv.VideoCaptureFrameHeight)),
		FPS:    c.Get(gocv.VideoCaptureFPS),
	}}, nil
}

func (s *goCVFile) Info() Info   { return s.info }
func (s *goCVFile) Stats() Stats { return Stats{Read: s.read.Load()} }

func (s *goCVFile) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.eof {
		return nil, io.EOF
	}
	m := gocv.NewMat()
	if !s.cap.Read(&m) || m.Empty() {
		m.Close()
		s.eof = true
		n := s.read.Load()
		if n == 0 {
			return nil, fmt.Errorf("%s: no frame could be decoded", s.info.URI)
		}
		report(s.opts.OnStatus, StateEOF, fmt.Sprintf("%d frames", n))
		return nil, io.EOF
	}
	f := &Frame{Seq: s.read.Load(), Mat: m, Arrived: time.Now()}
	f.PTS = time.Duration(s.cap.Get(gocv.VideoCapturePosMsec) * float64(time.Millisecond))
	if s.read.Add(1) == 1 {
		report(s.opts.OnStatus, StatePlaying, s.info.URI)
	}
	if err := s.pace.release(ctx, f); err != nil {
		f.Release()
		return nil, err
	}
	return f, nil
}

func (s *goCVFile) Close() error { return s.cap.Close() }
