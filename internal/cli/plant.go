package cli

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/metrics"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/otlp"
	"github.com/sightline/sightline/internal/pipeline"
)

// plantFlags are the run's outputs to the plant's systems.
type plantFlags struct {
	camera, mqtt, metricsAddr, otlpEndpoint string
}

func (f *plantFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.camera, "camera", "", "the camera's name in MQTT topics, metrics, clip names (default: from the source)")
	fs.StringVar(&f.mqtt, "mqtt", "", "publish events, counts and status to this broker: mqtt://host:1883 or mqtts://… (SIGHTLINE_MQTT_USERNAME/_PASSWORD)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://HOST:PORT/metrics")
	fs.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "export metrics and a span per cloud call over OTLP/HTTP to this collector (http://host:4318)")
}

// plant is what the outputs to the plant need once the pipeline runs.
type plant struct {
	mq       *mqtt.Sink
	metrics  *metrics.Metrics
	server   *metrics.Server
	exporter *otlp.Exporter
}

// observeCloud is the Azure clients' hook for a span per call, set before
// the backends are built; the exporter starts later.
func (f *plantFlags) observeCloud(pl *plant) func(azure.Attempt) {
	if f.otlpEndpoint == "" {
		return nil
	}
	return func(a azure.Attempt) {
		if pl.exporter != nil {
			pl.exporter.CloudCall(otlp.Call{Name: a.Service + " " + a.Method + " " + a.Path, Start: a.Start, End: a.End,
				RequestID: a.RequestID, Status: a.Status, Err: a.Err})
		}
	}
}

// start connects the outputs the flags ask for and attaches them to the
// run's events; stats reads the pipeline's meters at each scrape.
func (f *plantFlags) start(ctx context.Context, e env, pl *plant, camera string, bus *event.Bus, p *pipeline.Pipeline) error {
	if f.mqtt != "" {
		user, pass := mqtt.EnvCredentials(e.getenv)
		mq, err := mqtt.New(mqtt.Config{URL: f.mqtt, Camera: camera, Username: user, Password: pass, SpoolDir: spoolDir()})
		if err != nil {
			return usagef("--mqtt: %v", err)
		}
		pl.mq = mq
		bus.Attach(mq)
		bus.Attach(event.SinkFunc(func(ev event.Event) { publishCounts(mq, ev, p) }))
	}
	if f.metricsAddr != "" || f.otlpEndpoint != "" {
		pl.metrics = metrics.New(camera, func() []metrics.Snapshot { return []metrics.Snapshot{pl.snapshot(p)} })
		bus.Attach(pl.metrics)
	}
	if f.metricsAddr != "" {
		pl.server = metrics.NewServer(f.metricsAddr, pl.metrics.Handler())
		if err := pl.server.Start(); err != nil {
			return usagef("--metrics-addr: %v", err)
		}
	}
	if f.otlpEndpoint != "" {
		exp, err := otlp.Start(ctx, otlp.Config{Endpoint: f.otlpEndpoint, Metrics: pl.metrics.Gatherer(), Version: Version, Camera: camera})
		if err != nil {
			return usagef("--otlp-endpoint: %v", err)
		}
		pl.exporter = exp
	}
	return nil
}

// publishCounts sends the scene's totals after every event that changes
// them (the sink spaces them out).
func publishCounts(mq *mqtt.Sink, ev event.Event, p *pipeline.Pipeline) {
	switch ev.Head().Type {
	case event.TypeLineCross, event.TypeZoneEnter, event.TypeZoneExit, event.TypeInspection, event.TypeSummary:
		var sum event.Summary
		p.SceneTotals(&sum)
		mq.PublishCounts(mqtt.Counts{Lines: sum.Lines, Zones: sum.Zones, Inspections: sum.Inspections})
	}
}

// snapshot is the pipeline's meters as the metrics read them.
func (pl *plant) snapshot(p *pipeline.Pipeline) metrics.Snapshot {
	st := p.Stats()
	s := metrics.Snapshot{FramesRead: st.FramesRead, FramesAnalyzed: st.Schedule.FramesAnalyzed,
		FramesDropped: st.Source.Dropped, FramesShown: st.FramesShown, Reconnects: st.Source.Reconnects,
		CloudCalls: st.Schedule.Cloud.Calls, CloudErrors: st.Schedule.Cloud.Errors, CostUSD: st.Schedule.CostUSD}
	if pl.mq != nil {
		ms := pl.mq.Status()
		s.MQTT = &ms
	}
	return s
}

// stop closes the outputs after the run's last event: MQTT delivers what
// it can within a short grace (the rest waits in its spool for the next
// run), the exporter flushes, the metrics server stops.
func (pl *plant) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if pl.mq != nil {
		pl.mq.Close(ctx)
	}
	if pl.exporter != nil {
		pl.exporter.Close(ctx)
	}
	if pl.server != nil {
		pl.server.Close(ctx)
	}
}

// cameraName is the camera's default name: the file's name without its
// extension, or the stream's host.
func cameraName(source string) string {
	if u, err := url.Parse(source); err == nil && u.Host != "" {
		return u.Hostname()
	}
	base := filepath.Base(source)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// spoolDir is where MQTT keeps what the broker has not taken yet, beside
// the app's data.
func spoolDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sightline", "mqtt")
	}
	return filepath.Join(os.TempDir(), "sightline-mqtt")
}
