package video

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/imagefile"
	"github.com/sightline/sightline/internal/imagefile/imagetest"
	"github.com/sightline/sightline/video/videotest"
)

// TestStillSources (issue 19 item 7): a picture, as an image file or a
// video file of one frame, opens as a still: one frame, then io.EOF.
func TestStillSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	messi, err := os.ReadFile("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		w, h       int
		damaged    bool
	}{
		{"jpeg", write("photo.jpg", messi), 548, 342, false},
		{"png without extension", write("capture", imagetest.PNG(t, 320, 200)), 320, 200, false},
		{"truncated jpeg", write("cut.jpg", imagetest.Cut(messi, 0.6)), 548, 342, true},
		{"one-frame mp4", videotest.Make(t, "one-frame-v1.mp4", "-i", demoVideo, "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"), 768, 576, false},
		{"one-frame gif", videotest.Make(t, "one-frame-v1.gif", "-i", demoVideo, "-frames:v", "1"), 768, 576, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			log := newStatusLog()
			src, err := Open(context.Background(), tt.path, Options{OnStatus: log.add})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if in := src.Info(); !in.Still || in.Live || in.Width != tt.w || in.Height != tt.h {
				t.Errorf("Info = %+v, want a %d×%d still", in, tt.w, tt.h)
			}
			f, err := src.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if f.Mat.Cols() != tt.w || f.Mat.Rows() != tt.h || f.Seq != 0 {
				t.Errorf("frame %d: %d×%d", f.Seq, f.Mat.Cols(), f.Mat.Rows())
			}
			f.Release()
			for range 2 {
				if f, err := src.Next(context.Background()); !errors.Is(err, io.EOF) {
					f.Release()
					t.Fatalf("Next after the picture = %v, want io.EOF", err)
				}
			}
			if st := src.Stats(); st.Read != 1 {
				t.Errorf("Stats = %+v, want 1 read", st)
			}
			if !log.has(StatePlaying, "") || !log.has(StateEOF, "") {
				t.Errorf("statuses:%s", log)
			}
			if tt.damaged != log.has(StatePlaying, "image is truncated") {
				t.Errorf("damage reported %v, want %v:%s", !tt.damaged, tt.damaged, log)
			}
		})
	}
}

// TestStillRefused: a hostile picture fails to open with the decoder's
// reason; a video is not a still.
func TestStillRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.png")
	if err := os.WriteFile(path, imagetest.PNGDeclaring(t, 50000, 50000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), path, Options{}); !errors.Is(err, imagefile.ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open = %v, want too large, naming the file", err)
	}
	src, err := Open(context.Background(), demoVideo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Info().Still {
		t.Error("the demo video opened as a still")
	}
	if seqs := readN(t, src, 3, 5*time.Second); seqs[0] != 0 || seqs[2] != 2 {
		t.Errorf("Seq %v, want 0 1 2: the frame decoded ahead is delivered in order", seqs)
	}
}

// TestHugeVideoRefused: a video whose pictures are over the decoder's
// limit fails to open with a reason, like a huge image, instead of taking
// gigabytes a frame.
func TestHugeVideoRefused(t *testing.T) {
	checkLeaks(t)
	path := videotest.Make(t, "huge-51mp-v1.mkv", "-f", "lavfi", "-i", "color=c=blue:s=10000x5100", "-frames:v", "2", "-c:v", "png")
	src, err := Open(context.Background(), path, Options{})
	if err == nil {
		src.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "10000×5100 px") {
		t.Errorf("Open = %v, want the picture size refused", err)
	}
}
