package otlp

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/metrics"
)

// receiver is an OTLP/HTTP endpoint in the test: it decodes what the SDK
// sends, as a collector would.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	metrics []*metricpb.ResourceMetrics
	spans   []*tracepb.ResourceSpans
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", r.serve(t, &colmetricpb.ExportMetricsServiceRequest{},
		&colmetricpb.ExportMetricsServiceResponse{}, func(m proto.Message) {
			r.metrics = append(r.metrics, m.(*colmetricpb.ExportMetricsServiceRequest).GetResourceMetrics()...)
		}))
	mux.HandleFunc("POST /v1/traces", r.serve(t, &coltracepb.ExportTraceServiceRequest{},
		&coltracepb.ExportTraceServiceResponse{}, func(m proto.Message) {
			r.spans = append(r.spans, m.(*coltracepb.ExportTraceServiceRequest).GetResourceSpans()...)
		}))
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

// serve decodes each request into a new message of req's type, hands it to
// keep under r.mu and answers with resp.
func (r *receiver) serve(t *testing.T, req, resp proto.Message, keep func(proto.Message)) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		m := req.ProtoReflect().New().Interface()
		if !decode(t, w, hr, m) {
			return
		}
		r.mu.Lock()
		keep(m)
		r.mu.Unlock()
		reply(w, resp)
	}
}

func decode(t *testing.T, w http.ResponseWriter, req *http.Request, m proto.Message) bool {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		body = gz
	}
	b, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(b, m)
	}
	if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("undecodable OTLP request (%s): %v", req.Header.Get("Content-Type"), err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return false
	}
	return true
}

func reply(w http.ResponseWriter, m proto.Message) {
	b, _ := proto.Marshal(m)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

func attr(kvs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue()
		}
	}
	return nil
}

// latest finds the last data point exported for a metric.
func (r *receiver) latest(name string) (resource []*commonpb.KeyValue, m *metricpb.Metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rm := range r.metrics {
		for _, sm := range rm.GetScopeMetrics() {
			for _, x := range sm.GetMetrics() {
				if x.GetName() == name {
					resource, m = rm.GetResource().GetAttributes(), x
				}
			}
		}
	}
	return resource, m
}

func TestExportsMetricsAndSpans(t *testing.T) {
	recv := newReceiver(t)
	m := metrics.New("line-3", func() []metrics.Snapshot { return []metrics.Snapshot{{FramesRead: 250, CostUSD: 0.004}} })
	for _, ms := range []float64{8, 9, 700} {
		m.Publish(&event.Analysis{Header: event.Header{Type: event.TypeAnalysis}, Source: "azure", LatencyMS: ms})
	}
	exp, err := Start(context.Background(), Config{Endpoint: recv.URL + "/", Metrics: m.Gatherer(),
		Interval: 50 * time.Millisecond, Version: "test", Camera: "line-3"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) { // exported every Interval
		if _, m := recv.latest("sightline_frames_read_total"); m != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no metrics exported within 5 s at a 50 ms interval")
		}
	}
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	exp.CloudCall(Call{Name: "vision.analyze", Start: t0, End: t0.Add(420 * time.Millisecond), RequestID: "req-1", Status: 200})
	exp.CloudCall(Call{Name: "vision.analyze", Start: t0.Add(time.Second), End: t0.Add(1100 * time.Millisecond),
		RequestID: "req-2", Status: 429, Err: errors.New("429 Too Many Requests")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exp.Close(ctx); err != nil {
		t.Fatal(err)
	}

	res, frames := recv.latest("sightline_frames_read_total")
	if got := frames.GetSum().GetDataPoints(); len(got) != 1 || got[0].GetAsDouble() != 250 ||
		attr(got[0].GetAttributes(), "camera").GetStringValue() != "line-3" || !frames.GetSum().GetIsMonotonic() {
		t.Fatalf("sightline_frames_read_total: %v", frames)
	}
	if attr(res, "service.name").GetStringValue() != "sightline" || attr(res, "sightline.camera").GetStringValue() != "line-3" {
		t.Errorf("resource: %v", res)
	}
	if _, cost := recv.latest("sightline_cloud_cost_usd_total"); cost.GetSum().GetDataPoints()[0].GetAsDouble() != 0.004 {
		t.Errorf("cost: %v", cost)
	}
	_, lat := recv.latest("sightline_analysis_latency_seconds")
	if dp := lat.GetHistogram().GetDataPoints(); len(dp) != 1 || dp[0].GetCount() != 3 || dp[0].GetSum() != 0.717 {
		t.Fatalf("latency histogram: %v", lat)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	var spans []*tracepb.Span
	for _, rs := range recv.spans {
		for _, ss := range rs.GetScopeSpans() {
			spans = append(spans, ss.GetSpans()...)
		}
	}
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	for i, want := range []struct {
		id     string
		status tracepb.Status_StatusCode
		ms     uint64
	}{{"req-1", tracepb.Status_STATUS_CODE_UNSET, 420}, {"req-2", tracepb.Status_STATUS_CODE_ERROR, 100}} {
		s := spans[i]
		if s.GetName() != "vision.analyze" || s.GetKind() != tracepb.Span_SPAN_KIND_CLIENT ||
			attr(s.GetAttributes(), "az.service_request_id").GetStringValue() != want.id ||
			s.GetStatus().GetCode() != want.status || (s.GetEndTimeUnixNano()-s.GetStartTimeUnixNano())/1e6 != want.ms {
			t.Errorf("span %d: %v", i, s)
		}
	}
}

func TestEndpointErrors(t *testing.T) {
	for _, bad := range []string{"", "collector:4318", "grpc://collector:4317", "http://", "https://user:key@collector"} {
		if _, err := Start(context.Background(), Config{Endpoint: bad}); err == nil ||
			!strings.HasPrefix(err.Error(), "--otlp-endpoint") || strings.Contains(err.Error(), "key@") {
			t.Errorf("%q: %v, want a --otlp-endpoint error without the credentials", bad, err)
		}
	}
}

// A collector that is not there costs the run nothing but a LastError; Close
// gives up when its context ends.
func TestCollectorDown(t *testing.T) {
	recv := newReceiver(t)
	url := recv.URL
	recv.Close()
	m := metrics.New("line-3", nil)
	exp, err := Start(context.Background(), Config{Endpoint: url, Metrics: m.Gatherer(), Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	exp.CloudCall(Call{Name: "vision.analyze", Start: time.Now(), End: time.Now()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := exp.Close(ctx); err == nil {
		t.Error("Close succeeded with no collector")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %v past its context", took)
	}
	if e := LastError(); !strings.Contains(e, "connection refused") && !strings.Contains(e, "deadline") {
		t.Errorf("LastError = %q", e)
	}
}
