package clip

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
)

// camera1080p is 12 s of 1080p30 H.264 at a camera's rate: 6 Mbit/s, a
// keyframe a second, no B-frames (grain keeps the encoder spending the
// bits a real scene would).
func camera1080p(b testing.TB) string {
	return videotest.Make(b, "cam1080p30-6M-v1.mp4", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
		"-vf", "noise=alls=12:allf=t", "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bf", "0",
		"-b:v", "6M", "-maxrate", "6M", "-bufsize", "6M", "-pix_fmt", "yuv420p")
}

// demux reads path's video packets, announcing its stream to sink first;
// each gets every packet, which is unreferenced after the call.
func demux(b testing.TB, path string, sink video.PacketSink, each func(*astiav.Packet)) {
	b.Helper()
	fc := astiav.AllocFormatContext()
	defer fc.Free()
	if err := fc.OpenInput(path, nil, nil); err != nil {
		b.Fatal(err)
	}
	defer fc.CloseInput()
	if err := fc.FindStreamInfo(nil); err != nil {
		b.Fatal(err)
	}
	st := fc.Streams()[0]
	sink.StartStream(video.PacketStream{Params: st.CodecParameters(), TimeBase: st.TimeBase(), FrameRate: st.AvgFrameRate()})
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		err := fc.ReadFrame(pkt)
		if errors.Is(err, astiav.ErrEof) {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
		if pkt.StreamIndex() == st.Index() {
			each(pkt)
		}
		pkt.Unref()
	}
}

// rssMiB is the process's resident memory.
func rssMiB(b testing.TB) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkRingMemory1080p30 measures what the ring holds for 10 s of
// pre-roll (Pre 5 s + Slack 5 s) of a 1080p30 camera at 6 Mbit/s: the
// packets' bytes, the resident memory it adds (the demuxer's packets are
// the ring's only reference; a first reading without the ring warms the
// allocator), and the Go heap its bookkeeping takes.
//
//	go test -run - -bench RingMemory -benchtime 1x ./internal/clip/
func BenchmarkRingMemory1080p30(b *testing.B) {
	path := camera1080p(b)
	// A first reading without the ring, so that what the demuxer itself
	// allocates (and the C allocator keeps) is not counted as the ring's.
	warm, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	demux(b, path, warm, func(*astiav.Packet) {})
	warm.Close()
	for b.Loop() {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		rss0 := rssMiB(b)
		clips, err := New(Config{Dir: b.TempDir(), Pre: 5 * time.Second, Slack: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		demux(b, path, clips, clips.WritePacket)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		st := clips.Stats()
		b.ReportMetric(float64(st.HeldBytes)/(1<<20), "ring-MiB")
		b.ReportMetric(rssMiB(b)-rss0, "rss-delta-MiB")
		b.ReportMetric(float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/1024, "go-heap-KiB")
		b.ReportMetric(float64(st.Held), "packets")
		b.ReportMetric(st.HeldSpan.Seconds(), "span-s")
		clips.Close()
	}
}

// BenchmarkRingPerFrame is the CPU the ring costs per 1080p30 frame (one
// packet): referencing it, and dropping the GOP that ages out. The 12 s
// file loops with its timestamps shifted on, so the ring stays full.
//
//	go test -run - -bench RingPerFrame ./internal/clip/
func BenchmarkRingPerFrame(b *testing.B) {
	path := camera1080p(b)
	clips, err := New(Config{Dir: b.TempDir(), Pre: 5 * time.Second, Slack: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer clips.Close()
	var pkts []*astiav.Packet
	demux(b, path, clips, func(p *astiav.Packet) { pkts = append(pkts, p.Clone()) })
	defer func() {
		for _, p := range pkts {
			p.Free()
		}
	}()
	span := pkts[len(pkts)-1].Pts() + pkts[len(pkts)-1].Duration() - pkts[0].Pts()
	pts := make([]int64, len(pkts))
	for i, p := range pkts {
		pts[i] = p.Pts()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pkts[i%len(pkts)]
		ts := pts[i%len(pkts)] + int64(i/len(pkts))*span
		p.SetPts(ts)
		p.SetDts(ts)
		clips.WritePacket(p)
	}
	b.StopTimer()
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perFrame/1000, "µs/frame")
	b.ReportMetric(perFrame*30/1e9*100, "%core-at-30fps")
}

// BenchmarkDemuxPerFrame is the baseline: what reading the same packets
// from the file costs, without the ring.
//
//	go test -run - -bench DemuxPerFrame ./internal/clip/
func BenchmarkDemuxPerFrame(b *testing.B) {
	path := camera1080p(b)
	clips, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer clips.Close()
	n := 0
	for b.Loop() {
		demux(b, path, clips, func(*astiav.Packet) { n++ })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/1000, "µs/frame")
}

// readAll decodes every frame of path, with the ring when clips is not
// nil, and returns the rate.
func readAll(b *testing.B, path string, clips *Clips) float64 {
	o := video.Options{}
	if clips != nil {
		o.Packets = clips
	}
	start := time.Now()
	src, err := video.Open(b.Context(), path, o)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		f, err := src.Next(b.Context())
		if err != nil {
			break
		}
		n++
		f.Release()
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkReadWithRing decodes the 1080p30 file as the pipeline does,
// with and without the ring, alternating, and reports both rates and
// their ratio: what keeping clips costs the frame loop.
//
//	go test -run - -bench ReadWithRing -benchtime 3x ./internal/clip/
func BenchmarkReadWithRing(b *testing.B) {
	path := camera1080p(b)
	clips, err := New(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer clips.Close()
	var with, without float64
	n := 0
	for b.Loop() {
		without += readAll(b, path, nil)
		with += readAll(b, path, clips)
		n++
	}
	b.ReportMetric(without/float64(n), "fps-without")
	b.ReportMetric(with/float64(n), "fps-with-ring")
	b.ReportMetric(with/without, "ratio")
}
