// Package videotest gives tests real media: H.264 files made with the
// ffmpeg CLI and a GStreamer RTSP server on loopback (rtsp_server.py beside
// this file), which a test starts, freezes, kills and restarts.
package videotest

import (
	"bufio"
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

	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/media"
)

// DemoVideo is the demo video (deps.DemoVideo).
const DemoVideo = deps.DemoVideo

// cacheDir keeps made media across test runs.
func cacheDir() string { return filepath.Join(os.TempDir(), "sightline-videotest") }

// Make returns the file name in the media cache, making it with the ffmpeg
// arguments (output last, added here) when it is not there yet.
func Make(t testing.TB, name string, args ...string) string {
	t.Helper()
	p, err := media.Make(cacheDir(), name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Live is the file the RTSP server serves: 640×360, 25 fps, 30 s of
// H.264 without B-frames, MP4 with the index first.
func Live(t testing.TB) string {
	t.Helper()
	return Make(t, "live-v1.mp4", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "30",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-bf", "0",
		"-pix_fmt", "yuv420p", "-movflags", "+faststart")
}

// FreePort returns a TCP port on 127.0.0.1 nobody listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RTSPServer is the GStreamer RTSP server of rtsp_server.py.
type RTSPServer struct {
	t      testing.TB
	port   int
	file   string
	stamp  bool
	mu     sync.Mutex
	cmd    *exec.Cmd
	pushed map[time.Duration]time.Time // with stamp: frame PTS → send time
}

// StartRTSP serves file at rtsp://127.0.0.1:port/test over TCP and UDP
// until the test ends. With stamp, the server reports when each frame
// leaves (SentAt).
func StartRTSP(t testing.TB, port int, file string, stamp bool) *RTSPServer {
	t.Helper()
	s := &RTSPServer{t: t, port: port, file: file, stamp: stamp, pushed: map[time.Duration]time.Time{}}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// URL is the stream's address.
func (s *RTSPServer) URL() string { return fmt.Sprintf("rtsp://127.0.0.1:%d/test", s.port) }

// script is rtsp_server.py, found beside this source file so that tests
// in any package can start it.
func script() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "rtsp_server.py")
}

// Start (re)starts the server and waits until it listens.
func (s *RTSPServer) Start() {
	s.t.Helper()
	args := []string{script(), "--port", strconv.Itoa(s.port), "--file", s.file}
	if s.stamp {
		args = append(args, "--stamp")
	}
	// Debian's python3 has the gi bindings the set-up installs.
	cmd := exec.Command("/usr/bin/python3", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting the RTSP server (scripts/setup.sh installs python3-gi and the GStreamer RTSP server): %v", err)
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
			s.t.Fatal("the GStreamer RTSP server did not start (scripts/setup.sh installs gir1.2-gst-rtsp-server-1.0)")
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

// Signal sends sig to the server: SIGSTOP freezes it with its connections
// open, SIGCONT thaws it.
func (s *RTSPServer) Signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Signal(sig)
	}
}

// Kill stops the server at once, dropping its connections.
func (s *RTSPServer) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// SentAt is when the frame at pts left the server (with stamp).
func (s *RTSPServer) SentAt(pts time.Duration) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.pushed[pts]
	return at, ok
}
