// Package plant connects a run's events to the plant's systems: an MQTT
// broker (a connection a camera, with its status and last will), a
// Prometheus endpoint and an OpenTelemetry collector. The command line and
// the app start the same outputs from the same Config.
package plant

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/metrics"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/otlp"
	"github.com/sightline/sightline/internal/pipeline"
)

// Config says which outputs to start; empty fields are outputs not used.
type Config struct {
	MQTT         string // mqtt://host:1883 or mqtts://…
	CAFile       string // PEM CAs trusted for mqtts:// besides the system's
	Username     string
	Password     mqtt.Secret
	MetricsAddr  string // HOST:PORT of /metrics
	OTLPEndpoint string // http(s)://collector:4318
	Version      string // service.version in OpenTelemetry
}

// Camera is one pipeline of the run, by name.
type Camera struct {
	Name string
	P    *pipeline.Pipeline
	// Bus is the camera's own events when it has a bus of its own (the
	// app's cameras); nil: they are on the run's.
	Bus *event.Bus
}

// busOf is where c's events are published.
func busOf(c Camera, run *event.Bus) *event.Bus {
	if c.Bus != nil {
		return c.Bus
	}
	return run
}

// Outputs are the running outputs. The zero value has none; Start starts
// them, Stop stops them.
type Outputs struct {
	mu       sync.Mutex
	mqs      []*mqtt.Sink
	metrics  *metrics.Metrics
	server   *metrics.Server
	exporter *otlp.Exporter
	detach   []func() // the sinks on the run's bus
}

// Errors of a Config that cannot be started say which setting is wrong.
var (
	ErrMQTT    = errors.New("MQTT broker")
	ErrMetrics = errors.New("metrics address")
	ErrOTLP    = errors.New("OTLP endpoint")
)

// ObserveCloud is the Azure clients' hook for a span per call, which they
// get before Start: it reaches the exporter once there is one.
func (o *Outputs) ObserveCloud(a azure.Attempt) {
	o.mu.Lock()
	exp := o.exporter
	o.mu.Unlock()
	if exp != nil {
		exp.CloudCall(otlp.Call{Name: a.Service + " " + a.Method + " " + a.Path, Start: a.Start, End: a.End,
			RequestID: a.RequestID, Status: a.Status, Err: a.Err})
	}
}

// Start connects the outputs cfg asks for and attaches them to bus, the
// run's events: an MQTT connection a camera (its events, and the run's
// summary), one metrics registry and one exporter for the run. On an
// error, what was started is stopped.
func (o *Outputs) Start(ctx context.Context, cfg Config, cams []Camera, bus *event.Bus) error {
	if err := o.start(ctx, cfg, cams, bus); err != nil {
		o.Stop()
		return err
	}
	return nil
}

func (o *Outputs) start(ctx context.Context, cfg Config, cams []Camera, bus *event.Bus) error {
	if cfg.MQTT != "" {
		for _, c := range cams {
			mq, err := mqtt.New(mqtt.Config{URL: cfg.MQTT, CAFile: cfg.CAFile, Camera: c.Name, Username: cfg.Username, Password: cfg.Password, SpoolDir: spoolDir()})
			if err != nil {
				return fmt.Errorf("%w: %w", ErrMQTT, err)
			}
			o.mqs = append(o.mqs, mq)
			o.detach = append(o.detach, busOf(c, bus).Attach(event.SinkFunc(func(ev event.Event) {
				if cam := ev.Head().Camera; cam == "" || cam == c.Name {
					mq.Publish(ev)
					publishCounts(mq, ev, c.P)
				}
			})))
		}
	}
	if cfg.MetricsAddr == "" && cfg.OTLPEndpoint == "" {
		return nil
	}
	runName := cams[0].Name
	if len(cams) > 1 {
		runName = "" // each camera's figures carry its name
	}
	o.metrics = metrics.New(runName, func() []metrics.Snapshot { return o.snapshots(cams) })
	for _, b := range buses(cams, bus) {
		o.detach = append(o.detach, b.Attach(o.metrics))
	}
	if cfg.MetricsAddr != "" {
		o.server = metrics.NewServer(cfg.MetricsAddr, o.metrics.Handler())
		if err := o.server.Start(); err != nil {
			return fmt.Errorf("%w: %w", ErrMetrics, err)
		}
	}
	if cfg.OTLPEndpoint != "" {
		exp, err := otlp.Start(ctx, otlp.Config{Endpoint: cfg.OTLPEndpoint, Metrics: o.metrics.Gatherer(), Version: cfg.Version, Camera: runName})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrOTLP, err)
		}
		o.mu.Lock()
		o.exporter = exp
		o.mu.Unlock()
	}
	return nil
}

// buses are the distinct buses the cameras publish on.
func buses(cams []Camera, run *event.Bus) []*event.Bus {
	var out []*event.Bus
	for _, c := range cams {
		if b := busOf(c, run); b != nil && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// publishCounts sends a camera's scene totals after every event that
// changes them (the sink spaces them out).
func publishCounts(mq *mqtt.Sink, ev event.Event, p *pipeline.Pipeline) {
	switch ev.Head().Type {
	case event.TypeLineCross, event.TypeZoneEnter, event.TypeZoneExit, event.TypeInspection, event.TypeSummary:
		var sum event.Summary
		p.SceneTotals(&sum)
		mq.PublishCounts(mqtt.Counts{Lines: sum.Lines, Zones: sum.Zones, Inspections: sum.Inspections})
	}
}

// snapshots are the pipelines' meters as the metrics read them.
func (o *Outputs) snapshots(cams []Camera) []metrics.Snapshot {
	out := make([]metrics.Snapshot, len(cams))
	for i, c := range cams {
		st := c.P.Stats()
		s := metrics.Snapshot{FramesRead: st.FramesRead, FramesAnalyzed: st.Schedule.FramesAnalyzed,
			FramesDropped: st.Source.Dropped, FramesShown: st.FramesShown, Reconnects: st.Source.Reconnects,
			CloudCalls: st.Schedule.Cloud.Calls, CloudErrors: st.Schedule.Cloud.Errors, CostUSD: st.Schedule.CostUSD}
		if len(cams) > 1 {
			s.Camera = c.Name
		}
		if i < len(o.mqs) {
			ms := o.mqs[i].Status()
			s.MQTT = &ms
		}
		out[i] = s
	}
	return out
}

// Status says how each output is doing, for the app's Settings.
type Status struct {
	MQTT            []mqtt.Status // a camera
	MetricsAddr     string        // where /metrics is served, "" when not
	OTLP, OTLPError string        // the endpoint, and its last export error
}

// Status reads the outputs' state.
func (o *Outputs) Status() Status {
	var s Status
	if o == nil {
		return s
	}
	for _, mq := range o.mqs {
		s.MQTT = append(s.MQTT, mq.Status())
	}
	if o.server != nil {
		s.MetricsAddr = o.server.Addr()
	}
	o.mu.Lock()
	exp := o.exporter
	o.mu.Unlock()
	if exp != nil {
		s.OTLP, s.OTLPError = "on", otlp.LastError()
	}
	return s
}

// Stop closes the outputs after the run's last event: MQTT delivers what
// it can within a short grace (the rest waits in its spool for the next
// run), the exporter flushes, the metrics server stops.
func (o *Outputs) Stop() {
	if o == nil {
		return
	}
	for _, d := range o.detach {
		d()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, mq := range o.mqs {
		wg.Go(func() { mq.Close(ctx) })
	}
	wg.Wait()
	o.mu.Lock()
	exp := o.exporter
	o.exporter = nil
	o.mu.Unlock()
	if exp != nil {
		exp.Close(ctx)
	}
	if o.server != nil {
		o.server.Close(ctx)
	}
}

// spoolDir is where MQTT keeps what the broker has not taken yet, beside
// the app's data.
func spoolDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sightline", "mqtt")
	}
	return filepath.Join(os.TempDir(), "sightline-mqtt")
}

// CameraName is the camera's default name: the file's name without its
// extension, or the stream's host.
func CameraName(source string) string {
	if u, err := url.Parse(source); err == nil && u.Host != "" {
		return u.Hostname()
	}
	base := filepath.Base(source)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
