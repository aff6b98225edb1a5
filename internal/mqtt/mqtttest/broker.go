// Package mqtttest runs Debian's mosquitto on loopback for tests (plain and
// TLS listeners, optional users) and subscribes to it with a real MQTT 5
// client. scripts/setup.sh installs mosquitto and mosquitto-clients.
package mqtttest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/video/videotest"
)

// Options shape the broker.
type Options struct {
	TLS   bool              // also listen with TLS, on a certificate from a CA made for the test
	Users map[string]string // when set, only these users (name → password) may connect
	ACL   string            // mosquitto acl_file lines (with Users): what each user may read and write
}

// Broker is a running mosquitto with persistence in a temporary folder, so
// that a stop and Start keep the subscribers' sessions.
type Broker struct {
	t       testing.TB
	dir     string
	port    int
	tlsPort int
	caFile  string
	m       *Mosquitto // nil while stopped
}

// Start runs a broker for the test; it is stopped when the test ends.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	for _, bin := range []string{"mosquitto", "mosquitto_passwd", "openssl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed (scripts/setup.sh installs it): %v", bin, err)
		}
	}
	b := &Broker{t: t, dir: t.TempDir(), port: videotest.FreePort(t)}
	var extra []string
	if len(opts.Users) > 0 {
		extra = append(extra, "allow_anonymous false", "password_file "+b.passwordFile(opts.Users))
	} else {
		extra = append(extra, "allow_anonymous true")
	}
	if opts.ACL != "" {
		acl := filepath.Join(b.dir, "acl")
		if err := os.WriteFile(acl, []byte(opts.ACL), 0o600); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, "acl_file "+acl)
	}
	listeners := []string{fmt.Sprintf("listener %d 127.0.0.1", b.port)}
	if opts.TLS {
		b.tlsPort = videotest.FreePort(t)
		ca, cert, key := makeCerts(t, b.dir)
		b.caFile = ca
		listeners = append(listeners, fmt.Sprintf("listener %d 127.0.0.1", b.tlsPort),
			"cafile "+ca, "certfile "+cert, "keyfile "+key)
	}
	_, err := WriteConf(b.dir, append(append([]string{
		"per_listener_settings false",
		"persistence true",
		"persistence_location " + b.dir + "/",
		"max_queued_messages 0", // no limit on what waits for a subscriber
	}, extra...), listeners...)...)
	if err != nil {
		t.Fatal(err)
	}
	b.Start()
	t.Cleanup(func() { b.Stop(syscall.SIGKILL) })
	return b
}

// URL is the plain listener's mqtt://127.0.0.1:PORT.
func (b *Broker) URL() string { return fmt.Sprintf("mqtt://127.0.0.1:%d", b.port) }

// TLSURL is the TLS listener's mqtts://localhost:PORT (the certificate
// names localhost).
func (b *Broker) TLSURL() string { return fmt.Sprintf("mqtts://localhost:%d", b.tlsPort) }

// CAFile is the PEM of the CA that signed the TLS listener's certificate.
func (b *Broker) CAFile() string { return b.caFile }

// Start (re)starts the broker on the same ports and waits until it listens.
func (b *Broker) Start() {
	b.t.Helper()
	m, err := RunMosquitto(b.dir, b.port)
	if err != nil {
		b.t.Fatal(err)
	}
	b.m = m
}

// Stop ends the broker with sig and waits for it: SIGTERM is a clean
// shutdown (sessions saved), SIGKILL a crash.
func (b *Broker) Stop(sig syscall.Signal) {
	if b.m != nil {
		b.m.Stop(sig)
		b.m = nil
	}
}

// Save makes the broker write its sessions to disk (SIGUSR1), so that even
// a crash after it keeps them, and waits until the file is written.
func (b *Broker) Save() {
	b.t.Helper()
	db := filepath.Join(b.dir, "mosquitto.db")
	before := modTime(db)
	if err := b.m.Signal(syscall.SIGUSR1); err != nil {
		b.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for modTime(db).Equal(before) {
		if time.Now().After(deadline) {
			b.t.Fatal("mosquitto did not save its database")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the write that changed the time may still be going on
}

func modTime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// Log is the broker's log so far.
func (b *Broker) Log() string { return logIn(b.dir) }

func (b *Broker) passwordFile(users map[string]string) string {
	path := filepath.Join(b.dir, "passwords")
	for name, pw := range users {
		args := []string{"-b", path, name, pw}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
			b.t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	return path
}

// makeCerts makes a CA and a server certificate for localhost and 127.0.0.1
// signed by it, with openssl.
func makeCerts(t testing.TB, dir string) (ca, cert, key string) {
	t.Helper()
	p := func(name string) string { return filepath.Join(dir, name) }
	ext := p("san.ext")
	if err := os.WriteFile(ext, []byte("subjectAltName=DNS:localhost,IP:127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"}
	steps := [][]string{
		append(append([]string{"req", "-x509"}, ec...), "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2",
			"-subj", "/CN=Sightline test CA", "-addext", "basicConstraints=critical,CA:TRUE",
			"-addext", "keyUsage=critical,keyCertSign,cRLSign"),
		append(append([]string{"req"}, ec...), "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost"),
		{"x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial",
			"-out", p("server.crt"), "-days", "2", "-extfile", ext},
	}
	for _, args := range steps {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v: %s", args[0], err, out)
		}
	}
	return p("ca.crt"), p("server.crt"), p("server.key")
}
