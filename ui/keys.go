package ui

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/internal/text"

	"github.com/zalando/go-keyring"
)

// Key names: the environment variables users already set, reused as the
// keyring's account names.
const (
	keyVision      = "VISION_KEY"
	keyPrediction  = "CUSTOM_VISION_PREDICTION_KEY"
	keyDocument    = "DOCUMENT_INTELLIGENCE_KEY"
	keyringService = "io.github.sightline"
)

// keyStore keeps API keys out of files: the environment first (as the
// command line reads it), then the OS keyring, else memory for this session
// only. Keys are never logged and never written to preferences.
type keyStore struct {
	mu  sync.Mutex
	mem map[string]string
	// unavailable explains why the OS keyring cannot be used; "" when it can.
	unavailable string
	getenv      func(string) string
	ring        keyringAPI
}

// keyringAPI is the part of go-keyring used, so tests can run without a
// Secret Service.
type keyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
}

type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (osKeyring) Set(s, u, v string) error        { return keyring.Set(s, u, v) }

// newKeyStore probes the keyring once. The probe is bounded because a
// misconfigured D-Bus can hang, and the window must not wait on it.
func newKeyStore(ring keyringAPI, getenv func(string) string) *keyStore {
	k := &keyStore{mem: map[string]string{}, getenv: getenv, ring: ring}
	done := make(chan error, 1)
	go func() {
		_, err := ring.Get(keyringService, "probe")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			k.unavailable = keyringProblem(err)
		}
	case <-time.After(2 * time.Second):
		k.unavailable = "the OS keyring did not answer"
	}
	return k
}

// keyringProblem says why the OS keyring cannot be used, in a user's words
// rather than D-Bus's.
func keyringProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "dbus") || strings.Contains(msg, "DBus") || strings.Contains(msg, "org.freedesktop.secrets"):
		return "no Secret Service is running in this desktop session"
	case strings.Contains(msg, "locked") || strings.Contains(msg, "dismissed"):
		return "the keyring is locked"
	}
	return text.OneLine(msg, 90)
}

// Get returns the key and where it came from ("environment", "OS keyring",
// "this session"), or "" when it is not set.
func (k *keyStore) Get(name string) (value, from string) {
	if v := k.getenv(name); v != "" {
		return v, "environment"
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if v := k.mem[name]; v != "" {
		return v, "this session"
	}
	if k.unavailable == "" {
		if v, err := k.ring.Get(keyringService, name); err == nil && v != "" {
			return v, "OS keyring"
		}
	}
	return "", ""
}

// Set stores a key in the OS keyring, or in memory when there is none.
func (k *keyStore) Set(name, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.unavailable == "" {
		err := k.ring.Set(keyringService, name, value)
		if err == nil {
			delete(k.mem, name)
			return nil
		}
		k.unavailable = keyringProblem(err)
	}
	k.mem[name] = value
	return nil
}

// Note tells the user where keys go, shown under the key fields.
func (k *keyStore) Note() string {
	if k.unavailable == "" {
		return "Keys are stored in the OS keyring. Environment variables take precedence."
	}
	return fmt.Sprintf("No OS keyring (%s): keys typed here are kept in memory until the app closes; "+
		"set %s / %s / %s in the environment to keep them. Keys are never written to disk.", k.unavailable, keyVision, keyPrediction, keyDocument)
}
