package clip

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/sightline/sightline/video"
)

// entry is one packet of the stream: the ring's or a clip's own reference,
// its timestamps always set (synthesised when the source left them out),
// and where it falls on the frames' timeline (video.Frame.PTS).
type entry struct {
	pkt      *astiav.Packet
	pts, dts time.Duration
	dur      time.Duration
	key      bool
}

func (e entry) free() {
	e.pkt.Free()
	avObjects.Add(-1)
}

// avObjects counts the FFmpeg objects this package holds (packet
// references, codec parameters, muxers), so tests can prove none leaks.
var avObjects atomic.Int64

// clone references pkt; nil when FFmpeg is out of memory.
func clone(pkt *astiav.Packet) *astiav.Packet {
	p := pkt.Clone()
	if p != nil {
		avObjects.Add(1)
	}
	return p
}

// copyParams copies codec parameters; freeParams frees the copy.
func copyParams(src *astiav.CodecParameters) (*astiav.CodecParameters, error) {
	p := astiav.AllocCodecParameters()
	if err := src.Copy(p); err != nil {
		p.Free()
		return nil, err
	}
	avObjects.Add(1)
	return p, nil
}

func freeParams(p *astiav.CodecParameters) {
	p.Free()
	avObjects.Add(-1)
}

// stream is the stream the ring is receiving.
type stream struct {
	params   *astiav.CodecParameters // the ring's copy
	tb       astiav.Rational
	start    int64 // in tb: Frame.PTS 0
	frameDur int64 // in tb: one frame at the nominal rate
	lastDTS  int64 // in tb, of the last packet; NoPtsValue before the first
}

var _ video.PacketSink = (*Clips)(nil)

// nanos is the time base of time.Duration.
var nanos = astiav.NewRational(1, int(time.Second))

func (s *stream) at(ts int64) time.Duration {
	return time.Duration(astiav.RescaleQ(ts-s.start, s.tb, nanos))
}

// StartStream begins a new stream: whatever the ring held of the previous
// one is dropped, since a clip never mixes two streams (their codec
// parameters may differ).
func (c *Clips) StartStream(s video.PacketStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endStream()
	if c.closed {
		return
	}
	params, err := copyParams(s.Params)
	if err != nil {
		c.fail(fmt.Errorf("clips off for this stream: copying its codec parameters: %w", err))
		return
	}
	frameDur := int64(0)
	if r := s.FrameRate; r.Num() > 0 && r.Den() > 0 {
		frameDur = astiav.RescaleQ(1, astiav.NewRational(r.Den(), r.Num()), s.TimeBase)
	}
	if frameDur <= 0 {
		frameDur = astiav.RescaleQ(int64(40*time.Millisecond), nanos, s.TimeBase) // 25 fps
	}
	c.newest = 0 // Frame.PTS starts again
	c.stream = &stream{params: params, tb: s.TimeBase, start: s.Start, frameDur: max(1, frameDur), lastDTS: astiav.NoPtsValue}
}

// WritePacket keeps a reference to pkt in the ring and hands one to each
// clip still taking packets.
func (c *Clips) WritePacket(pkt *astiav.Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream == nil {
		return
	}
	e, ok := c.entryOf(pkt)
	if !ok {
		return
	}
	c.stats.Packets++
	c.newest = max(c.newest, e.pts)
	for _, cl := range c.running {
		c.offer(cl, e)
	}
	c.dropDone()
	if len(c.ring) == 0 && !e.key {
		e.free() // a ring starts on a keyframe: what comes before one cannot be decoded
		return
	}
	c.ring = append(c.ring, e)
	c.bytes += e.pkt.Size()
	c.evict()
}

// EndStream ends the clips being written (they are finalised with what
// they have) and empties the ring.
func (c *Clips) EndStream() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endStream()
}

func (c *Clips) endStream() {
	for _, cl := range c.running {
		cl.done = true
		cl.signal()
	}
	c.running = nil
	c.dropFront(len(c.ring))
	if c.stream != nil {
		freeParams(c.stream.params)
		c.stream = nil
	}
}

// entryOf references pkt, filling in the timestamps a source left out
// (RTSP's first picture has none): the decode time follows the previous
// packet by a frame, the presentation time is the decode time.
func (c *Clips) entryOf(pkt *astiav.Packet) (entry, bool) {
	s := c.stream
	p := clone(pkt)
	if p == nil {
		return entry{}, false
	}
	pts, dts := p.Pts(), p.Dts()
	if dts == astiav.NoPtsValue {
		dts = pts
	}
	if dts == astiav.NoPtsValue {
		dts = s.start - s.frameDur
		if s.lastDTS != astiav.NoPtsValue {
			dts = s.lastDTS + s.frameDur
		}
	}
	if pts == astiav.NoPtsValue {
		pts = dts
	}
	if p.Duration() <= 0 {
		p.SetDuration(s.frameDur)
	}
	p.SetPts(pts)
	p.SetDts(dts)
	s.lastDTS = dts
	return entry{pkt: p, pts: s.at(pts), dts: s.at(dts), dur: s.at(s.start + p.Duration()),
		key: p.Flags().Has(astiav.PacketFlagKey)}, true
}

// offer gives a running clip its own reference to e, or tells it that it
// is complete: once packets are decoded at or after the clip's end, the
// first that is not shown before a picture the clip has is not the
// clip's. (With B-frames a picture the clip ends on may be decoded
// before pictures shown earlier: those come too, or the clip would
// freeze over the gap.)
func (c *Clips) offer(cl *clip, e entry) {
	if cl.done {
		return
	}
	if e.dts >= cl.end && e.pts >= cl.shownTo {
		cl.done = true
		cl.signal()
		return
	}
	ref := e
	if ref.pkt = clone(e.pkt); ref.pkt == nil {
		return
	}
	cl.shownTo = max(cl.shownTo, e.pts)
	cl.queue = append(cl.queue, ref)
	cl.signal()
}

// evict keeps the ring to what a trigger can still ask for: from the
// last keyframe at or before newest − (Pre + Slack), and at most MaxBytes.
// It drops whole GOPs from the front, so the ring always starts on a
// keyframe.
func (c *Clips) evict() {
	horizon := c.newest - c.cfg.Pre - c.cfg.Slack
	for {
		next := c.nextKey()
		if next < 0 || (c.ring[next].pts > horizon && c.bytes <= c.cfg.MaxBytes) {
			break
		}
		c.dropFront(next)
	}
	if c.bytes > c.cfg.MaxBytes {
		// One GOP larger than the bound: nothing of it can be kept whole.
		c.stats.Overflows++
		c.dropFront(len(c.ring))
	}
}

// nextKey is the index of the ring's second keyframe, or -1.
func (c *Clips) nextKey() int {
	for i := 1; i < len(c.ring); i++ {
		if c.ring[i].key {
			return i
		}
	}
	return -1
}

// dropFront frees the ring's first n packets.
func (c *Clips) dropFront(n int) {
	for i := range n {
		c.bytes -= c.ring[i].pkt.Size()
		c.ring[i].free()
		c.ring[i] = entry{}
	}
	c.stats.Evicted += int64(n)
	c.ring = c.ring[n:]
	if len(c.ring) == 0 {
		c.ring = c.ring[:0:0] // let the old array go
	}
}
