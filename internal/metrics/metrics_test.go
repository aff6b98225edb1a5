package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
)

// value finds a metric by name and labels in what m gathers: a counter's or
// gauge's value, a histogram's count. ok is false when it is absent.
func value(t *testing.T, m *Metrics, name string, labels map[string]string) (v float64, ok bool) {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, metric := range f.GetMetric() {
			if !hasLabels(metric, labels) {
				continue
			}
			switch {
			case metric.Counter != nil:
				return metric.Counter.GetValue(), true
			case metric.Gauge != nil:
				return metric.Gauge.GetValue(), true
			case metric.Histogram != nil:
				return float64(metric.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func h(typ string) event.Header { return event.Header{Type: typ} }

func TestMetricsFromEvents(t *testing.T) {
	tests := []struct {
		name   string
		events []event.Event
		metric string
		labels map[string]string
		want   float64 // -1: absent
	}{
		{"analyses by source", []event.Event{
			&event.Analysis{Header: h(event.TypeAnalysis), Source: "local", LatencyMS: 20},
			&event.Analysis{Header: h(event.TypeAnalysis), Source: "local", LatencyMS: 30},
			&event.Analysis{Header: h(event.TypeAnalysis), Source: "azure", LatencyMS: 400},
		}, "sightline_analyses_total", map[string]string{"camera": "line-3", "source": "local"}, 2},
		{"latency histogram", []event.Event{
			&event.Analysis{Header: h(event.TypeAnalysis), Source: "azure", LatencyMS: 400},
		}, "sightline_analysis_latency_seconds", map[string]string{"source": "azure"}, 1},
		{"cache hits", []event.Event{
			&event.Analysis{Header: h(event.TypeAnalysis), Source: "cache"},
			&event.Analysis{Header: h(event.TypeAnalysis), Source: "azure"},
		}, "sightline_cache_hits_total", map[string]string{"camera": "line-3"}, 1},
		{"another camera's events", []event.Event{
			&event.Analysis{Header: event.Header{Type: event.TypeAnalysis, Camera: "line-1"}, Source: "local"},
		}, "sightline_analyses_total", map[string]string{"camera": "line-1", "source": "local"}, 1},
		{"analysis errors", []event.Event{
			&event.AnalysisError{Header: h(event.TypeAnalysisError), Source: "azure"},
		}, "sightline_analysis_errors_total", map[string]string{"source": "azure"}, 1},
		{"the active backend", []event.Event{
			&event.Backend{Header: h(event.TypeBackend), Backend: "azure"},
			&event.Backend{Header: h(event.TypeBackend), Backend: "local"},
		}, "sightline_active_backend", map[string]string{"backend": "local"}, 1},
		{"a backend no longer active", []event.Event{
			&event.Backend{Header: h(event.TypeBackend), Backend: "azure"},
			&event.Backend{Header: h(event.TypeBackend), Backend: "local"},
		}, "sightline_active_backend", map[string]string{"backend": "azure"}, -1},
		{"source state", []event.Event{
			&event.Status{Header: h(event.TypeStatus), State: "playing"},
			&event.Status{Header: h(event.TypeStatus), State: "stalled"},
		}, "sightline_source_state", map[string]string{"state": "stalled"}, 1},
		{"tracks started, not ended", []event.Event{
			&event.Track{Header: h(event.TypeTrack), State: "start", Name: "person"},
			&event.Track{Header: h(event.TypeTrack), State: "end", Name: "person"},
		}, "sightline_tracks_total", map[string]string{"class": "person"}, 1},
		{"line crossings", []event.Event{
			&event.LineCross{Header: h(event.TypeLineCross), Line: "gate", Direction: "in"},
			&event.LineCross{Header: h(event.TypeLineCross), Line: "gate", Direction: "in"},
			&event.LineCross{Header: h(event.TypeLineCross), Line: "gate", Direction: "out"},
		}, "sightline_line_crossings_total", map[string]string{"line": "gate", "direction": "in"}, 2},
		{"zone entries", []event.Event{
			&event.ZoneEnter{Header: h(event.TypeZoneEnter), Zone: "station", Occupancy: 1},
			&event.ZoneEnter{Header: h(event.TypeZoneEnter), Zone: "station", Occupancy: 2},
		}, "sightline_zone_entries_total", map[string]string{"zone": "station"}, 2},
		{"zone occupancy", []event.Event{
			&event.ZoneEnter{Header: h(event.TypeZoneEnter), Zone: "station", Occupancy: 1},
			&event.ZoneEnter{Header: h(event.TypeZoneEnter), Zone: "station", Occupancy: 2},
			&event.ZoneExit{Header: h(event.TypeZoneExit), Zone: "station", Occupancy: 1},
		}, "sightline_zone_occupancy", map[string]string{"zone": "station"}, 1},
		{"alerts", []event.Event{
			&event.Alert{Header: h(event.TypeAlert), Rule: "station empty"},
		}, "sightline_alerts_total", map[string]string{"rule": "station empty"}, 1},
		{"inspections", []event.Event{
			&event.Inspection{Header: h(event.TypeInspection), Point: "cap", State: "fail"},
			&event.Inspection{Header: h(event.TypeInspection), Point: "cap", State: "pass"},
		}, "sightline_inspections_total", map[string]string{"point": "cap", "state": "fail"}, 1},
		{"clips", []event.Event{
			&event.Clip{Header: h(event.TypeClip), Reason: "alert"},
		}, "sightline_clips_total", map[string]string{"reason": "alert"}, 1},
		{"output errors", []event.Event{
			&event.OutputError{Header: h(event.TypeOutputError), Output: "recording"},
		}, "sightline_output_errors_total", map[string]string{"output": "recording"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("line-3", nil)
			for _, e := range tt.events {
				m.Publish(e)
			}
			got, ok := value(t, m, tt.metric, tt.labels)
			if tt.want < 0 {
				if ok {
					t.Fatalf("%s%v = %v, want it absent", tt.metric, tt.labels, got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Fatalf("%s%v = %v (present %v), want %v", tt.metric, tt.labels, got, ok, tt.want)
			}
		})
	}
}

func TestMetricsFromSnapshots(t *testing.T) {
	snaps := []Snapshot{
		{FramesRead: 250, FramesDropped: 7, CloudCalls: 3, CostUSD: 0.003, DisplayFPS: 24.5,
			MQTT: &mqtt.Status{Connected: true, Counters: mqtt.Counters{Sent: 10, Delivered: 8, Queued: 2}}},
		{Camera: "line-1", FramesRead: 100},
	}
	m := New("line-3", func() []Snapshot { return snaps })
	tests := []struct {
		metric string
		labels map[string]string
		want   float64 // -1: absent
	}{
		{"sightline_frames_read_total", map[string]string{"camera": "line-3"}, 250},
		{"sightline_frames_read_total", map[string]string{"camera": "line-1"}, 100},
		{"sightline_frames_dropped_total", map[string]string{"camera": "line-3"}, 7},
		{"sightline_cloud_calls_total", map[string]string{"camera": "line-3"}, 3},
		{"sightline_cloud_cost_usd_total", map[string]string{"camera": "line-3"}, 0.003},
		{"sightline_display_fps", map[string]string{"camera": "line-3"}, 24.5},
		{"sightline_mqtt_delivered_total", map[string]string{"camera": "line-3"}, 8},
		{"sightline_mqtt_queued", map[string]string{"camera": "line-3"}, 2},
		{"sightline_mqtt_connected", map[string]string{"camera": "line-3"}, 1},
		{"sightline_mqtt_queued", map[string]string{"camera": "line-1"}, -1}, // no MQTT there
	}
	for _, tt := range tests {
		got, ok := value(t, m, tt.metric, tt.labels)
		if tt.want < 0 && ok || tt.want >= 0 && (!ok || got != tt.want) {
			t.Errorf("%s%v = %v (present %v), want %v", tt.metric, tt.labels, got, ok, tt.want)
		}
	}
	snaps[0].FramesRead = 300 // read at every scrape
	if got, _ := value(t, m, "sightline_frames_read_total", map[string]string{"camera": "line-3"}); got != 300 {
		t.Errorf("frames read after more frames = %v, want 300", got)
	}
}

func TestServer(t *testing.T) {
	m := New("line-3", nil)
	m.Publish(&event.Alert{Header: h(event.TypeAlert), Rule: "station empty"})
	s := NewServer("127.0.0.1:0", m.Handler())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `sightline_alerts_total{camera="line-3",rule="station empty"} 1`; !strings.Contains(string(body), want) {
		t.Fatalf("/metrics lacks %s:\n%s", want, body)
	}
	busy := NewServer(s.Addr(), m.Handler())
	if err := busy.Start(); err == nil || !strings.Contains(err.Error(), "--metrics-addr") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("a busy address: %v, want a one-line --metrics-addr error", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/metrics"); err == nil {
		t.Fatal("still serving after Close")
	}
}
