package video

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/mats"
)

// sinkLog records what a PacketSink is told.
type sinkLog struct {
	mu      sync.Mutex
	streams []PacketStream
	codecs  []astiav.CodecID
	extra   []int // extradata bytes of each stream
	packets [][]packetSeen
	ends    int
}

type packetSeen struct {
	pts int64
	key bool
}

func (l *sinkLog) StartStream(s PacketStream) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.streams = append(l.streams, s)
	l.codecs = append(l.codecs, s.Params.CodecID())
	l.extra = append(l.extra, len(s.Params.ExtraData()))
	l.packets = append(l.packets, nil)
}

func (l *sinkLog) WritePacket(p *astiav.Packet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.packets) - 1
	l.packets[i] = append(l.packets[i], packetSeen{pts: p.Pts(), key: p.Flags().Has(astiav.PacketFlagKey)})
}

func (l *sinkLog) EndStream() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends++
}

// rawConn stands in for a webcam: n moving 320×240 pictures, 40 ms apart.
type rawConn struct {
	pool *mats.Pool
	i, n int
}

func (c *rawConn) info() Info { return Info{Width: 320, Height: 240, FPS: 25, Live: true} }
func (c *rawConn) close()     {}
func (c *rawConn) read() (gocv.Mat, time.Duration, error) {
	if c.i == c.n {
		return gocv.Mat{}, 0, errors.New("camera unplugged")
	}
	m := c.pool.Get(240, 320)
	m.SetTo(gocv.NewScalar(float64(c.i*5%255), 90, 160, 0))
	gocv.PutText(&m, strconv.Itoa(c.i), image.Pt(10+c.i%250, 130), gocv.FontHersheySimplex, 1.5, color.RGBA{255, 255, 255, 0}, 2)
	pts := time.Duration(c.i) * 40 * time.Millisecond
	c.i++
	time.Sleep(2 * time.Millisecond) // a camera delivers at its pace; the encoder keeps up
	return m, pts, nil
}

// Webcam frames arrive raw: each connection's are encoded once, to H.264
// with its headers out of band (an MP4 muxer needs them), starting on a
// keyframe with one a second, as a stream of its own that ends when the
// connection closes.
func TestWebcamFramesEncodedForSink(t *testing.T) {
	checkLeaks(t)
	sink := &sinkLog{}
	dial := encodedFor(sink, func(context.Context, time.Time, *mats.Pool, *damage) (conn, error) {
		return &rawConn{pool: &mats.Pool{}, n: 60}, nil
	})
	for range 2 { // a reconnection
		c, err := dial(context.Background(), time.Now().Add(time.Second), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for {
			m, _, err := c.read()
			if err != nil {
				break
			}
			m.Close()
		}
		c.close()
	}
	if len(sink.streams) != 2 || sink.ends != 2 {
		t.Fatalf("%d streams started and %d ended, want 2 and 2", len(sink.streams), sink.ends)
	}
	for i, pkts := range sink.packets {
		keys := 0
		for j, p := range pkts {
			if p.key {
				keys++
			}
			if j > 0 && p.pts <= pkts[j-1].pts {
				t.Errorf("stream %d: packet %d at %d after %d", i, j, p.pts, pkts[j-1].pts)
			}
		}
		t.Logf("stream %d: %s, %d bytes of extradata, %d packets, %d keyframes", i, sink.codecs[i], sink.extra[i], len(pkts), keys)
		if len(pkts) < 50 || !pkts[0].key || keys < 2 || sink.extra[i] == 0 {
			t.Errorf("stream %d: %d packets, first key %v, %d keyframes, %d bytes of extradata: want ≥ 50 packets "+
				"from a keyframe, one a second, headers out of band", i, len(pkts), len(pkts) > 0 && pkts[0].key, keys, sink.extra[i])
		}
	}
}

// Without a sink, a webcam's connections are not wrapped: nothing is
// encoded.
func TestNoSinkNoEncoder(t *testing.T) {
	var d dialer = func(context.Context, time.Time, *mats.Pool, *damage) (conn, error) { return &rawConn{}, nil }
	c, _ := encodedFor(nil, d)(context.Background(), time.Time{}, nil, nil)
	if _, wrapped := c.(*encodingConn); wrapped {
		t.Error("a connection was wrapped in an encoder without a sink")
	}
}

// A PacketEncoder's stream follows the frames' timeline: a new size or
// a clock that jumps back (a file looping, another source) starts a new
// stream; a little jitter does not.
func TestPacketEncoderStreams(t *testing.T) {
	ms := time.Millisecond
	type pic struct {
		w   int
		pts time.Duration
	}
	tests := []struct {
		name    string
		pics    []pic
		streams int
	}{
		{"steady", []pic{{320, 0}, {320, 40 * ms}, {320, 80 * ms}}, 1},
		{"jitter", []pic{{320, 0}, {320, 40 * ms}, {320, 40 * ms}, {320, 39 * ms}}, 1},
		{"new size", []pic{{320, 0}, {320, 40 * ms}, {160, 80 * ms}}, 2},
		{"clock back", []pic{{320, 5 * time.Second}, {320, 5*time.Second + 40*ms}, {320, 0}, {320, 40 * ms}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			sink := &sinkLog{}
			enc := NewPacketEncoder(sink, 25)
			for _, p := range tt.pics {
				m := gocv.NewMatWithSize(240, p.w, gocv.MatTypeCV8UC3)
				enc.EncodeWait(m, p.pts)
				m.Close()
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, pkts := range sink.packets {
				n += len(pkts)
			}
			if len(sink.streams) != tt.streams || sink.ends != tt.streams || n != len(tt.pics) || enc.Dropped() != 0 {
				t.Errorf("%d streams (%d ended), %d packets, %d dropped; want %d streams, %d packets",
					len(sink.streams), sink.ends, n, enc.Dropped(), tt.streams, len(tt.pics))
			}
		})
	}
}

// nullSink takes packets and forgets them.
type nullSink struct{}

func (nullSink) StartStream(PacketStream)   {}
func (nullSink) WritePacket(*astiav.Packet) {}
func (nullSink) EndStream()                 {}

// BenchmarkPacketEncoder1080p is what a webcam's clips (or annotated
// clips) cost: encoding each 1080p picture once, in CPU time per picture
// (the encoder's threads included) and as the rate it sustains.
//
//	go test -run - -bench PacketEncoder1080p -benchtime 150x ./video/
func BenchmarkPacketEncoder1080p(b *testing.B) {
	// A second of a moving scene with some grain, as a camera's, made
	// beforehand: making grain costs more than encoding it.
	pics := make([]gocv.Mat, 30)
	noise := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	defer noise.Close()
	for i := range pics {
		pics[i] = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(60, 90, 120, 0), 1080, 1920, gocv.MatTypeCV8UC3)
		defer pics[i].Close()
		gocv.Rectangle(&pics[i], image.Rect(100+i*40, 300, 300+i*40, 700), color.RGBA{200, 200, 200, 0}, -1)
		gocv.RandN(&noise, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(6, 6, 6, 0))
		gocv.Add(pics[i], noise, &pics[i])
	}
	enc := NewPacketEncoder(nullSink{}, 30)
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		enc.EncodeWait(pics[i%len(pics)], time.Duration(i)*33*time.Millisecond)
		i++
	}
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pictures/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/picture")
}
