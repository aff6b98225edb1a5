package cli

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/video/videotest"
)

// states lists the status states of a run's events, in order.
func states(lines []map[string]any) []string {
	var s []string
	for _, l := range lines {
		if l["type"] == "status" {
			s = append(s, l["state"].(string))
		}
	}
	return s
}

func index(xs []string, x string, from int) int {
	for i := from; i < len(xs); i++ {
		if xs[i] == x {
			return i
		}
	}
	return -1
}

// A camera that dies, stalls and comes back: run reports it and keeps going.
func TestRunSurvivesStreamFaults(t *testing.T) {
	srv := videotest.StartRTSP(t, videotest.FreePort(t), videotest.Live(t), false)
	go func() {
		time.Sleep(2 * time.Second)
		srv.Signal(syscall.SIGSTOP) // stalls with the connection open
		time.Sleep(2500 * time.Millisecond)
		srv.Signal(syscall.SIGCONT)
		srv.Kill() // dies
		time.Sleep(time.Second)
		srv.Start() // and comes back
	}()
	code, out, stderr := runCLI(t, nil, "run", "--source", srv.URL(), "--backend", "local", "--fps-limit", "5",
		"--duration", "14s", "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := jsonLines(t, out)
	st := states(lines)
	playing := index(st, "playing", 0)
	stalled := index(st, "stalled", playing)
	reconnecting := index(st, "reconnecting", max(stalled, 0))
	again := index(st, "playing", max(reconnecting, 0))
	if playing < 0 || stalled < 0 || reconnecting < 0 || again < 0 {
		t.Fatalf("states %v, want playing, stalled, reconnecting, playing", st)
	}
	sum := lines[len(lines)-1]
	if sum["type"] != "summary" || sum["reconnects"].(float64) < 1 {
		t.Errorf("summary %v, want reconnects ≥ 1", sum)
	}
	// Frames were analysed after the stream came back, with Seq counting on.
	last := -1.0
	for _, l := range lines {
		if l["type"] == "analysis" {
			if f := l["frame"].(float64); f <= last {
				t.Errorf("frame %v after %v: sequence numbers go on across reconnects", f, last)
			} else {
				last = f
			}
		}
	}
	if last < 100 {
		t.Errorf("last analysed frame %v: the stream did not resume", last)
	}
}

// garbageServer accepts connections on loopback and answers every one with
// random bytes, as a misconfigured device might.
func garbageServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				junk := make([]byte, 4096)
				for i := range junk {
					junk[i] = byte(rand.IntN(256))
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				for range 50 {
					if _, err := c.Write(junk); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// Sources that never play fail within --open-timeout with a clear error.
func TestRunStreamsThatNeverPlay(t *testing.T) {
	tests := []struct {
		name, source string
	}{
		{"nobody listens", fmt.Sprintf("rtsp://127.0.0.1:%d/test", videotest.FreePort(t))},
		{"garbage RTSP", "rtsp://" + garbageServer(t) + "/test"},
		{"garbage HTTP", "http://" + garbageServer(t) + "/stream.mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, out, stderr := runCLI(t, nil, "run", "--source", tt.source, "--backend", "local", "--open-timeout", "3s", "--events", "-")
			took := time.Since(start)
			if code != exitFailed {
				t.Errorf("exit %d, want 1", code)
			}
			if took > 8*time.Second {
				t.Errorf("took %v with --open-timeout 3s", took)
			}
			if msg := strings.TrimSpace(stderr); msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, "127.0.0.1") {
				t.Errorf("stderr %q: want one line naming the source", stderr)
			}
			lines := jsonLines(t, out)
			if st := states(lines); index(st, "error", 0) < 0 {
				t.Errorf("states %v, want an error", st)
			}
			if last := lines[len(lines)-1]; last["type"] != "summary" {
				t.Errorf("last line %v, want the summary", last)
			}
		})
	}
}

func TestRunWebcamMissing(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "run", "--source", "webcam:7", "--backend", "local", "--open-timeout", "2s")
	if code != exitFailed || !strings.Contains(stderr, "webcam") && !strings.Contains(stderr, "video7") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
