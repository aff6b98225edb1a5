package video

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// probeDuration returns the duration ffprobe finds in path, and its
// counted frames.
func probeDuration(t *testing.T, path string) (time.Duration, int) {
	t.Helper()
	// Stdout only: on stderr ffprobe notes the partial fragment at the end.
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames:format=duration", "-of", "default=nw=1:nk=1", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var frames int
	var secs float64
	if _, err := fmt.Sscan(string(out), &frames, &secs); err != nil {
		t.Fatalf("ffprobe %s: %q: %v", path, out, err)
	}
	return time.Duration(secs * float64(time.Second)), frames
}

// recordFrames writes n 320×240 frames at 25 fps (a moving pattern, so
// the encoder has something to encode), from frame `from`, and returns
// the first error.
func recordFrames(rec *Recorder, from, n int) (int, error) {
	m := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer m.Close()
	for i := from; i < from+n; i++ {
		m.SetTo(gocv.NewScalar(float64(i*7%255), 80, 160, 0))
		gocv.PutText(&m, strconv.Itoa(i), image.Pt(20+i%200, 120), gocv.FontHersheySimplex, 2, color.RGBA{255, 255, 255, 0}, 3)
		if err := rec.Write(m, time.Duration(i)*40*time.Millisecond); err != nil {
			return i - from, err
		}
	}
	return n, nil
}

// recordChildEnv names the file the child of TestRecordingSurvivesKill
// records to.
const recordChildEnv = "SIGHTLINE_TEST_RECORD_CHILD"

// TestRecordingSurvivesKill (issue 19 item 14): a process killed while
// recording leaves a file that plays up to about where it was killed.
func TestRecordingSurvivesKill(t *testing.T) {
	if path := os.Getenv(recordChildEnv); path != "" {
		rec, err := NewRecorder(path, 320, 240, 25)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := recordFrames(rec, 0, 150); err != nil { // 6 s
			t.Fatal(err)
		}
		fmt.Println("recorded")
		select {} // until killed
	}
	path := filepath.Join(t.TempDir(), "killed.mp4")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordingSurvivesKill$")
	cmd.Env = append(os.Environ(), recordChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	cmd.Process.Kill() // SIGKILL: no deferred call, no Close
	cmd.Wait()
	if err != nil || line != "recorded\n" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	d, frames := probeDuration(t, path)
	t.Logf("6 s written, killed: %v, %d frames play", d, frames)
	// Lost: the fragment being filled (≤ 1 s) and the frames still in the
	// encoder's look-ahead.
	if d < 4500*time.Millisecond || d > 6*time.Second || frames < 110 {
		t.Errorf("the file plays %v (%d frames) of the 6 s written before the kill", d, frames)
	}
}

// fullDisk is a file on a disk that has room for `room` more bytes.
type fullDisk struct {
	*os.File
	room int
}

func (f *fullDisk) Write(b []byte) (int, error) {
	if len(b) <= f.room {
		f.room -= len(b)
		return f.File.Write(b)
	}
	n, _ := f.File.Write(b[:f.room])
	f.room = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// TestRecordingDiskFull (issue 19 item 14): when the disk fills, Write
// says so (ENOSPC), the recording stops, and the file plays up to there.
func TestRecordingDiskFull(t *testing.T) {
	checkLeaks(t)
	path := filepath.Join(t.TempDir(), "full.mp4")
	rec, err := newRecorder(path, 320, 240, 25, func(p string) (io.WriteCloser, error) {
		f, err := os.Create(p)
		return &fullDisk{File: f, room: 150 << 10}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	recordUntilFull(t, rec, path, 2000)
}

// recordUntilFull records until the disk fills (within most frames) and
// checks that Write names the full disk, that the recording stopped there,
// and that the file plays up to about where the disk filled.
func recordUntilFull(t *testing.T, rec *Recorder, path string, most int) {
	t.Helper()
	n, err := recordFrames(rec, 0, most)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk is full (ENOSPC)") {
		t.Fatalf("after %d frames: %v, want the full disk named", n, err)
	}
	if _, again := recordFrames(rec, n+1, 1); again == nil || again.Error() != err.Error() {
		t.Errorf("Write after the failure: %v, want the same failure", again)
	}
	if err := rec.Close(); err != nil {
		t.Errorf("Close after the failure: %v", err)
	}
	d, frames := probeDuration(t, path)
	t.Logf("disk full after %d frames; the file plays %v, %d frames", n, d, frames)
	if want := time.Duration(n) * 40 * time.Millisecond; frames == 0 || d < want-2*time.Second {
		t.Errorf("the file plays %v (%d frames) of the %v written before the disk filled", d, frames, want)
	}
}

// TestRecordingRealDiskFull is TestRecordingDiskFull on a real 256 KiB
// tmpfs, where the machine lets the test mount one (root in a container
// that allows mounts).
func TestRecordingRealDiskFull(t *testing.T) {
	path := filepath.Join(smallDisk(t, "256k"), "full.mp4")
	rec, err := NewRecorder(path, 320, 240, 25)
	if err != nil {
		t.Fatal(err)
	}
	recordUntilFull(t, rec, path, 5000)
}

// smallDisk mounts a tmpfs of the given size (such as "256k") for the
// test, or skips it where the machine does not let tests mount (it takes
// root in a container that allows mounts).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestSnapshotDiskFull: a snapshot that does not fit says the disk is full
// and leaves no half-written picture.
func TestSnapshotDiskFull(t *testing.T) {
	dir := smallDisk(t, "64k")
	noise := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer noise.Close()
	gocv.RandU(&noise, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0)) // ~900 KB of PNG
	_, _, err := SaveSnapshot(dir, 1, noise, noise)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("SaveSnapshot = %v, want ENOSPC", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left on the full disk", len(entries))
	}
}
