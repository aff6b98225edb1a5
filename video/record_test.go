package video

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// probe returns ffprobe's codec name and counted frames of path.
func probe(t *testing.T, path string) (codec string, frames string) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 2 {
		t.Fatalf("ffprobe output %q", out)
	}
	return f[0], f[1]
}

func TestRecorder(t *testing.T) {
	checkLeaks(t)
	src, err := Open(context.Background(), demoVideo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "out.mp4")
	in := src.Info()
	rec, err := NewRecorder(path, in.Width, in.Height, in.FPS)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		f, err := src.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Write(f.Mat, f.PTS); err != nil {
			t.Fatal(err)
		}
		f.Release()
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Write(gocv.NewMat(), 0); err == nil {
		t.Error("Write after Close succeeded")
	}
	codec, frames := probe(t, path)
	if codec != "h264" && codec != "mpeg4" || frames != "30" {
		t.Errorf("recorded %s frames of %s, want 30 of h264 or mpeg4", frames, codec)
	}
	// Read back through our own reader too.
	back, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if bi := back.Info(); bi.Width != 768 || bi.Height != 576 || bi.FPS != 10 {
		t.Errorf("recorded Info = %+v", bi)
	}
}

// TestRecorderCancel: a recording stopped by a cancelled context, with
// timestamps that jump back (a reconnect), is still a playable file.
func TestRecorderCancel(t *testing.T) {
	checkLeaks(t)
	path := filepath.Join(t.TempDir(), "cancelled.mp4")
	rec, err := NewRecorder(path, 320, 240, 25)
	if err != nil {
		t.Fatal(err)
	}
	m := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n := 0
		for ; ctx.Err() == nil; n++ {
			m.SetTo(gocv.NewScalar(float64(n%255), 80, 160, 0))
			pts := time.Duration(n%20) * 40 * time.Millisecond // restarts every 20 frames
			if err := rec.Write(m, pts); err != nil {
				t.Error(err)
				break
			}
			if n == 44 {
				cancel()
			}
		}
		done <- n
	}()
	n := <-done
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if _, frames := probe(t, path); frames != "45" || n != 45 {
		t.Errorf("wrote %d, file has %s frames", n, frames)
	}
	if _, err := NewRecorder(filepath.Join(t.TempDir(), "nodir", "x.mp4"), 320, 240, 25); err == nil {
		t.Error("NewRecorder in a missing folder succeeded")
	}
}

func TestSaveSnapshot(t *testing.T) {
	clean := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 255, 0, 0), 48, 64, gocv.MatTypeCV8UC3)
	defer clean.Close()
	annotated := clean.Clone()
	defer annotated.Close()
	dir := filepath.Join(t.TempDir(), "snaps")
	cp, ap, err := SaveSnapshot(dir, 42, clean, annotated)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cp, ap} {
		m := gocv.IMRead(p, gocv.IMReadColor)
		if m.Empty() || m.Cols() != 64 || m.Rows() != 48 {
			t.Errorf("%s: not the 64×48 picture", p)
		}
		m.Close()
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d files in %s, want 2", len(entries), dir)
	}
	if _, _, err := SaveSnapshot(dir, 43, gocv.Mat{}, annotated); err == nil {
		t.Error("an empty picture was saved")
	}
}
