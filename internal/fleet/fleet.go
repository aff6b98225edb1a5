// Package fleet follows the cameras that publish to one MQTT broker, for
// the app's Fleet page: what `sightline run --mqtt … --camera NAME`
// publishes (internal/mqtt) on every machine of a line or a site. It keeps
// each camera's retained status (online/offline) and counts, its source's
// state, its latest alerts and the last snapshot it announced, and when it
// last heard from it. The broker is a standard one (Mosquitto, a clustered
// broker); the watcher reconnects for as long as it runs and subscribes
// again, so the retained state comes back after an outage.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
)

// Filters are the topics the watcher subscribes to: the retained status
// and counts, and the events a fleet view shows.
var Filters = []string{
	"sightline/+/status",
	"sightline/+/counts",
	"sightline/+/events/alert",
	"sightline/+/events/snapshot",
	"sightline/+/events/status",
	"sightline/+/events/health",
}

// Clock tells the time (internal/clock).
type Clock interface{ Now() time.Time }

// Config says where the broker is and whom to tell of changes.
type Config struct {
	// Broker is the broker's URL, credentials, CA and reconnect backoff,
	// as for the sink; its Camera is not used.
	Broker mqtt.Config
	// ClientID names the watcher to the broker (default
	// sightline-<random>).
	ClientID string
	Clock    Clock
	// OnChange is called after every change, on the client's goroutine:
	// it should only note that something changed.
	OnChange func()
	// MaxAlerts is how many alerts are kept a camera (default 5).
	MaxAlerts int
}

// Camera is what the fleet knows of one camera.
type Camera struct {
	Name string
	// Status is the retained online/offline ("" until one is heard).
	Status string
	// LastSeen is when the watcher last heard from the camera itself (zero
	// when it has only heard retained messages, which may be old).
	LastSeen time.Time
	// Source and SourceDetail are its source's state from its status and
	// health events (playing, stalled, error…), "" until one is heard.
	Source, SourceDetail string
	Counts               mqtt.Counts
	// Alerts are the latest alerts, newest first; AlertsSeen counts them all.
	Alerts     []Alert
	AlertsSeen int
	// Snapshot is the path of the last snapshot the camera announced (in
	// a snapshot event or an alert), on the camera's machine.
	Snapshot string
}

// Alert is one alert a camera published.
type Alert struct {
	At       time.Time // when it arrived
	Rule     string
	Detail   string
	Snapshot string
	Clip     string
}

// State is the watcher's connection.
type State struct {
	Connected bool
	// LastError is the latest problem (a refused connection, a refused
	// subscription), also when since recovered; never holds the password.
	LastError string
}

// Watcher follows the fleet on one broker.
type Watcher struct {
	cfg Config
	cm  *autopaho.ConnectionManager

	mu        sync.Mutex
	cams      map[string]*Camera
	connected bool
	lastErr   string
}

// Watch starts connecting in the background and returns at once; a broker
// that is down is retried until Close. Errors are about the configuration.
func Watch(cfg Config) (*Watcher, error) {
	if cfg.MaxAlerts <= 0 {
		cfg.MaxAlerts = 5
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func() {}
	}
	cc, err := cfg.Broker.Connection(cfg.ClientID)
	if err != nil {
		return nil, err
	}
	w := &Watcher{cfg: cfg, cams: map[string]*Camera{}}
	// No session is kept: after a reconnect the retained status and counts
	// come again with the subscription.
	cc.CleanStartOnInitialConnection = true
	cc.OnConnectionUp = func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
		w.setConnected(true, "")
		go w.subscribe(cm)
	}
	cc.OnConnectionDown = func() bool {
		w.setConnected(false, "")
		return true // keep reconnecting until Close
	}
	cc.OnConnectError = func(err error) { w.setConnected(false, cfg.Broker.ConnectError(err)) }
	cc.OnClientError = func(err error) {
		w.setConnected(false, "connection to the MQTT broker lost: "+cfg.Broker.Scrub(err))
	}
	cc.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
		w.handle(pr.Packet.Topic, pr.Packet.Payload, pr.Packet.Retain)
		return true, nil
	}}
	w.cm, err = autopaho.NewConnection(context.Background(), cc)
	if err != nil {
		return nil, fmt.Errorf("mqtt: %s", cfg.Broker.Scrub(err))
	}
	return w, nil
}

// subscribe asks for the fleet's topics on a new connection.
func (w *Watcher) subscribe(cm *autopaho.ConnectionManager) {
	subs := make([]paho.SubscribeOptions, len(Filters))
	for i, f := range Filters {
		subs[i] = paho.SubscribeOptions{Topic: f, QoS: 1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil && !errors.Is(err, context.Canceled) {
		w.setConnected(true, "subscribing to sightline/+/…: "+w.cfg.Broker.Scrub(err))
	}
}

func (w *Watcher) setConnected(up bool, problem string) {
	w.mu.Lock()
	w.connected = up
	if problem != "" {
		w.lastErr = problem
	}
	w.mu.Unlock()
	w.cfg.OnChange()
}

// State is the connection's state.
func (w *Watcher) State() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return State{Connected: w.connected, LastError: w.lastErr}
}

// Cameras is every camera heard of, by name, copied.
func (w *Watcher) Cameras() []Camera {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Camera, 0, len(w.cams))
	for _, c := range w.cams {
		cp := *c
		cp.Alerts = slices.Clone(c.Alerts)
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b Camera) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Close disconnects, within ctx.
func (w *Watcher) Close(ctx context.Context) error {
	err := w.cm.Disconnect(ctx)
	if errors.Is(err, autopaho.ConnectionDownError) {
		return nil
	}
	return err
}

// handle takes one message into the camera it is about; what it does not
// understand is ignored.
func (w *Watcher) handle(topic string, payload []byte, retained bool) {
	name, kind, ok := parseTopic(topic)
	if !ok || len(payload) == 0 { // an empty retained message clears it
		return
	}
	now := w.cfg.now()
	w.mu.Lock()
	c := w.cams[name]
	if c == nil {
		c = &Camera{Name: name}
		w.cams[name] = c
	}
	changed := apply(c, kind, payload, now, w.cfg.MaxAlerts)
	if changed && !retained {
		c.LastSeen = now
	}
	w.mu.Unlock()
	if changed {
		w.cfg.OnChange()
	}
}

func (c Config) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

// Message kinds, from the topic.
const (
	kindStatus   = "status"
	kindCounts   = "counts"
	kindAlert    = "events/alert"
	kindSnapshot = "events/snapshot"
	kindSource   = "events/status"
	kindHealth   = "events/health"
)

// parseTopic splits sightline/<camera>/<kind>.
func parseTopic(topic string) (camera, kind string, ok bool) {
	rest, ok := strings.CutPrefix(topic, "sightline/")
	if !ok {
		return "", "", false
	}
	camera, kind, ok = strings.Cut(rest, "/")
	if !ok || camera == "" {
		return "", "", false
	}
	switch kind {
	case kindStatus, kindCounts, kindAlert, kindSnapshot, kindSource, kindHealth:
		return camera, kind, true
	}
	return "", "", false
}

// apply takes a message of kind into c and reports whether it was
// understood.
func apply(c *Camera, kind string, payload []byte, now time.Time, maxAlerts int) bool {
	switch kind {
	case kindStatus:
		s := strings.TrimSpace(string(payload))
		if s != mqtt.Online && s != mqtt.Offline {
			return false
		}
		c.Status = s
	case kindCounts:
		var counts mqtt.Counts
		if json.Unmarshal(payload, &counts) != nil {
			return false
		}
		c.Counts = counts
	case kindAlert:
		var a event.Alert
		if json.Unmarshal(payload, &a) != nil || a.Rule == "" {
			return false
		}
		c.Alerts = append([]Alert{{At: now, Rule: a.Rule, Detail: a.Detail, Snapshot: a.Snapshot, Clip: a.Clip}}, c.Alerts...)
		c.Alerts = c.Alerts[:min(len(c.Alerts), maxAlerts)]
		c.AlertsSeen++
		if a.Snapshot != "" {
			c.Snapshot = a.Snapshot
		}
	case kindSnapshot:
		var s event.Snapshot
		if json.Unmarshal(payload, &s) != nil || s.Path == "" {
			return false
		}
		c.Snapshot = s.Path
	case kindSource:
		var s event.Status
		if json.Unmarshal(payload, &s) != nil || s.State == "" {
			return false
		}
		c.Source, c.SourceDetail = s.State, s.Detail
	case kindHealth:
		var h event.Health
		if json.Unmarshal(payload, &h) != nil || h.State == "" {
			return false
		}
		if h.State != c.Source {
			c.Source, c.SourceDetail = h.State, ""
		}
	default:
		return false
	}
	return true
}
