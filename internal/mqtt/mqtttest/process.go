package mqtttest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Mosquitto is a running mosquitto: the tests' Broker, and the bench's
// broker outside tests.
type Mosquitto struct {
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Binary is mosquitto's executable, looked up on PATH and then in
// /usr/sbin, where Debian puts it (tests of "not installed" change it).
var Binary = "mosquitto"

// WriteConf writes dir/mosquitto.conf: the log in dir, mosquitto kept
// from dropping to a user who cannot read dir, then lines. It returns the
// file's path.
func WriteConf(dir string, lines ...string) (string, error) {
	conf := []string{"log_dest file " + filepath.Join(dir, "mosquitto.log")}
	if os.Getuid() == 0 {
		conf = append(conf, "user root")
	}
	path := filepath.Join(dir, "mosquitto.conf")
	return path, os.WriteFile(path, []byte(strings.Join(append(conf, lines...), "\n")+"\n"), 0o600)
}

// RunMosquitto starts mosquitto on the conf WriteConf wrote in dir and
// waits up to 10 s until port accepts connections.
func RunMosquitto(dir string, port int) (*Mosquitto, error) {
	bin, err := exec.LookPath(Binary)
	if err != nil {
		if bin, err = exec.LookPath(filepath.Join("/usr/sbin", Binary)); err != nil {
			return nil, fmt.Errorf("mosquitto is not installed (scripts/setup.sh installs it): %w", err)
		}
	}
	m := &Mosquitto{dir: dir, cmd: exec.Command(bin, "-c", filepath.Join(dir, "mosquitto.conf")), exited: make(chan struct{})}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting mosquitto: %w", err)
	}
	go func() { _ = m.cmd.Wait(); close(m.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			return m, c.Close()
		}
		select {
		case <-m.exited:
			return nil, fmt.Errorf("mosquitto exited at start: %s", m.Log())
		default:
		}
		if time.Now().After(deadline) {
			m.Stop(syscall.SIGKILL)
			return nil, fmt.Errorf("mosquitto did not listen on port %d within 10 s: %w\n%s", port, err, m.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends mosquitto with sig and waits for it: SIGTERM is a clean
// shutdown (sessions saved), SIGKILL a crash.
func (m *Mosquitto) Stop(sig syscall.Signal) {
	_ = m.cmd.Process.Signal(sig)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}

// Signal sends sig to mosquitto.
func (m *Mosquitto) Signal(sig syscall.Signal) error {
	if err := m.cmd.Process.Signal(sig); err != nil {
		return errors.Join(err, errors.New("mosquitto is not running"))
	}
	return nil
}

// Log is mosquitto's log so far.
func (m *Mosquitto) Log() string { return logIn(m.dir) }

// logIn is the log WriteConf's conf has mosquitto write in dir.
func logIn(dir string) string {
	s, _ := os.ReadFile(filepath.Join(dir, "mosquitto.log"))
	return string(s)
}
