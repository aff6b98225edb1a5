// Package video reads frames from webcams, files and network streams and
// delivers them to the analyzer and the overlay.
package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/mats"
)

// Frame is one decoded picture. Mat is 8-bit BGR and belongs to the frame:
// whoever holds the frame last calls Release. Its pixels can be lent to
// other users meanwhile (Lend); they are freed when the frame is released
// and every loan given back, whichever comes last.
type Frame struct {
	Seq     int64         // frames read from the source since it opened, from 0, across reconnects
	PTS     time.Duration // presentation time within the stream
	Arrived time.Time     // wall-clock time the frame was decoded
	Mat     gocv.Mat
	// Full is the picture's size in the source when Options.Scale made
	// Mat smaller; zero when Mat is the picture at its own size.
	Full image.Point

	pool *mats.Pool // where Release returns Mat; nil: Release closes it

	mu   sync.Mutex
	lent int      // loans not given back
	kept gocv.Mat // the pixels, released while lent
}

// FullSize is the size of the picture Mat shows, in the source's pixels.
func (f *Frame) FullSize() image.Point {
	if f.Full != (image.Point{}) {
		return f.Full
	}
	return image.Pt(f.Mat.Cols(), f.Mat.Rows())
}

// Release frees the frame's pixels (or returns them to the source's pool),
// at once or, while they are lent, when the last loan is given back.
// Releasing twice is harmless.
func (f *Frame) Release() {
	if f == nil {
		return
	}
	f.mu.Lock()
	m := f.Mat
	f.Mat = gocv.Mat{}
	if f.lent > 0 && m.Ptr() != nil {
		f.kept, m = m, gocv.Mat{}
	}
	f.mu.Unlock()
	f.free(m)
}

// Lend lends the frame's pixels (Mat, as it is now) to a user who reads
// them, without copying, until it calls giveBack; calling giveBack again
// does nothing. Nobody may change the pixels while they are lent.
func (f *Frame) Lend() (giveBack func()) {
	f.mu.Lock()
	f.lent++
	f.mu.Unlock()
	var given atomic.Bool
	return func() {
		if given.Swap(true) {
			return
		}
		f.mu.Lock()
		f.lent--
		var m gocv.Mat
		if f.lent == 0 {
			m, f.kept = f.kept, gocv.Mat{}
		}
		f.mu.Unlock()
		f.free(m)
	}
}

// free returns m to the pool, or closes it; an empty m is nothing to free.
func (f *Frame) free(m gocv.Mat) {
	switch {
	case m.Ptr() == nil:
	case f.pool != nil:
		f.pool.Put(m)
	default:
		m.Close()
	}
}

// Info describes an open source.
type Info struct {
	URI    string
	Width  int
	Height int
	FPS    float64 // nominal frame rate; 0 when unknown
	Live   bool    // webcams and network streams: newest frame wins
	// Still: a picture (an image file, or a video file of one frame): Next
	// delivers it once, then io.EOF. Show it and analyse it once; do not
	// loop it.
	Still bool
}

// State is a source's state, as reported in `status` events.
type State string

const (
	StateOpening      State = "opening"
	StatePlaying      State = "playing"
	StateStalled      State = "stalled"
	StateReconnecting State = "reconnecting"
	StateEOF          State = "eof"
	StateError        State = "error"
	StateStopped      State = "stopped"
)

// Status is a state change with a human-readable detail.
type Status struct {
	State  State
	Detail string
	At     time.Time
}

// Stats count what a source did.
type Stats struct {
	Read       int64 // frames decoded
	Dropped    int64 // frames a live source discarded because the consumer was busy
	Reconnects int64
}

// Source delivers frames.
type Source interface {
	// Next returns the next frame: for files every frame in order, for live
	// sources the newest one. It returns io.EOF at the end of a file.
	Next(ctx context.Context) (*Frame, error)
	Info() Info
	Stats() Stats
	Close() error
}

// Backend selects the decoder of files.
type Backend int

const (
	BackendAuto   Backend = iota // go-astiav (FFmpeg) for files and streams, GoCV for webcams
	BackendAstiav                // FFmpeg through go-astiav
	BackendGoCV                  // OpenCV's VideoCapture (files only; kept for comparison)
)

// Options configure Open. The zero value is ready to use.
type Options struct {
	// OpenTimeout bounds opening a source that never delivers a frame;
	// default 20 s.
	OpenTimeout time.Duration
	// ReadTimeout is how long a live read may block before the connection
	// is dropped and reopened; default 5 s.
	ReadTimeout time.Duration
	// Realtime paces files at their native rate.
	Realtime bool
	// OnStatus receives state changes; it must not block. Live sources
	// call it from their reader goroutine.
	OnStatus func(Status)
	// Backend chooses the file decoder.
	Backend Backend
	// Transport is the RTSP transport, "tcp" (default) or "udp".
	Transport string
	// Buffered turns the low-delay demuxer and decoder options off, leaving
	// FFmpeg's defaults (kept to measure what the options buy).
	Buffered bool
	// Backoff spaces reconnect attempts.
	Backoff clock.Backoff
	// Clock drives backoff and the open deadline; default the real clock.
	Clock Clock
	// Packets, when set, receives the video's encoded packets (event
	// clips); webcam frames are encoded for it. BackendGoCV files and
	// stills have none.
	Packets PacketSink
	// Scale, when set, gives the size to deliver a file's w×h pictures at,
	// for a consumer that needs nothing larger (a model's input): FFmpeg
	// scales them from the decoder's own pixels in the one conversion to
	// BGR, and Frame.Full keeps their size. A size that is not smaller is
	// ignored, and so is Scale for other sources and with Packets.
	Scale func(w, h int) image.Point
}

func (o Options) withDefaults() Options {
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = 20 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	o.Backoff = o.Backoff.WithDefaults()
	return o
}

// ErrUnsupported is returned for URIs no reader handles.
var ErrUnsupported = errors.New("unsupported source")

// Kind classifies a source URI.
type Kind int

const (
	KindFile Kind = iota
	KindWebcam
	KindStream
)

// Parse classifies uri and normalises it: webcams to their index, file://
// URLs to paths.
func Parse(uri string) (Kind, string, error) {
	switch {
	case uri == "":
		return 0, "", fmt.Errorf("%w: empty source", ErrUnsupported)
	case strings.HasPrefix(uri, "webcam:"):
		n, err := strconv.Atoi(strings.TrimPrefix(uri, "webcam:"))
		if err != nil || n < 0 {
			return 0, "", fmt.Errorf("%w: %q (expected webcam:N with N ≥ 0)", ErrUnsupported, uri)
		}
		return KindWebcam, strconv.Itoa(n), nil
	case strings.HasPrefix(uri, "/dev/video"):
		n, err := strconv.Atoi(strings.TrimPrefix(uri, "/dev/video"))
		if err != nil || n < 0 {
			return 0, "", fmt.Errorf("%w: %q (expected /dev/videoN)", ErrUnsupported, uri)
		}
		return KindWebcam, strconv.Itoa(n), nil
	}
	if i := strings.Index(uri, "://"); i > 0 {
		u, err := url.Parse(uri)
		if err != nil {
			return 0, "", fmt.Errorf("%w: %q: %v", ErrUnsupported, uri, err)
		}
		switch strings.ToLower(u.Scheme) {
		case "file":
			// Only local files: file:///path or file://localhost/path.
			if u.Path == "" || (u.Host != "" && u.Host != "localhost") {
				return 0, "", fmt.Errorf("%w: %q (expected file:///path/to/video)", ErrUnsupported, uri)
			}
			return KindFile, u.Path, nil
		case "rtsp", "rtsps", "http", "https":
			return KindStream, uri, nil
		}
		return 0, "", fmt.Errorf("%w: scheme %q (use a file path, file://, rtsp://, rtsps://, http(s):// or webcam:N)", ErrUnsupported, u.Scheme)
	}
	return KindFile, uri, nil
}

// Open opens any supported source and returns once it has decoded its
// first frame, or with an error: a source that delivers no frame within
// opts.OpenTimeout (or before ctx ends) fails. ctx bounds only the opening;
// Close stops the source.
func Open(ctx context.Context, uri string, opts Options) (Source, error) {
	kind, target, err := Parse(uri)
	if err != nil {
		report(opts.OnStatus, StateError, err.Error())
		return nil, err
	}
	opts = opts.withDefaults()
	if opts.Transport != "" && opts.Transport != "tcp" && opts.Transport != "udp" {
		return nil, fmt.Errorf("%w: RTSP transport %q (use tcp or udp)", ErrUnsupported, opts.Transport)
	}
	report(opts.OnStatus, StateOpening, uri)
	var src Source
	switch {
	case kind == KindFile && isPicture(target):
		src, err = openStill(target, opts)
	case kind == KindFile && opts.Backend == BackendGoCV:
		src, err = openGoCVFile(target, opts)
	case kind == KindFile:
		src, err = openAVFile(ctx, target, opts)
	case kind == KindWebcam:
		n, _ := strconv.Atoi(target)
		src, err = openLive(ctx, uri, opts, encodedFor(opts.Packets, webcamDialer(n)))
	default:
		src, err = openLive(ctx, uri, opts, streamDialer(uri, opts))
	}
	if err != nil {
		report(opts.OnStatus, StateError, err.Error())
		return nil, err
	}
	return src, nil
}

func report(fn func(Status), s State, detail string) {
	if fn != nil {
		fn(Status{State: s, Detail: detail, At: time.Now()})
	}
}
