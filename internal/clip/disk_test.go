package clip

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/video"
)

// A full disk (a 512 KiB tmpfs, where a 10 s clip needs 1.4 MB): the clip
// fails with a clear error naming ENOSPC, its partial file is removed,
// the source reads on to its end and Close returns. Needs root to mount;
// TestFullDiskInjected covers the same without.
func TestFullDiskTmpfs(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	clips, src, ev := openVtest(t, Config{Dir: dir, Pre: 5 * time.Second, Post: 5 * time.Second})
	defer src.Close()
	frames := 0
	readUntil(t, src, time.Minute, func(f *video.Frame) bool {
		frames++
		if f.PTS == 10*time.Second {
			if _, err := clips.Trigger("alert", f.PTS); err != nil {
				t.Fatal(err)
			}
		}
		return true
	})
	clips.Close()
	errs := ev.errors()
	if len(errs) != 1 || errs[0].Output != "clips" || !strings.Contains(errs[0].Error, "disk is full (ENOSPC)") {
		t.Fatalf("want one output_error naming the full disk; events: %v", describe(ev))
	}
	t.Logf("output_error: %s", errs[0].Error)
	if len(ev.clips()) != 0 || clips.Err() == nil || clips.Stats().Failed != 1 {
		t.Errorf("clips %v, Err %v, stats %+v: the failure is not accounted for", ev.clips(), clips.Err(), clips.Stats())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left on the full disk: %v", left)
	}
	if frames != 795 {
		t.Errorf("the source stopped after %d of 795 frames", frames)
	}
}

// fillingDisk creates files through which `room` more bytes fit, then
// every write fails as a full disk's does.
type fillingDisk struct{ room atomic.Int64 }

type fillingFile struct {
	*os.File
	disk *fillingDisk
}

func (d *fillingDisk) create(path string) (io.WriteCloser, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	return &fillingFile{File: f, disk: d}, err
}

func (f *fillingFile) Write(b []byte) (int, error) {
	if f.disk.room.Add(-int64(len(b))) < 0 {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(b)
}

// A write error injected through the clip's custom I/O: the first clip
// fails (ENOSPC named, nothing left behind), the run goes on, and once
// there is room again the next trigger writes its clip.
func TestFullDiskInjected(t *testing.T) {
	checkLeaks(t)
	disk := &fillingDisk{}
	disk.room.Store(200 << 10)
	dir := t.TempDir()
	clips, src, ev := openVtest(t, Config{Dir: dir, Pre: 2 * time.Second, Post: 2 * time.Second,
		create: func(p string) (io.WriteCloser, error) { return disk.create(p) }})
	defer src.Close()
	defer clips.Close()
	readUntil(t, src, time.Minute, func(f *video.Frame) bool {
		switch f.PTS {
		case 10 * time.Second:
			clips.Trigger("first", f.PTS)
		case 20 * time.Second:
			for deadline := time.Now().Add(10 * time.Second); len(ev.errors()) == 0; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the first clip did not fail; events: %v", describe(ev))
				}
			}
			disk.room.Store(100 << 20) // space freed
			clips.Trigger("second", f.PTS)
		}
		return len(ev.clips()) == 0
	})
	errs := ev.errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Error, "first") || !strings.Contains(errs[0].Error, "ENOSPC") {
		t.Fatalf("output_errors %v, want one for the first clip naming ENOSPC", describe(ev))
	}
	t.Logf("output_error: %s", errs[0].Error)
	c := waitClip(t, ev, 10*time.Second)
	if c.Reason != "second" {
		t.Errorf("clip %+v, want the second trigger's", *c)
	}
	checkClip(t, c.File, 4*time.Second, time.Second)
	if parts, _ := filepath.Glob(filepath.Join(dir, "*first*")); len(parts) != 0 {
		t.Errorf("the failed clip left %v", parts)
	}
}
