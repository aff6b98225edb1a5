package video

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/mats"
)

// PacketEncoder encodes raw pictures (a webcam's frames, the drawn frames
// of annotated clips) to H.264 for a PacketSink, on its own goroutine:
// Encode copies the picture and returns at once, and when the encoder is
// behind the picture is dropped and counted rather than holding up the
// caller. Keyframes come every second, so a clip can start within a
// second of where it is asked to.
type PacketEncoder struct {
	sink    PacketSink
	fps     float64
	pool    mats.Pool
	jobs    chan encodeJob
	done    chan struct{}
	dropped atomic.Int64

	mu     sync.Mutex // orders Encode against Close
	closed bool

	// The goroutine's own.
	err      error // the first failure; encoding stops there
	enc      *astiav.CodecContext
	frame    *astiav.Frame
	pkt      *astiav.Packet
	sc       scaler
	w, h     int
	last     int64 // last pts sent, in ms
	frameDur int64 // ms
}

type encodeJob struct {
	m   gocv.Mat
	pts time.Duration
}

// encodeQueue is how many pictures may wait for the encoder: a short
// burst is absorbed, a slow machine drops pictures instead of piling
// them up.
const encodeQueue = 3

// packetTimeBase is the encoder's clock: milliseconds, as the recorder's.
var packetTimeBase = astiav.NewRational(1, 1000)

// NewPacketEncoder encodes for sink pictures arriving at about fps (0:
// unknown, 25 assumed).
func NewPacketEncoder(sink PacketSink, fps float64) *PacketEncoder {
	installLog()
	if fps <= 0 || math.IsNaN(fps) || fps > 1000 {
		fps = 25
	}
	e := &PacketEncoder{sink: sink, fps: fps, jobs: make(chan encodeJob, encodeQueue), done: make(chan struct{}),
		last: -1, frameDur: max(1, int64(math.Round(1000/fps)))}
	go e.run()
	return e
}

// Encode queues a copy of m (8-bit BGR, BGRA or gray) shown at pts; it
// reports false when the picture was dropped (the encoder is behind,
// failed or closed). For a reader that must never wait (a webcam's).
func (e *PacketEncoder) Encode(m gocv.Mat, pts time.Duration) bool { return e.enqueue(m, pts, false) }

// EncodeWait is Encode waiting for room in the queue instead of dropping:
// every picture shown is encoded (the pipeline's drawn frames, also of a
// file read as fast as it decodes). It reports false after Close.
func (e *PacketEncoder) EncodeWait(m gocv.Mat, pts time.Duration) bool {
	return e.enqueue(m, pts, true)
}

func (e *PacketEncoder) enqueue(m gocv.Mat, pts time.Duration, wait bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || m.Empty() || (!wait && len(e.jobs) == cap(e.jobs)) {
		e.dropped.Add(1)
		return false
	}
	// Only enqueue sends, under mu, so without wait this never blocks;
	// with it, the encoder goroutine makes room (it takes jobs until Close).
	e.jobs <- encodeJob{m: e.pool.Copy(m), pts: pts}
	return true
}

// Dropped counts the pictures not encoded.
func (e *PacketEncoder) Dropped() int64 { return e.dropped.Load() }

// Close encodes what is queued, flushes the encoder, ends the sink's
// stream and returns the first failure.
func (e *PacketEncoder) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.jobs)
	}
	e.mu.Unlock()
	<-e.done
	return e.err
}

func (e *PacketEncoder) run() {
	defer close(e.done)
	for j := range e.jobs {
		if e.err == nil {
			if err := e.encode(j.m, j.pts); err != nil {
				e.err = fmt.Errorf("encoding for clips: %w", err)
				e.endStream()
			}
		} else {
			e.dropped.Add(1)
		}
		e.pool.Put(j.m)
	}
	if e.err == nil {
		e.err = e.flush()
	}
	e.endStream()
	e.sc.free()
	e.pool.Close()
}

// encode sends one picture to the encoder, opening it at the first
// picture, and again as a new stream when the size changes or the clock
// jumps back (a file that loops, another source): the clips' timeline is
// the frames' PTS, so it must not be bent to keep one stream going.
func (e *PacketEncoder) encode(m gocv.Mat, pts time.Duration) error {
	w, h := m.Cols()&^1, m.Rows()&^1 // 4:2:0 wants even sizes
	ts := int64(pts / time.Millisecond)
	if e.enc != nil && (w != e.w || h != e.h || ts < e.last-1000) {
		if err := e.flush(); err != nil {
			return err
		}
		e.endStream()
	}
	if e.enc == nil {
		if err := e.open(w, h); err != nil {
			return err
		}
		e.last = -1
	}
	if err := e.sc.fromMat(m, e.frame); err != nil {
		return err
	}
	if ts <= e.last { // jitter: keep the encoder's timestamps increasing
		ts = e.last + 1
	}
	e.last = ts
	e.frame.SetPts(ts)
	if err := e.enc.SendFrame(e.frame); err != nil {
		return err
	}
	return e.drain()
}

// open starts the encoder for w×h pictures and announces its stream.
func (e *PacketEncoder) open(w, h int) error {
	enc, err := openPacketEncoder(w, h, e.fps)
	if err != nil {
		return err
	}
	e.enc, e.w, e.h = enc, w, h
	e.frame, e.pkt = astiav.AllocFrame(), astiav.AllocPacket()
	track(2)
	if err := allocYUV(e.frame, w, h); err != nil {
		return err
	}
	params := astiav.AllocCodecParameters()
	defer params.Free()
	if err := params.FromCodecContext(enc); err != nil {
		return err
	}
	e.sink.StartStream(PacketStream{Params: params, TimeBase: packetTimeBase,
		FrameRate: astiav.NewRational(int(math.Round(e.fps*1000)), 1000)})
	return nil
}

// openPacketEncoder opens H.264 (libx264 when FFmpeg has it, else MPEG-4
// part 2) tuned to run all the time at little cost: the fastest preset (a
// 1080p picture took 13 CPU-ms against veryfast's 35, so a 1080p30 webcam
// fits in half a core), no look-ahead and no B-frames, a keyframe a
// second, headers kept out of band for MP4.
func openPacketEncoder(w, h int, fps float64) (*astiav.CodecContext, error) {
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		codec = astiav.FindEncoder(astiav.CodecIDMpeg4)
	}
	if codec == nil {
		return nil, errors.New("FFmpeg has neither libx264 nor an MPEG-4 encoder")
	}
	enc := astiav.AllocCodecContext(codec)
	if enc == nil {
		return nil, errors.New("allocating the encoder failed")
	}
	track(1)
	enc.SetWidth(w)
	enc.SetHeight(h)
	enc.SetPixelFormat(astiav.PixelFormatYuv420P)
	enc.SetTimeBase(packetTimeBase)
	enc.SetFramerate(astiav.NewRational(int(math.Round(fps*1000)), 1000))
	enc.SetGopSize(max(1, int(math.Round(fps))))
	enc.SetFlags(enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	opts := astiav.NewDictionary()
	defer opts.Free()
	opts.Set("bf", "0", 0)
	if codec.Name() == "libx264" {
		opts.Set("preset", "ultrafast", 0)
		opts.Set("tune", "zerolatency", 0)
		opts.Set("crf", "23", 0)
	} else {
		enc.SetBitRate(int64(w * h * 4))
	}
	if err := enc.Open(codec, opts); err != nil {
		enc.Free()
		track(-1)
		return nil, fmt.Errorf("opening the %s encoder: %w", codec.Name(), err)
	}
	return enc, nil
}

// drain hands the packets the encoder has ready to the sink.
func (e *PacketEncoder) drain() error {
	for {
		err := e.enc.ReceivePacket(e.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.pkt.Duration() <= 0 {
			e.pkt.SetDuration(e.frameDur)
		}
		e.sink.WritePacket(e.pkt)
		e.pkt.Unref()
	}
}

// flush hands over the pictures still in the encoder.
func (e *PacketEncoder) flush() error {
	if e.enc == nil {
		return nil
	}
	if err := e.enc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		return err
	}
	return e.drain()
}

// endStream closes the encoder and ends the sink's stream.
func (e *PacketEncoder) endStream() {
	if e.frame != nil {
		e.frame.Free()
		e.pkt.Free()
		track(-2)
		e.frame, e.pkt = nil, nil
	}
	if e.enc != nil {
		e.enc.Free()
		track(-1)
		e.enc = nil
		e.sink.EndStream()
	}
}

// encodedFor makes the connections of d, whose pictures arrive raw (a
// webcam), encode them for sink.
func encodedFor(sink PacketSink, d dialer) dialer {
	if sink == nil {
		return d
	}
	return func(ctx context.Context, deadline time.Time, pool *mats.Pool, dmg *damage) (conn, error) {
		c, err := d(ctx, deadline, pool, dmg)
		if err != nil {
			return nil, err
		}
		return &encodingConn{conn: c, enc: NewPacketEncoder(sink, c.info().FPS)}, nil
	}
}

// encodingConn is a connection whose pictures are also encoded.
type encodingConn struct {
	conn
	enc *PacketEncoder
}

func (c *encodingConn) read() (gocv.Mat, time.Duration, error) {
	m, pts, err := c.conn.read()
	if err == nil {
		c.enc.Encode(m, pts)
	}
	return m, pts, err
}

func (c *encodingConn) close() {
	c.conn.close()
	c.enc.Close()
}

// allocYUV gives f a w×h YUV 4:2:0 picture, what the H.264 encoders take.
func allocYUV(f *astiav.Frame, w, h int) error {
	f.SetWidth(w)
	f.SetHeight(h)
	f.SetPixelFormat(astiav.PixelFormatYuv420P)
	return f.AllocBuffer(0)
}
