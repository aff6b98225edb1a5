package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/imagefile"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/internal/stages"
)

// avObjects counts the FFmpeg objects (format and codec contexts, frames,
// packets) this package holds, so tests can prove that none leak.
var avObjects atomic.Int64

func track(n int64) { avObjects.Add(n) }

// avConfig tunes one opening of an FFmpeg input.
type avConfig struct {
	live        bool // network stream: low-delay options, read timeout
	transport   string
	buffered    bool
	readTimeout time.Duration
	packets     PacketSink // receives the video stream's packets; nil: none
	// scale gives the size to convert a w×h picture to; nil: its own.
	scale func(w, h int) image.Point
}

// avInput is one opened FFmpeg input decoding its best video stream. Every
// blocking FFmpeg call runs under a deadline that a watchdog goroutine
// enforces through the interrupt callback, so no call can hang.
type avInput struct {
	uri   string
	cfg   avConfig
	fc    *astiav.FormatContext
	irq   astiav.IOInterrupter
	dec   *astiav.CodecContext
	st    *astiav.Stream
	pkt   *astiav.Packet
	frame *astiav.Frame
	sc    scaler
	// full is the size of the last picture read, before any scaling.
	full  image.Point
	pool  *mats.Pool
	dmg   *damage
	start int64 // stream start time, in stream time base
	eof   bool  // demuxer exhausted, decoder being drained
	bad   int   // consecutive demuxer errors of a file

	tapping bool // the packet sink was told of the stream
	// enc encodes the pictures for the packet sink instead, when the
	// stream's own codec is one an MP4 clip cannot hold.
	enc *PacketEncoder

	deadline atomic.Int64 // unix ns after which the current call is interrupted; 0: none
	abort    atomic.Bool  // interrupt now (the opener gave up)
	timedOut atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

// openAV opens uri and its decoder, all before deadline or until openCtx
// ends. ctx is the input's lifetime: when it ends, any blocked call returns.
func openAV(ctx, openCtx context.Context, uri string, deadline time.Time, cfg avConfig, pool *mats.Pool, dmg *damage) (_ *avInput, err error) {
	installLog()
	in := &avInput{uri: uri, cfg: cfg, pool: pool, dmg: dmg, stop: make(chan struct{})}
	in.fc = astiav.AllocFormatContext()
	if in.fc == nil {
		return nil, errors.New("allocating format context failed")
	}
	track(1)
	in.irq = in.fc.SetInterruptCallback()
	in.wg.Add(1)
	go in.watch(ctx)
	defer context.AfterFunc(openCtx, func() { in.abort.Store(true) })()
	defer func() {
		if err != nil {
			in.close()
		}
	}()

	d := astiav.NewDictionary()
	defer d.Free()
	for k, v := range cfg.demuxerOptions(uri) {
		if err := d.Set(k, v, 0); err != nil {
			return nil, fmt.Errorf("setting %s: %w", k, err)
		}
	}
	in.arm(deadline)
	err = in.fc.OpenInput(uri, nil, d)
	if err != nil {
		in.fc.Free() // avformat_open_input freed the context; this clears astiav's bookkeeping
		in.fc = nil
		track(-1)
		return nil, in.failure("opening", err)
	}
	logOwners.Store(in.fc, dmg)
	if err := in.fc.FindStreamInfo(nil); err != nil {
		return nil, in.failure("reading stream info", err)
	}
	in.disarm()
	for _, s := range in.fc.Streams() {
		if s.CodecParameters().MediaType() == astiav.MediaTypeVideo && s.CodecParameters().Width() > 0 {
			in.st = s
			break
		}
	}
	if in.st == nil {
		return nil, errors.New("no video stream")
	}
	if w, h := in.st.CodecParameters().Width(), in.st.CodecParameters().Height(); int64(w)*int64(h) > imagefile.MaxPixels {
		// Each pooled BGR frame would take w×h×3 bytes, several at once.
		return nil, fmt.Errorf("%s: pictures of %d×%d px; Sightline decodes up to %d megapixels a frame", uri, w, h, imagefile.MaxPixels/1_000_000)
	}
	if in.start = in.st.StartTime(); in.start == astiav.NoPtsValue {
		in.start = 0
	}
	if err := in.openDecoder(); err != nil {
		return nil, err
	}
	in.pkt, in.frame = astiav.AllocPacket(), astiav.AllocFrame()
	track(2)
	if cfg.packets != nil && !mp4Holds(in.st.CodecParameters().CodecID()) {
		fps := in.st.AvgFrameRate().Float64()
		in.enc, in.cfg.packets = NewPacketEncoder(cfg.packets, fps), nil
	}
	return in, nil
}

// encode hands the picture to the clip encoder, if there is one: a file's
// waits for it (nothing of a file need be lost), a live stream's is
// dropped when it is behind.
func (in *avInput) encode(m gocv.Mat, pts time.Duration) {
	switch {
	case in.enc == nil:
	case in.cfg.live:
		in.enc.Encode(m, pts)
	default:
		in.enc.EncodeWait(m, pts)
	}
}

// mp4Holds says whether an MP4 file can carry packets of codec as they
// are (FFmpeg's mp4 muxer tags); others (MS-MPEG4 in old AVIs, raw
// video) are encoded again for clips.
func mp4Holds(codec astiav.CodecID) bool {
	switch codec {
	case astiav.CodecIDH264, astiav.CodecIDHevc, astiav.CodecIDMpeg4, astiav.CodecIDMjpeg, astiav.CodecIDVp9,
		astiav.CodecIDMpeg2Video, astiav.CodecIDMpeg1Video:
		return true
	}
	return false
}

// demuxerOptions are the FFmpeg options of an input: for live streams a
// transport, socket timeouts and, unless buffered, the low-delay set
// (a small probe, a short reordering wait).
func (c avConfig) demuxerOptions(uri string) map[string]string {
	o := map[string]string{}
	if !c.live {
		return o
	}
	us := strconv.FormatInt(c.readTimeout.Microseconds(), 10)
	if strings.HasPrefix(uri, "rtsp") {
		o["rtsp_transport"] = "tcp"
		if c.transport != "" {
			o["rtsp_transport"] = c.transport
		}
		o["timeout"] = us // socket I/O timeout (FFmpeg ≥ 5 spelling of stimeout)
	} else {
		o["rw_timeout"] = us
	}
	if strings.HasPrefix(uri, "https:") || strings.HasPrefix(uri, "rtsps:") {
		// FFmpeg does not verify certificates unless asked: a camera or
		// server that cannot prove who it is must not play.
		o["tls_verify"] = "1"
		o["ca_file"] = "/etc/ssl/certs/ca-certificates.crt"
	}
	if !c.buffered {
		// Not fflags=nobuffer: it drops the packets read while probing,
		// so playing starts a keyframe later, and on this FFmpeg (5.1) it
		// measured 340 ms instead of 100 ms server-to-reader on loopback.
		o["probesize"] = "500000"
		o["analyzeduration"] = "1000000"
		o["max_delay"] = "100000"
	}
	return o
}

func (in *avInput) openDecoder() error {
	cp := in.st.CodecParameters()
	codec := astiav.FindDecoder(cp.CodecID())
	if codec == nil {
		return fmt.Errorf("no decoder for codec %s", cp.CodecID())
	}
	in.dec = astiav.AllocCodecContext(codec)
	if in.dec == nil {
		return errors.New("allocating decoder failed")
	}
	track(1)
	if err := cp.ToCodecContext(in.dec); err != nil {
		return fmt.Errorf("configuring decoder: %w", err)
	}
	in.dec.SetThreadCount(0) // one per core
	if in.cfg.live && !in.cfg.buffered {
		// Frame threading delays output by one frame per thread; slices don't.
		in.dec.SetFlags(in.dec.Flags().Add(astiav.CodecContextFlagLowDelay))
		in.dec.SetThreadType(astiav.ThreadTypeSlice)
	}
	// The decoder refuses pictures over the limit, also when a stream
	// changes size after opening.
	d := astiav.NewDictionary()
	defer d.Free()
	if err := d.Set("max_pixels", strconv.Itoa(imagefile.MaxPixels), 0); err != nil {
		return fmt.Errorf("setting max_pixels: %w", err)
	}
	if err := in.dec.Open(codec, d); err != nil {
		return fmt.Errorf("opening %s decoder: %w", codec.Name(), err)
	}
	logOwners.Store(in.dec, in.dmg)
	return nil
}

// info describes the stream.
func (in *avInput) info() Info {
	cp := in.st.CodecParameters()
	fps := in.st.AvgFrameRate().Float64()
	if fps <= 0 || fps > 1000 {
		fps = in.st.RFrameRate().Float64()
	}
	if fps > 1000 {
		fps = 0
	}
	return Info{URI: in.uri, Width: cp.Width(), Height: cp.Height(), FPS: fps, Live: in.cfg.live}
}

// expectedFrames is the frame count the container announces, 0 if unknown.
func (in *avInput) expectedFrames() int64 {
	if n := in.st.NbFrames(); n > 0 {
		return n
	}
	return 0
}

// read decodes the next picture into a pooled Mat. It returns io.EOF after
// the last picture of a file; decode errors are counted, not returned.
func (in *avInput) read() (gocv.Mat, time.Duration, error) {
	for {
		if in.timedOut.Load() || in.abort.Load() {
			// Interrupted: the input is done. What the demuxer and decoder
			// still hold is from before the stall (an interrupted RTSP read
			// flushes its queue) and must not pass for a live picture.
			return gocv.Mat{}, 0, in.failure("reading", errInterrupted)
		}
		err := in.dec.ReceiveFrame(in.frame)
		switch {
		case err == nil:
			m, pts, err := in.convert()
			in.frame.Unref()
			if err == nil {
				in.encode(m, pts)
				return m, pts, nil
			}
			in.dmg.add(err.Error())
			continue
		case errors.Is(err, astiav.ErrEof):
			return gocv.Mat{}, 0, io.EOF
		case !errors.Is(err, astiav.ErrEagain):
			in.dmg.add("decoding: " + err.Error())
			if in.eof {
				return gocv.Mat{}, 0, io.EOF
			}
		}
		if in.eof {
			return gocv.Mat{}, 0, io.EOF // drained
		}
		if err := in.feed(); err != nil {
			return gocv.Mat{}, 0, err
		}
	}
}

// feed sends the next packet of the video stream to the decoder.
func (in *avInput) feed() error {
	if in.cfg.readTimeout > 0 {
		in.arm(time.Now().Add(in.cfg.readTimeout))
	}
	err := in.fc.ReadFrame(in.pkt)
	in.disarm()
	if err != nil {
		if in.timedOut.Load() || in.abort.Load() || errors.Is(err, astiav.ErrExit) {
			return in.failure("reading", err)
		}
		if in.cfg.live {
			if errors.Is(err, astiav.ErrEof) {
				return fmt.Errorf("%s: stream ended", in.uri)
			}
			return fmt.Errorf("%s: reading: %w", in.uri, err)
		}
		// A file: the end, or damage the demuxer may skip past.
		if !errors.Is(err, astiav.ErrEof) {
			in.dmg.add("demuxing: " + err.Error())
			if in.bad++; in.bad < 50 {
				return nil
			}
		}
		in.eof = true
		_ = in.dec.SendPacket(nil) // enter draining mode
		return nil
	}
	in.bad = 0
	defer in.pkt.Unref()
	if in.pkt.StreamIndex() != in.st.Index() {
		return nil
	}
	if in.cfg.packets != nil {
		in.tap()
	}
	if err := in.dec.SendPacket(in.pkt); err != nil && !errors.Is(err, astiav.ErrEagain) {
		in.dmg.add("decoding: " + err.Error())
	}
	return nil
}

// convert turns the decoded frame into BGR pixels in a pooled Mat.
func (in *avInput) convert() (gocv.Mat, time.Duration, error) {
	f := in.frame
	if f.Width() <= 0 || f.Height() <= 0 {
		return gocv.Mat{}, 0, errors.New("decoder returned an empty picture")
	}
	if decodeDamaged(f) {
		in.dmg.add("picture decoded with errors (concealed)")
	}
	in.full = image.Pt(f.Width(), f.Height())
	size := in.full
	if in.cfg.scale != nil {
		if s := in.cfg.scale(size.X, size.Y); s.X > 0 && s.Y > 0 && s.X <= size.X && s.Y <= size.Y {
			size = s
		}
	}
	m := in.pool.Get(size.Y, size.X)
	span := stages.Begin()
	err := in.sc.toMat(f, m)
	span.End(stages.Convert)
	if err != nil {
		m.Close()
		return gocv.Mat{}, 0, err
	}
	ts := f.Pts()
	if ts == astiav.NoPtsValue {
		ts = f.PktDts()
	}
	var pts time.Duration
	if ts != astiav.NoPtsValue {
		tb := in.st.TimeBase()
		pts = time.Duration(astiav.RescaleQ(ts-in.start, tb, astiav.NewRational(1, int(time.Second))))
	}
	return m, pts, nil
}

// failure wraps err, naming a timeout or an abort for what it is.
func (in *avInput) failure(op string, err error) error {
	switch {
	case in.timedOut.Load():
		return fmt.Errorf("%s %s: timed out: %w", op, in.uri, errTimeout)
	case in.abort.Load():
		return fmt.Errorf("%s %s: %w", op, in.uri, context.Canceled)
	}
	if op == "opening" && (strings.HasPrefix(in.uri, "https:") || strings.HasPrefix(in.uri, "rtsps:")) {
		// FFmpeg reports a certificate it does not trust as a bare I/O error.
		return fmt.Errorf("%s %s: %w (if the server uses TLS, is its certificate one this machine trusts?)", op, in.uri, err)
	}
	return fmt.Errorf("%s %s: %w", op, in.uri, err)
}

var (
	errTimeout     = errors.New("no answer in time")
	errInterrupted = errors.New("interrupted")
)

func (in *avInput) arm(t time.Time) { in.deadline.Store(t.UnixNano()) }
func (in *avInput) disarm()         { in.deadline.Store(0) }

// watch interrupts FFmpeg when the current call passes its deadline, the
// opener aborts or ctx ends. It is the only writer of the interrupt flag,
// which FFmpeg polls from its I/O loops.
func (in *avInput) watch(ctx context.Context) {
	defer in.wg.Done()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-ctx.Done():
			in.abort.Store(true)
			in.irq.Interrupt()
			return
		case now := <-t.C:
			if d := in.deadline.Load(); d != 0 && now.UnixNano() > d {
				in.timedOut.Store(true)
				in.irq.Interrupt()
			}
			if in.abort.Load() {
				in.irq.Interrupt()
			}
		}
	}
}

// close frees everything; the input must not be in use.
func (in *avInput) close() {
	close(in.stop)
	in.wg.Wait()
	in.untap()
	if in.enc != nil {
		in.enc.Close()
	}
	if in.frame != nil {
		in.frame.Free()
		in.pkt.Free()
		track(-2)
	}
	in.sc.free()
	if in.dec != nil {
		logOwners.Delete(in.dec)
		in.dec.Free()
		track(-1)
	}
	if in.fc != nil {
		logOwners.Delete(in.fc)
		in.fc.CloseInput()
		in.fc.Free()
		track(-1)
	}
}

// damage summarises decode errors: counted as they happen, reported at most
// once a second so a broken stream cannot flood the status events.
type damage struct {
	mu       sync.Mutex
	n, total int64
	last     string
	reported time.Time
}

func (d *damage) add(what string) {
	d.mu.Lock()
	d.n++
	d.total++
	d.last = strings.TrimSpace(what)
	d.mu.Unlock()
}

// due returns the summary of the errors since the last one, at most once
// a second.
func (d *damage) due(now time.Time) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 || now.Sub(d.reported) < time.Second {
		return "", false
	}
	s := fmt.Sprintf("damaged input: %d decode error(s) (last: %s)", d.n, d.last)
	d.n, d.reported = 0, now
	return s, true
}

func (d *damage) count() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.total
}

// logOwners maps FFmpeg contexts to the damage counter of their source, so
// the errors FFmpeg logs (rather than returns) are counted too.
var (
	logOwners sync.Map // astiav.Classer → *damage
	logOnce   sync.Once
)

func installLog() {
	logOnce.Do(func() {
		// Errors only, and never to stderr: they are summarised instead.
		astiav.SetLogLevel(astiav.LogLevelError)
		astiav.SetLogCallback(func(c astiav.Classer, l astiav.LogLevel, _, msg string) {
			if c == nil || l > astiav.LogLevelError {
				return
			}
			if d, ok := logOwners.Load(c); ok {
				d.(*damage).add(msg)
			}
		})
	})
}
