// Package otlp exports a run's metrics and a span per cloud call over
// OTLP/HTTP (--otlp-endpoint) with the OpenTelemetry Go SDK, to an
// OpenTelemetry Collector and on to Azure Monitor or any other backend.
// The metrics are internal/metrics' own, read through OpenTelemetry's
// Prometheus bridge, so Prometheus and OTLP show the same figures.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promBridge "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Config says where and what to export.
type Config struct {
	// Endpoint is the collector's OTLP/HTTP base URL, http(s)://host:4318;
	// /v1/metrics and /v1/traces are added. Headers (an ingestion key) and
	// a CA come from the SDK's OTEL_EXPORTER_OTLP_HEADERS and
	// OTEL_EXPORTER_OTLP_CERTIFICATE.
	Endpoint string
	Metrics  prometheus.Gatherer // internal/metrics' Gatherer()
	Interval time.Duration       // between metric exports; default 15 s
	Version  string              // service.version
	Camera   string              // resource attribute sightline.camera
}

// Call is one call to a cloud service, as the Azure client saw it.
type Call struct {
	Name       string // what was called, e.g. "vision.analyze"
	Start, End time.Time
	RequestID  string // the service's x-ms-request-id / apim-request-id
	Status     int    // HTTP status; 0 when no answer came
	Err        error
}

// Exporter sends metrics every Interval and a span per cloud call.
type Exporter struct {
	mp     *sdkmetric.MeterProvider
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// Start sets up the exporters. Nothing is sent yet, so a collector that is
// down is not an error here; LastError tells later.
func Start(ctx context.Context, cfg Config) (*Exporter, error) {
	base, err := endpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Second
	}
	catchErrors()
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "sightline"),
		attribute.String("service.version", cfg.Version),
		attribute.String("sightline.camera", cfg.Camera),
	))
	if err != nil {
		return nil, fmt.Errorf("otlp resource: %w", err)
	}
	metricExp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(base+"/v1/metrics"))
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	traceExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(base+"/v1/traces"))
	if err != nil {
		_ = metricExp.Shutdown(ctx)
		return nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	reader := sdkmetric.NewPeriodicReader(metricExp, sdkmetric.WithInterval(cfg.Interval),
		sdkmetric.WithProducer(promBridge.NewMetricProducer(promBridge.WithGatherer(cfg.Metrics))))
	e := &Exporter{
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(reader)),
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(traceExp)),
	}
	e.tracer = e.tp.Tracer("github.com/sightline/sightline")
	return e, nil
}

// endpoint checks the URL and drops a trailing slash. The SDK would keep
// its default (localhost) for a URL it cannot parse, without a word.
func endpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--otlp-endpoint %q: want the collector's OTLP/HTTP address, http://host:4318 or https://…", s)
	}
	if u.User != nil {
		return "", errors.New("--otlp-endpoint: credentials go in OTEL_EXPORTER_OTLP_HEADERS, not in the URL")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// CloudCall records a span for one call, with the service's request id so
// a trace can be matched with the service's own logs. The Azure client
// calls it once per HTTP attempt.
func (e *Exporter) CloudCall(c Call) {
	_, span := e.tracer.Start(context.Background(), c.Name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(c.Start))
	if c.RequestID != "" {
		span.SetAttributes(attribute.String("az.service_request_id", c.RequestID))
	}
	if c.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", c.Status))
	}
	if c.Err != nil {
		span.SetStatus(codes.Error, c.Err.Error())
	} else if c.Status >= 400 {
		span.SetStatus(codes.Error, fmt.Sprintf("HTTP %d", c.Status))
	}
	span.End(trace.WithTimestamp(c.End))
}

// Close sends what is pending (the last metrics, the spans) and stops,
// giving up when ctx ends.
func (e *Exporter) Close(ctx context.Context) error {
	return errors.Join(e.tp.Shutdown(ctx), e.mp.Shutdown(ctx))
}

// LastError is the latest export failure (a collector down, refusing),
// "" when all went well.
func LastError() string {
	if p := lastErr.Load(); p != nil {
		return *p
	}
	return ""
}

var (
	lastErr   atomic.Pointer[string]
	catchOnce sync.Once
)

// catchErrors keeps the SDK's export errors for LastError instead of the
// SDK printing them on stderr, where they would mix with the CLI's output.
func catchErrors() {
	catchOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			s := strings.Join(strings.Fields(err.Error()), " ")
			lastErr.Store(&s)
		}))
	})
}
