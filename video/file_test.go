package video

import (
	"context"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/video/videotest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		uri    string
		kind   Kind
		target string
		err    bool
	}{
		{uri: "clip.mp4", kind: KindFile, target: "clip.mp4"},
		{uri: "file:///tmp/a.avi", kind: KindFile, target: "/tmp/a.avi"},
		{uri: "webcam:0", kind: KindWebcam, target: "0"},
		{uri: "/dev/video2", kind: KindWebcam, target: "2"},
		{uri: "rtsp://cam/stream", kind: KindStream, target: "rtsp://cam/stream"},
		{uri: "rtsps://cam/stream", kind: KindStream, target: "rtsps://cam/stream"},
		{uri: "https://host/live.m3u8", kind: KindStream, target: "https://host/live.m3u8"},
		{uri: "ftp://host/a.mp4", err: true},
		{uri: "webcam:x", err: true},
		{uri: "", err: true},
	}
	for _, tt := range tests {
		kind, target, err := Parse(tt.uri)
		if tt.err {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("Parse(%q) error = %v, want ErrUnsupported", tt.uri, err)
			}
			continue
		}
		if err != nil || kind != tt.kind || target != tt.target {
			t.Errorf("Parse(%q) = %v, %q, %v; want %v, %q", tt.uri, kind, target, err, tt.kind, tt.target)
		}
	}
}

func TestFileEveryFrameInOrder(t *testing.T) {
	for _, backend := range []Backend{BackendAstiav, BackendGoCV} {
		t.Run([]string{"", "astiav", "gocv"}[backend], func(t *testing.T) {
			checkLeaks(t)
			log := newStatusLog()
			src, err := Open(context.Background(), demoVideo, Options{Backend: backend, OnStatus: log.add})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if in := src.Info(); in.Width != 768 || in.Height != 576 || in.FPS != 10 || in.Live {
				t.Errorf("Info = %+v", in)
			}
			n, lastPTS := int64(0), time.Duration(-1)
			for {
				f, err := src.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if f.Seq != n || f.PTS <= lastPTS || f.Mat.Cols() != 768 || f.Mat.Rows() != 576 {
					t.Fatalf("frame %d: Seq %d PTS %v (previous %v) size %dx%d", n, f.Seq, f.PTS, lastPTS, f.Mat.Cols(), f.Mat.Rows())
				}
				lastPTS = f.PTS
				n++
				f.Release()
			}
			if n != 795 || src.Stats().Read != 795 {
				t.Errorf("read %d frames (stats %d), want 795", n, src.Stats().Read)
			}
			if lastPTS != 79400*time.Millisecond {
				t.Errorf("last PTS %v, want 79.4s", lastPTS)
			}
			if !log.has(StatePlaying, "") || !log.has(StateEOF, "795 frames") {
				t.Errorf("statuses:%s", log)
			}
			if _, err := src.Next(context.Background()); !errors.Is(err, io.EOF) {
				t.Errorf("Next after the end = %v, want io.EOF", err)
			}
		})
	}
}

func TestFileRealtimePacing(t *testing.T) {
	src, err := Open(context.Background(), demoVideo, Options{Realtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	readN(t, src, 6, 5*time.Second) // frames 0..5 at 10 fps: 0.5 s
	if d := time.Since(start); d < 450*time.Millisecond || d > 2*time.Second {
		t.Errorf("6 frames at 10 fps took %v, want about 0.5 s", d)
	}
}

// A paused consumer (the app's Pause) resumes where it paused: the paced
// file does not fast-forward to catch up with the wall clock.
func TestFileRealtimeResumesWherePaused(t *testing.T) {
	src, err := Open(context.Background(), demoVideo, Options{Realtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	readN(t, src, 3, 5*time.Second)
	time.Sleep(1500 * time.Millisecond) // paused
	start := time.Now()
	readN(t, src, 6, 5*time.Second) // at 10 fps: 0.5 s, not a burst
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("6 frames after a pause took %v: the file fast-forwarded (want about 0.5 s)", d)
	}
}

// damagedCopy writes a copy of src changed by edit.
func damagedCopy(t *testing.T, src, name string, edit func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func flip(from, to float64) func([]byte) []byte {
	return func(b []byte) []byte {
		for i := int(float64(len(b)) * from); i < int(float64(len(b))*to); i += 7 {
			b[i] ^= 0xff
		}
		return b
	}
}

func truncate(frac float64) func([]byte) []byte {
	return func(b []byte) []byte { return b[:int(float64(len(b))*frac)] }
}

// TestFileDamaged plays what decodes from a broken file, reports the damage
// in a status and ends with EOF.
func TestFileDamaged(t *testing.T) {
	live := videotest.Live(t)
	tests := []struct {
		name, src, file string
		edit            func([]byte) []byte
		min, max        int64
	}{
		{"avi truncated", demoVideo, "vtest.avi", truncate(0.5), 300, 420},
		{"avi bytes flipped", demoVideo, "vtest.avi", flip(0.40, 0.42), 700, 795},
		{"mp4 truncated", live, "live.mp4", truncate(0.5), 300, 420},
		{"mp4 bytes flipped", live, "live.mp4", flip(0.50, 0.505), 600, 750},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			log := newStatusLog()
			src, err := Open(context.Background(), damagedCopy(t, tt.src, tt.file, tt.edit), Options{OnStatus: log.add})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var n int64
			for {
				f, err := src.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("after %d frames: %v", n, err)
				}
				n++
				f.Release()
			}
			if n < tt.min || n > tt.max {
				t.Errorf("decoded %d frames, want %d..%d", n, tt.min, tt.max)
			}
			log.mu.Lock()
			var eof, damaged int
			for _, s := range log.all {
				switch {
				case s.State == StateEOF:
					eof++
					if strings.Contains(s.Detail, "truncated") || strings.Contains(s.Detail, "decode error") {
						damaged++
					}
				case s.State == StatePlaying && strings.Contains(s.Detail, "damaged"):
					damaged++
				}
			}
			log.mu.Unlock()
			if eof != 1 || damaged == 0 {
				t.Errorf("want one eof and the damage reported; statuses:%s", log)
			}
			t.Logf("%d frames; statuses:%s", n, log)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	os.WriteFile(text, []byte(strings.Repeat("this is not a video\n", 200)), 0o644)
	headerOnly := damagedCopy(t, videotest.Live(t), "header.mp4", truncate(0.001))
	tests := []struct {
		name, uri, want string
		within          time.Duration
	}{
		{"missing file", filepath.Join(dir, "missing.mp4"), "no such file", time.Second},
		{"directory", dir, "is a directory", time.Second},
		{"text named .mp4", text, "not a video", 2 * time.Second},
		{"no decodable frame", headerOnly, "no frame could be decoded", 2 * time.Second},
		{"unsupported scheme", "ftp://127.0.0.1/a.mp4", "scheme \"ftp\"", time.Second},
		{"nobody listens", "rtsp://127.0.0.1:1/none", "no frame within 1.5s", 3 * time.Second},
		{"no webcam", "webcam:7", "no such camera", 2 * time.Second},
		{"no /dev/video", "/dev/video9", "no such camera", 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			log := newStatusLog()
			start := time.Now()
			src, err := Open(context.Background(), tt.uri, Options{OpenTimeout: 1500 * time.Millisecond, OnStatus: log.add})
			took := time.Since(start)
			if err == nil {
				src.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if took > tt.within {
				t.Errorf("took %v, want under %v", took, tt.within)
			}
			if !log.has(StateError, "") {
				t.Errorf("no error status:%s", log)
			}
			t.Logf("%v after %v", err, took.Round(time.Millisecond))
		})
	}
}

// TestOpenCancel: cancelling Open's context ends a hopeless opening at once.
func TestOpenCancel(t *testing.T) {
	checkLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, "rtsp://127.0.0.1:1/none", Options{OpenTimeout: time.Minute})
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("Open = %v after %v", err, time.Since(start))
	}
}

type nullPackets struct{}

func (nullPackets) StartStream(PacketStream)   {}
func (nullPackets) WritePacket(*astiav.Packet) {}
func (nullPackets) EndStream()                 {}

// A file opened with Scale delivers its pictures at the size Scale gives,
// scaled in FFmpeg from the decoder's pixels, close to what resizing the
// full-size picture gives, and says their size in the source; sizes that
// are not smaller, and sources whose packets are tapped, stay full.
func TestFileScaled(t *testing.T) {
	to := func(w, h int) func(int, int) image.Point { return func(int, int) image.Point { return image.Pt(w, h) } }
	tests := []struct {
		name     string
		opts     Options
		wantSize image.Point
		wantFull image.Point
	}{
		{"scaled to the model's letterbox", Options{Scale: to(416, 312)}, image.Pt(416, 312), image.Pt(768, 576)},
		{"not smaller: full size", Options{Scale: to(1000, 576)}, image.Pt(768, 576), image.Point{}},
		{"no Scale", Options{}, image.Pt(768, 576), image.Point{}},
		{"packets tapped: full size", Options{Scale: to(416, 312), Packets: nullPackets{}}, image.Pt(768, 576), image.Point{}},
	}
	full, err := Open(context.Background(), demoVideo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	reference, err := full.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer reference.Release()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(context.Background(), demoVideo, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if in := src.Info(); in.Width != 768 || in.Height != 576 {
				t.Errorf("Info %dx%d, want the source's 768x576", in.Width, in.Height)
			}
			f, err := src.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Release()
			if size := image.Pt(f.Mat.Cols(), f.Mat.Rows()); size != tt.wantSize || f.Full != tt.wantFull {
				t.Fatalf("frame %v standing for %v, want %v standing for %v", size, f.Full, tt.wantSize, tt.wantFull)
			}
			if f.FullSize() != image.Pt(768, 576) {
				t.Errorf("FullSize %v, want 768x576", f.FullSize())
			}
			resized := gocv.NewMat()
			defer resized.Close()
			gocv.Resize(reference.Mat, &resized, tt.wantSize, 0, 0, gocv.InterpolationLinear)
			// FFmpeg's bilinear filter averages the area it shrinks, where
			// OpenCV's samples four pixels: a couple of levels apart.
			if d := meanAbsDiff(f.Mat, resized); d > 3 {
				t.Errorf("the picture differs from the full one resized by %.2f levels on average", d)
			}
		})
	}
}

// meanAbsDiff is the mean absolute difference of two pictures' bytes.
func meanAbsDiff(a, b gocv.Mat) float64 {
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(a, b, &diff)
	s := diff.Mean()
	return (s.Val1 + s.Val2 + s.Val3) / 3
}
