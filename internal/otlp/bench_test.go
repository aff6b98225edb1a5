package otlp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/metrics"
)

// The cost of one metrics export (gather, convert, encode, POST) and of one
// cloud-call span. The receiver only reads the body: its decoding is the
// collector's cost, not Sightline's.
//
//	go test ./internal/otlp -run '^$' -bench . -benchtime 2000x
func BenchmarkExport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	m := metrics.New("line-3", func() []metrics.Snapshot { return []metrics.Snapshot{{FramesRead: 1000}} })
	m.Publish(&event.Analysis{Header: event.Header{Type: event.TypeAnalysis}, Source: "local", LatencyMS: 23.4})
	exp, err := Start(context.Background(), Config{Endpoint: srv.URL, Metrics: m.Gatherer(), Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Close(context.Background())
	b.Run("metrics export", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := exp.mp.ForceFlush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cloud call span", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for range b.N {
			exp.CloudCall(Call{Name: "vision.analyze", Start: start, End: start.Add(300 * time.Millisecond), RequestID: "req-1", Status: 200})
		}
	})
}
