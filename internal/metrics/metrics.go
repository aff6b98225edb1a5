// Package metrics serves a run's figures to Prometheus (--metrics-addr):
// what the events say (analyses and their latency, scene counts, alerts,
// inspections), and what the source, scheduler and outputs count, read at
// scrape time as a Snapshot. The same registry feeds OpenTelemetry
// (internal/otlp), so both show the same metrics.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sightline/sightline/internal/event"
)

// Metrics is an event.Sink that keeps the run's metrics in its own registry.
// Publish is safe for concurrent use and costs a few map lookups.
type Metrics struct {
	reg    *prometheus.Registry
	camera string

	analyses    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	cacheHits   *prometheus.CounterVec
	errors      *prometheus.CounterVec
	backend     *prometheus.GaugeVec
	sourceState *prometheus.GaugeVec
	tracks      *prometheus.CounterVec
	crossings   *prometheus.CounterVec
	entries     *prometheus.CounterVec
	occupancy   *prometheus.GaugeVec
	alerts      *prometheus.CounterVec
	inspections *prometheus.CounterVec
	clips       *prometheus.CounterVec
	outputErrs  *prometheus.CounterVec
}

// New makes the metrics of a run. camera labels what comes without a
// camera name (single-camera runs); stats, when not nil, is read at every
// scrape for what events do not carry.
func New(camera string, stats func() []Snapshot) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), camera: camera}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append([]string{"camera"}, labels...))
		m.reg.MustRegister(v)
		return v
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append([]string{"camera"}, labels...))
		m.reg.MustRegister(v)
		return v
	}
	m.analyses = counter("sightline_analyses_total", "Finished analyses, by who answered (local, azure, cache).", "source")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sightline_analysis_latency_seconds", Help: "Time from a frame's hand-over to its analysis, by who answered.",
		Buckets: prometheus.DefBuckets,
	}, []string{"camera", "source"})
	m.reg.MustRegister(m.latency)
	m.cacheHits = counter("sightline_cache_hits_total", "Analyses answered from the cache (no cloud call).")
	m.errors = counter("sightline_analysis_errors_total", "Failed analyses, by backend.", "source")
	m.backend = gauge("sightline_active_backend", "1 for the backend in use.", "backend")
	m.sourceState = gauge("sightline_source_state", "1 for the source's current state (opening, playing, stalled, reconnecting, eof, error, stopped).", "state")
	m.tracks = counter("sightline_tracks_total", "Confirmed tracks, by class.", "class")
	m.crossings = counter("sightline_line_crossings_total", "Line crossings, by line and direction.", "line", "direction")
	m.entries = counter("sightline_zone_entries_total", "Tracks entering a zone.", "zone")
	m.occupancy = gauge("sightline_zone_occupancy", "Tracks in a zone now.", "zone")
	m.alerts = counter("sightline_alerts_total", "Rules that fired.", "rule")
	m.inspections = counter("sightline_inspections_total", "Inspection verdicts, by point and state (pass, fail, review).", "point", "state")
	m.clips = counter("sightline_clips_total", "Event clips written, by reason.", "reason")
	m.outputErrs = counter("sightline_output_errors_total", "Outputs that failed and stopped (recording, snapshots, clips, events).", "output")
	if stats != nil {
		m.reg.MustRegister(snapshotCollector{camera: camera, stats: stats})
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gatherer is the registry, for OpenTelemetry's bridge and for tests.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Publish counts what e says.
func (m *Metrics) Publish(e event.Event) {
	cam := e.Head().Camera
	if cam == "" {
		cam = m.camera
	}
	switch e := e.(type) {
	case *event.Analysis:
		m.analyses.WithLabelValues(cam, e.Source).Inc()
		m.latency.WithLabelValues(cam, e.Source).Observe(e.LatencyMS / 1000)
		if e.Source == "cache" {
			m.cacheHits.WithLabelValues(cam).Inc()
		}
	case *event.AnalysisError:
		m.errors.WithLabelValues(cam, e.Source).Inc()
	case *event.Backend:
		oneOf(m.backend, cam, e.Backend)
	case *event.Status:
		oneOf(m.sourceState, cam, e.State)
	case *event.Track:
		if e.State == "start" {
			m.tracks.WithLabelValues(cam, e.Name).Inc()
		}
	case *event.LineCross:
		m.crossings.WithLabelValues(cam, e.Line, e.Direction).Inc()
	case *event.ZoneEnter:
		m.entries.WithLabelValues(cam, e.Zone).Inc()
		m.occupancy.WithLabelValues(cam, e.Zone).Set(float64(e.Occupancy))
	case *event.ZoneExit:
		m.occupancy.WithLabelValues(cam, e.Zone).Set(float64(e.Occupancy))
	case *event.Alert:
		m.alerts.WithLabelValues(cam, e.Rule).Inc()
	case *event.Inspection:
		m.inspections.WithLabelValues(cam, e.Point, e.State).Inc()
	case *event.Clip:
		m.clips.WithLabelValues(cam, e.Reason).Inc()
	case *event.OutputError:
		m.outputErrs.WithLabelValues(cam, e.Output).Inc()
	}
}

// oneOf leaves the camera one series, value's, at 1: a dashboard shows the
// current state and an alert can watch for one.
func oneOf(g *prometheus.GaugeVec, camera, value string) {
	g.DeletePartialMatch(prometheus.Labels{"camera": camera})
	g.WithLabelValues(camera, value).Set(1)
}
