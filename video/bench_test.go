package video

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/video/videotest"
)

// hdFile is vtest.avi scaled to 1280×720 H.264 (795 frames).
func hdFile(b *testing.B) string {
	return videotest.Make(b, "vtest720-v1.mp4", "-i", demoVideo, "-vf", "scale=1280:720", "-c:v", "libx264",
		"-preset", "veryfast", "-pix_fmt", "yuv420p")
}

// decodeAll decodes every frame of path into BGR Mats and returns the rate.
func decodeAll(b *testing.B, path string, backend Backend) (frames int, fps float64) {
	start := time.Now()
	src, err := Open(context.Background(), path, Options{Backend: backend})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	for {
		f, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		frames++
		f.Release()
	}
	return frames, float64(frames) / time.Since(start).Seconds()
}

// BenchmarkDecode720p decodes the same 720p H.264 file to BGR Mats with
// go-astiav and with GoCV's VideoCapture, alternating, and reports both
// rates and their ratio.
//
//	go test -run - -bench Decode720p -benchtime 3x ./video/
func BenchmarkDecode720p(b *testing.B) {
	path := hdFile(b)
	var av, cv float64
	n := 0
	for b.Loop() {
		_, a := decodeAll(b, path, BackendAstiav)
		_, c := decodeAll(b, path, BackendGoCV)
		av, cv, n = av+a, cv+c, n+1
	}
	b.ReportMetric(av/float64(n), "astiav-fps")
	b.ReportMetric(cv/float64(n), "gocv-fps")
	b.ReportMetric(av/cv, "astiav/gocv")
}

// BenchmarkRTSPLatency measures, per frame, the time from the server
// releasing it to the payloader (GStreamer's clock-synchronised send time,
// printed by the server) to the reader delivering it decoded (Frame.Arrived),
// over 8 s of a 640×360 25 fps stream on loopback, matched by PTS. The
// first 25 frames are left out (start-up burst).
//
//	go test -run - -bench RTSPLatency -benchtime 1x ./video/
func BenchmarkRTSPLatency(b *testing.B) {
	file := videotest.Live(b)
	cases := []struct {
		name string
		opts Options
	}{
		{"tcp-ffmpeg-defaults", Options{Buffered: true}},
		{"tcp-low-delay", Options{}},
		{"udp-low-delay", Options{Transport: "udp"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p50, p95, matched := rtspLatency(b, file, c.opts)
				b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(matched), "frames")
			}
		})
	}
}

func rtspLatency(b *testing.B, file string, opts Options) (p50, p95 time.Duration, n int) {
	srv := videotest.StartRTSP(b, videotest.FreePort(b), file, true)
	defer srv.Kill()
	opts.OpenTimeout = 10 * time.Second
	src, err := Open(context.Background(), srv.URL(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var lat []time.Duration
	for {
		f, err := src.Next(ctx)
		if err != nil {
			break
		}
		// The server prints the PTS of what it sends: the file's, which
		// the stream carries to us.
		if sent, ok := srv.SentAt(f.PTS.Round(time.Millisecond)); ok && f.Seq >= 25 {
			lat = append(lat, f.Arrived.Sub(sent))
		}
		f.Release()
	}
	if len(lat) < 50 {
		b.Fatalf("only %d frames matched a send time", len(lat))
	}
	slices.Sort(lat)
	return lat[len(lat)/2], lat[len(lat)*95/100], len(lat)
}

// BenchmarkSlowConsumerDrops reads a 25 fps stream for 10 s with a consumer
// that needs 100 ms a frame, and reports the frames dropped per minute and
// the age of what it was given.
//
//	go test -run - -bench SlowConsumerDrops -benchtime 1x ./video/
func BenchmarkSlowConsumerDrops(b *testing.B) {
	file := videotest.Live(b)
	for b.Loop() {
		srv := videotest.StartRTSP(b, videotest.FreePort(b), file, false)
		src, err := Open(context.Background(), srv.URL(), Options{OpenTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		start, got := time.Now(), 0
		var maxAge time.Duration
		for time.Since(start) < 10*time.Second {
			f, err := src.Next(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			maxAge = max(maxAge, time.Since(f.Arrived))
			time.Sleep(100 * time.Millisecond)
			f.Release()
			got++
		}
		st := src.Stats()
		min := time.Since(start).Minutes()
		src.Close()
		srv.Kill()
		b.ReportMetric(float64(st.Dropped)/min, "drops/min")
		b.ReportMetric(float64(got)/min/60, "consumed-fps")
		b.ReportMetric(float64(maxAge.Microseconds())/1000, "max-age-ms")
	}
}

// BenchmarkRecorder records the demo video (795 frames, 768×576) from
// decoded Mats and reports the file's bytes a frame and the CPU time a
// frame (user + system: steadier than wall time on a shared machine).
// Run on a commit before fragmented recording, it gives the baseline.
//
//	go test -run - -bench Recorder -benchtime 3x ./video/
func BenchmarkRecorder(b *testing.B) {
	src, err := Open(context.Background(), demoVideo, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var frames []*Frame
	for {
		f, err := src.Next(context.Background())
		if err != nil {
			break
		}
		kept := f.Mat.Clone() // past the source's pool
		f.Release()
		f.Mat = kept
		frames = append(frames, f)
	}
	src.Close()
	defer func() {
		for _, f := range frames {
			f.Release()
		}
	}()
	var cpu time.Duration
	var size int64
	path := filepath.Join(b.TempDir(), "bench.mp4")
	for b.Loop() {
		before := cpuTime()
		rec, err := NewRecorder(path, 768, 576, 10)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range frames {
			if err := rec.Write(f.Mat, f.PTS); err != nil {
				b.Fatal(err)
			}
		}
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - before
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = st.Size()
	}
	b.ReportMetric(float64(size)/float64(len(frames)), "bytes/frame")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N*len(frames)), "cpu-ms/frame")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}
