package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
)

// The cost of one event to the metrics sink, and of one scrape.
//
//	go test ./internal/metrics -run '^$' -bench . -benchtime 20000x
func BenchmarkMetrics(b *testing.B) {
	m := New("line-3", func() []Snapshot {
		return []Snapshot{{FramesRead: 1000, FramesAnalyzed: 990, MQTT: &mqtt.Status{}}}
	})
	events := []event.Event{
		&event.Analysis{Header: event.Header{Type: event.TypeAnalysis}, Source: "local", LatencyMS: 23.4},
		&event.LineCross{Header: event.Header{Type: event.TypeLineCross}, Line: "gate", Direction: "in"},
		&event.ZoneEnter{Header: event.Header{Type: event.TypeZoneEnter}, Zone: "station", Occupancy: 2},
	}
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			m.Publish(events[i%len(events)])
		}
	})
	b.Run("scrape", func(b *testing.B) {
		h := m.Handler()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		b.ReportAllocs()
		for range b.N {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code)
			}
		}
	})
}
