package video

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const demoVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// media holds the files the tests make with the ffmpeg CLI once per run.
var media struct {
	dir  string
	live string // 640×360, 25 fps, 30 s, H.264 without B-frames, MP4 with moov first
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sightline-video-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	media.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var liveOnce sync.Once

// liveFile makes the H.264 file the RTSP server serves.
func liveFile(t testing.TB) string {
	t.Helper()
	liveOnce.Do(func() {
		p := filepath.Join(media.dir, "live.mp4")
		if ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "30",
			"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-bf", "0",
			"-pix_fmt", "yuv420p", "-movflags", "+faststart", p) == nil {
			media.live = p
		}
	})
	if media.live == "" {
		t.Skip("cannot make the test video with ffmpeg")
	}
	return media.live
}

func ffmpeg(t testing.TB, args ...string) error {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg CLI not installed")
	}
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Logf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return err
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// rtspServer is the GStreamer RTSP server of testdata/rtsp_server.py.
type rtspServer struct {
	t      testing.TB
	port   int
	file   string
	cmd    *exec.Cmd
	mu     sync.Mutex
	pushed map[time.Duration]time.Time // with stamp: frame PTS → send time
}

func startRTSP(t testing.TB, port int, file string, stamp bool) *rtspServer {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	s := &rtspServer{t: t, port: port, file: file, pushed: map[time.Duration]time.Time{}}
	s.start(stamp)
	t.Cleanup(s.kill)
	return s
}

func (s *rtspServer) url() string { return fmt.Sprintf("rtsp://127.0.0.1:%d/test", s.port) }

func (s *rtspServer) start(stamp bool) {
	s.t.Helper()
	args := []string{"testdata/rtsp_server.py", "--port", strconv.Itoa(s.port), "--file", s.file}
	if stamp {
		args = append(args, "--stamp")
	}
	cmd := exec.Command("/usr/bin/python3", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "ready":
				ready <- true
			case len(f) == 3 && f[0] == "push":
				pts, _ := strconv.ParseInt(f[1], 10, 64)
				at, _ := strconv.ParseInt(f[2], 10, 64)
				s.mu.Lock()
				s.pushed[time.Duration(pts)] = time.Unix(0, at)
				s.mu.Unlock()
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			s.t.Skip("the GStreamer RTSP server did not start (gir1.2-gst-rtsp-server-1.0 missing?)")
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		s.t.Fatal("RTSP server not ready after 15 s")
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
}

func (s *rtspServer) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}

func (s *rtspServer) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func (s *rtspServer) sentAt(pts time.Duration) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.pushed[pts]
	return at, ok
}

// statusLog records the states a source reports.
type statusLog struct {
	mu  sync.Mutex
	all []Status
	ch  chan Status
}

func newStatusLog() *statusLog { return &statusLog{ch: make(chan Status, 1024)} }

func (l *statusLog) add(s Status) {
	l.mu.Lock()
	l.all = append(l.all, s)
	l.mu.Unlock()
	select {
	case l.ch <- s:
	default:
	}
}

func (l *statusLog) has(st State, detail string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.all {
		if s.State == st && strings.Contains(s.Detail, detail) {
			return true
		}
	}
	return false
}

func (l *statusLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, s := range l.all {
		fmt.Fprintf(&b, "\n  %s %s", s.State, s.Detail)
	}
	return b.String()
}

// waitFor waits until a state is reported.
func (l *statusLog) waitFor(t testing.TB, st State, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for !l.has(st, "") {
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("no %q status within %v; got:%s", st, within, l)
		}
	}
}

// checkLeaks fails if goroutines or FFmpeg objects outlive the test body.
func checkLeaks(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutines: %d before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		if n := avObjects.Load(); n != 0 {
			t.Errorf("%d FFmpeg objects not freed", n)
		}
	})
}

// readN reads n frames, releasing them, and returns their sequence numbers.
func readN(t testing.TB, src Source, n int, within time.Duration) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var seqs []int64
	for len(seqs) < n {
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(seqs), err)
		}
		if f.Mat.Empty() || f.Mat.Cols() != src.Info().Width || f.Mat.Rows() != src.Info().Height {
			t.Fatalf("frame %d: bad picture %dx%d", f.Seq, f.Mat.Cols(), f.Mat.Rows())
		}
		seqs = append(seqs, f.Seq)
		f.Release()
	}
	return seqs
}
