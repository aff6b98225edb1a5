package mqtt

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/clock"
)

// Environment variables holding the broker's credentials.
const (
	EnvUsername = "SIGHTLINE_MQTT_USERNAME"
	EnvPassword = "SIGHTLINE_MQTT_PASSWORD"
)

// Secret is a password: it prints as [redacted], so a Config logged by
// mistake shows no credential.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Clock is what the sink needs of internal/clock: timers for retries and
// for spacing the counts.
type Clock interface {
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// Config says where and how to publish. URL and Camera are required.
type Config struct {
	URL      string // mqtt://host[:1883] or mqtts://host[:8883]
	Camera   string // topic level: sightline/<camera>/…
	Username string
	Password Secret
	CAFile   string // PEM CA(s) trusted for mqtts:// besides the system's roots

	// SpoolDir holds what could not be delivered once memory is full, and
	// across restarts; "" keeps only memory (past it, messages are dropped).
	SpoolDir    string
	MemoryBytes int           // queue in memory; default 8 MiB
	SpoolBytes  int64         // spool file bound, past which messages are dropped; default 256 MiB
	CountsEvery time.Duration // least spacing of retained counts; default 1 s
	ClientID    string        // default sightline-<camera>-<random>

	Clock   Clock         // default clock.Real
	Backoff clock.Backoff // reconnects and failed publishes; default 250 ms up to 10 s
}

// EnvCredentials reads the broker's username and password from the
// environment (getenv is os.Getenv outside tests).
func EnvCredentials(getenv func(string) string) (username string, password Secret) {
	return getenv(EnvUsername), Secret(getenv(EnvPassword))
}

func (c Config) withDefaults() Config {
	if c.MemoryBytes <= 0 {
		c.MemoryBytes = 8 << 20
	}
	if c.SpoolBytes <= 0 {
		c.SpoolBytes = 256 << 20
	}
	if c.CountsEvery <= 0 {
		c.CountsEvery = time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Backoff.Max <= 0 {
		c.Backoff.Max = 10 * time.Second
	}
	if c.ClientID == "" {
		c.ClientID = "sightline-" + topicLevel(c.Camera) + "-" + randomSuffix()
	}
	return c
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails on Linux; a zero suffix would still work
	return hex.EncodeToString(b)
}

// brokerURL checks the broker's address and returns it without user
// information. A password in the URL is refused: the command line shows in
// ps and shell history. A user name there is taken unless one is set.
func (c *Config) brokerURL() (*url.URL, error) {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a broker URL: want mqtt://host:1883 or mqtts://host:8883", redactURL(c.URL))
	}
	if _, set := u.User.Password(); set {
		return nil, fmt.Errorf("a password in the broker URL shows in ps and shell history; set %s instead", EnvPassword)
	}
	if c.Username == "" && u.User != nil {
		c.Username = u.User.Username()
	}
	u.User = nil
	port := map[string]string{"mqtt": "1883", "mqtts": "8883"}[u.Scheme]
	if port == "" {
		return nil, fmt.Errorf("%s: the scheme must be mqtt:// or mqtts://", u.Redacted())
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}

// redactURL hides a password in a URL that may not even parse.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		return "…@" + s[at+1:]
	}
	return s
}

// tlsConfig trusts the system's roots and, with CAFile, the CAs in it.
func (c Config) tlsConfig(u *url.URL) (*tls.Config, error) {
	if u.Scheme != "mqtts" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("MQTT CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("MQTT CA file %s: no PEM certificate in it", c.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// spoolPath is the camera's spool file in SpoolDir, "" without one.
func (c Config) spoolPath() (string, error) {
	if c.SpoolDir == "" {
		return "", nil
	}
	if err := os.MkdirAll(c.SpoolDir, 0o700); err != nil {
		return "", fmt.Errorf("MQTT spool folder: %w", err)
	}
	return filepath.Join(c.SpoolDir, "mqtt-"+topicLevel(c.Camera)+".spool"), nil
}

// topicLevel makes a name safe as one topic level (and a file name): no
// separators, wildcards or control characters.
func topicLevel(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '+' || r == '#' || r == '\\' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
}

// scrub removes the password from an error's text, whatever library wrote it.
func (c Config) scrub(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if c.Password != "" {
		s = strings.ReplaceAll(s, string(c.Password), "[redacted]")
	}
	return s
}

var errNoCamera = errors.New("mqtt: a camera name is needed for the topics (--camera)")
