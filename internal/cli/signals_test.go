package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer/local/onnxtest"
)

// cliChildEnv makes the test binary run the command line instead of the
// tests, so that a test can send it signals.
const cliChildEnv = "SIGHTLINE_TEST_CLI_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(cliChildEnv) != "" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(onnxtest.RunWithPrivateCache(m)) // its children inherit the cache

}

// A run ends the same way on Ctrl-C, a kill and a closed terminal or SSH
// session (SIGHUP): the stopped status says why, the summary comes last and
// the recording plays.
func TestRunStopsCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cut.mp4")
			cmd := exec.Command(os.Args[0], "run", "--source", demoVideo, "--backend", "local", "--realtime",
				"--out", out, "--events", "-")
			cmd.Env = append(os.Environ(), cliChildEnv+"=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			var lines []map[string]any
			analyses := 0
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("not a JSON line: %q", sc.Text())
				}
				lines = append(lines, m)
				if m["type"] == "analysis" {
					if analyses++; analyses == 10 {
						cmd.Process.Signal(sig)
					}
				}
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit: %v", err)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the run did not end after the signal")
			}
			if len(lines) == 0 || lines[len(lines)-1]["type"] != "summary" {
				t.Fatalf("the summary is not last: %v", lines[max(0, len(lines)-2):])
			}
			var stopped string
			for _, l := range lines {
				if l["state"] == "stopped" {
					stopped, _ = l["detail"].(string)
				}
			}
			if !strings.Contains(stopped, "interrupted") || !strings.Contains(stopped, sig.String()) {
				t.Errorf("stopped status %q does not say it was interrupted by %s", stopped, sig)
			}
			if n := countFrames(t, out); n < 5 {
				t.Errorf("the recording has %d frames", n)
			}
		})
	}
}

// An output the user asked for that cannot be written fails the run: exit
// 1, a line on stderr, and the summary says what was lost; the analysis
// still runs to the end.
func TestRunOutputsThatCannotBeWritten(t *testing.T) {
	// A folder that cannot be made, even by root: its parent is a file.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		output string // in the summary's output_errors; "" when the summary cannot be written
		stderr string
	}{
		{"recording into a missing folder", []string{"--out", "/nonexistent/dir/out.mp4"}, "recording", "recording"},
		{"snapshots into a folder that cannot be made", []string{"--snapshot-dir", filepath.Join(notADir, "snaps"), "--snapshot-every", "1s"}, "snapshots", "snapshots"},
		{"events on a full disk", []string{"--events", "/dev/full"}, "", "no space left on device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--source", demoVideo, "--backend", "local", "--max-frames", "30"}, tt.args...)
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != exitFailed || !strings.Contains(stderr, tt.stderr) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q: want exit 1 and one line naming %q", code, stderr, tt.stderr)
			}
			if tt.output == "" {
				return
			}
			lines := jsonLines(t, stdout)
			sum := lines[len(lines)-1]
			lost, _ := sum["output_errors"].(map[string]any)
			if sum["type"] != "summary" || lost[tt.output] == nil || sum["frames_analyzed"].(float64) != 30 {
				t.Errorf("summary %v: want the %s named in output_errors and all 30 frames analysed", sum, tt.output)
			}
		})
	}
}
