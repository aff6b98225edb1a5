// Package clip writes event clips: short MP4 files of what the camera saw
// around an alert, a line crossing, a key press or SIGUSR2, from --pre
// before to --post after.
//
// Clips keeps the last seconds of a source's encoded video packets in a
// ring (it is the source's video.PacketSink): files and RTSP streams hand
// over what they demux, so nothing is decoded or encoded again for clips;
// webcams, whose frames arrive raw, are encoded once by
// video.PacketEncoder. The ring is bounded by time (Pre + Slack back from
// the newest packet, to the keyframe before) and by bytes, and drops whole
// GOPs as they age out.
//
// A trigger starts a clip at the last keyframe at or before trigger −
// Pre. The clip's goroutine writes what the ring holds from there, then
// each packet as it arrives, until one is decoded at or after trigger +
// Post; the timestamps are rebased so the clip starts at 0 (stream copy,
// fragmented MP4). A trigger whose pre-roll overlaps a clip still being
// written extends that clip (up to MaxLength) instead of starting
// another: the clip keeps its first trigger's name and reason. When the
// clip is finalised (renamed from its .part name) the `clip` event says
// so. A clip that cannot be written (a full disk) is removed, an
// output_error event says why, and the next trigger tries again. Ending
// the stream or Close finalises the clips being written with what they
// have (Ctrl-C).
package clip

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/text"
)

// Defaults of the flags --pre and --post.
const (
	DefaultPre  = 5 * time.Second
	DefaultPost = 5 * time.Second
)

// Publisher hears of clips written and failed (an *event.Bus).
type Publisher interface {
	Publish(e event.Event)
}

// Clock names clips after the time they were asked for.
type Clock interface{ Now() time.Time }

// Config says where clips go and how long they are.
type Config struct {
	Dir    string // created if needed
	Camera string // in the file names ("camera" when empty)
	// Pre and Post are how much video a clip has before and after its
	// trigger; zero means none.
	Pre, Post time.Duration
	// Slack is how far behind the newest packet a trigger may point and
	// still get all its pre-roll (an analysis that took that long);
	// default 5 s.
	Slack time.Duration
	// MaxBytes bounds the packets the ring holds; default 64 MiB (a
	// 1080p30 camera at 8 Mbit/s needs 10 MiB for 10 s).
	MaxBytes int
	// MaxLength is as long as overlapping triggers may extend a clip;
	// past it a trigger starts a clip of its own. Default 60 s.
	MaxLength time.Duration
	Events    Publisher // nil: none
	Clock     Clock     // default clock.Real

	// create opens a clip's file (tests: a disk that fills).
	create func(path string) (io.WriteCloser, error)
}

func (c Config) withDefaults() Config {
	if c.Camera == "" {
		c.Camera = "camera"
	}
	if c.Slack <= 0 {
		c.Slack = 5 * time.Second
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 20
	}
	if c.MaxLength <= 0 {
		c.MaxLength = time.Minute
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.create == nil {
		c.create = func(path string) (io.WriteCloser, error) {
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		}
	}
	return c
}

// ErrClosed is returned by triggers after Close.
var ErrClosed = errors.New("clips: closed")

// errNoVideo: a trigger came while no stream was playing.
var errNoVideo = errors.New("no video yet (the source is not playing)")

// Clips is a source's packet ring and the clips being written from it.
// Its methods may be called from any goroutine.
type Clips struct {
	cfg Config
	wg  sync.WaitGroup

	mu      sync.Mutex
	stream  *stream
	ring    []entry
	bytes   int
	newest  time.Duration // the latest presentation time received
	running []*clip       // clips still taking packets
	names   map[string]bool
	closed  bool
	lastErr error
	stats   Stats
}

// Stats count what Clips did.
type Stats struct {
	Packets   int64 // packets received
	Evicted   int64 // packets dropped from the ring
	Overflows int64 // GOPs larger than MaxBytes, dropped whole
	Written   int64 // clips finalised
	Failed    int64 // clips that could not be written
	// The ring now.
	Held      int
	HeldBytes int
	HeldSpan  time.Duration // from its first packet to the newest
}

// New prepares clips into cfg.Dir, which is created.
func New(cfg Config) (*Clips, error) {
	cfg = cfg.withDefaults()
	if cfg.Pre < 0 || cfg.Post < 0 {
		return nil, fmt.Errorf("clips: --pre and --post must not be negative (got %v and %v)", cfg.Pre, cfg.Post)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("clips: %w", err)
	}
	return &Clips{cfg: cfg, names: map[string]bool{}}, nil
}

// SetDir sends the clips asked for from now on to dir, which is created;
// those being written stay where they are.
func (c *Clips) SetDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("clips: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg.Dir = dir
	return nil
}

// clip is one clip being written. Its fields from end on are guarded by
// Clips.mu.
type clip struct {
	file   string        // the final path
	reason string        // the first trigger's
	at     time.Duration // the first trigger, on the frames' timeline
	wake   chan struct{} // a packet arrived, or the clip is complete

	end     time.Duration // packets decoded at or after it are not the clip's
	shownTo time.Duration // the latest presentation time queued
	queue   []entry       // packets to write
	done    bool          // takes no more packets
	w       *writer       // the writer goroutine's; set at start
}

func (cl *clip) signal() {
	select {
	case cl.wake <- struct{}{}:
	default:
	}
}

// Trigger asks for a clip around at, a time on the frames' timeline
// (video.Frame.PTS; an event's pts_ms), and returns the file it will be
// written to: a new clip's, or that of the clip it extends. The file
// exists once the clip event says so. A failure is also published as an
// output_error event.
func (c *Clips) Trigger(reason string, at time.Duration) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return "", ErrClosed
	case c.stream == nil:
		err := fmt.Errorf("clip for %q not written: %w", reason, errNoVideo)
		c.report(err)
		return "", err
	}
	if cl := c.extendable(at); cl != nil {
		cl.end = max(cl.end, at+c.cfg.Post)
		return cl.file, nil
	}
	cl, err := c.start(reason, at)
	if err != nil {
		err = fmt.Errorf("clip for %q not written: %w", reason, err)
		c.fail(err)
		return "", err
	}
	c.wg.Add(1)
	go c.write(cl)
	return cl.file, nil
}

// TriggerNow asks for a clip around the newest video received (SIGUSR2,
// a key in the app).
func (c *Clips) TriggerNow(reason string) (string, error) {
	c.mu.Lock()
	at := c.newest
	c.mu.Unlock()
	return c.Trigger(reason, at)
}

// Triggers returns a sink that asks for a clip around the frame of each
// event of the given types (default: alert); line_cross, zone_enter and
// zone_exit may be added. The reason is the rule, or the line or zone and
// what happened.
func (c *Clips) Triggers(types ...string) event.Sink {
	if len(types) == 0 {
		types = []string{event.TypeAlert}
	}
	want := map[string]bool{}
	for _, t := range types {
		want[t] = true
	}
	return event.SinkFunc(func(e event.Event) {
		if !want[e.Head().Type] {
			return
		}
		if reason, at, ok := triggerOf(e); ok {
			c.Trigger(reason, at) // a failure is published by Trigger
		}
	})
}

// triggerOf is the reason and the time of a clip asked for by e.
func triggerOf(e event.Event) (string, time.Duration, bool) {
	var reason string
	var at event.At
	switch e := e.(type) {
	case *event.Alert:
		reason, at = e.Rule, e.At
	case *event.LineCross:
		reason, at = e.Line+" "+e.Direction, e.At
	case *event.ZoneEnter:
		reason, at = e.Zone+" enter", e.At
	case *event.ZoneExit:
		reason, at = e.Zone+" exit", e.At
	default:
		return "", 0, false
	}
	return reason, time.Duration(at.PTSMS * float64(time.Millisecond)), true
}

// extendable is the running clip a trigger at `at` overlaps and may
// extend, or nil.
func (c *Clips) extendable(at time.Duration) *clip {
	for _, cl := range c.running {
		if !cl.done && at-c.cfg.Pre <= cl.end && at+c.cfg.Post-(cl.at-c.cfg.Pre) <= c.cfg.MaxLength {
			return cl
		}
	}
	return nil
}

// start creates a clip around at and hands it what the ring holds from
// the last keyframe at or before at − Pre (or the ring's first, when
// the ring does not reach that far back).
func (c *Clips) start(reason string, at time.Duration) (*clip, error) {
	if len(c.ring) > 0 && at+c.cfg.Post <= c.ring[0].dts {
		return nil, fmt.Errorf("it asks for video up to %v, but the ring keeps it from %v on (analysis lagging more than Slack?)",
			(at + c.cfg.Post).Round(time.Millisecond), c.ring[0].dts.Round(time.Millisecond))
	}
	file := c.name(reason)
	w, err := newWriter(file, c.stream, c.cfg.create)
	if err != nil {
		delete(c.names, file)
		return nil, err
	}
	cl := &clip{file: file, reason: reason, at: at, wake: make(chan struct{}, 1), end: at + c.cfg.Post,
		shownTo: math.MinInt64, w: w}
	from := 0
	for i, e := range c.ring {
		if e.key && e.pts <= at-c.cfg.Pre {
			from = i
		}
	}
	for _, e := range c.ring[from:] {
		c.offer(cl, e)
	}
	if !cl.done {
		c.running = append(c.running, cl)
	}
	return cl, nil
}

// dropDone forgets the clips that take no more packets.
func (c *Clips) dropDone() {
	n := 0
	for _, cl := range c.running {
		if !cl.done {
			c.running[n] = cl
			n++
		}
	}
	clear(c.running[n:])
	c.running = c.running[:n]
}

// name is a free file name for a clip asked for now:
// clip-<camera>-<time>-<reason>.mp4, with -2, -3… when taken.
func (c *Clips) name(reason string) string {
	stamp := c.cfg.Clock.Now().Format("20060102-150405")
	base := fmt.Sprintf("clip-%s-%s-%s", safeName(c.cfg.Camera, "camera"), stamp, safeName(reason, "manual"))
	for n := 1; ; n++ {
		p := filepath.Join(c.cfg.Dir, base+".mp4")
		if n > 1 {
			p = filepath.Join(c.cfg.Dir, fmt.Sprintf("%s-%d.mp4", base, n))
		}
		if _, err := os.Lstat(p); c.names[p] || err == nil {
			continue
		}
		c.names[p] = true
		return p
	}
}

// safeName makes s a part of a file name: letters, digits, '.', '_' and
// '-' kept, every other run of characters one '-', at most 48 bytes.
func safeName(s, empty string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > 48 {
		out = strings.TrimRight(out[:48], "-.")
	}
	if out == "" {
		return empty
	}
	return out
}

// fail records a clip that could not be written (Err) and reports it.
func (c *Clips) fail(err error) {
	c.lastErr = err
	c.stats.Failed++
	c.report(err)
}

// report publishes a problem as an output_error event.
func (c *Clips) report(err error) {
	if c.cfg.Events != nil {
		c.cfg.Events.Publish(&event.OutputError{Header: event.Header{Type: event.TypeOutputError},
			Output: "clips", Error: text.OneLine(err.Error(), 0)})
	}
}

// Err is the last failure, nil when every clip so far was written.
func (c *Clips) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Stats reads the counters and the ring's size.
func (c *Clips) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Held, st.HeldBytes = len(c.ring), c.bytes
	if len(c.ring) > 0 {
		st.HeldSpan = c.newest - c.ring[0].pts
	}
	return st
}

// Close finalises the clips being written with what they have, waits for
// them, and frees the ring; it returns the last clip that failed (Err).
// Triggers after Close fail with ErrClosed.
func (c *Clips) Close() error {
	c.mu.Lock()
	c.closed = true
	c.endStream()
	c.mu.Unlock()
	c.wg.Wait()
	return c.Err()
}
