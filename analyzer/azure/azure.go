// Package azure is Sightline's client for Azure AI Vision Image Analysis 4.0
// and Custom Vision Prediction v3.0. There is no Go SDK for these services,
// so the clients are built on azcore the way the Azure SDK for Go builds its
// own: a runtime.Pipeline with policies (auth, retry with backoff and
// Retry-After, per-try timeout), options structs, *azcore.ResponseError for
// service errors, and a context on every call.
//
// Images given as bytes or pixels are checked locally against the services'
// limits and downscaled before upload; every coordinate in a result is in
// the pixels of the caller's original image.
package azure

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/clock"
)

// DefaultAPIVersion is the Image Analysis 4.0 GA version.
const DefaultAPIVersion = "2023-10-01"

// VisionOptions configure a VisionClient. The zero value is ready to use.
type VisionOptions struct {
	// APIVersion of Image Analysis; DefaultAPIVersion when empty.
	APIVersion string
	ClientOptions
}

// ClientOptions configure the pipeline both clients share. The zero value
// is ready to use.
type ClientOptions struct {
	// Retries is how many times a failed request (408, 429, 5xx, connection
	// error) is retried: 0 means 3, NoRetries (or any negative) means none.
	Retries int
	// TryTimeout bounds each attempt, response body included; 30 s when 0.
	TryTimeout time.Duration
	// RetryDelay is the first backoff (doubled each retry, up to 20% less at
	// random) when the service gives no Retry-After; 800 ms when 0.
	RetryDelay time.Duration
	// MaxRetryDelay caps the backoff (not Retry-After); 60 s when 0.
	MaxRetryDelay time.Duration
	// MaxSide is the longest side, in pixels, of uploaded images: larger
	// ones are downscaled (DefaultMaxSide when 0; negative disables).
	MaxSide int
	// Credential, when set, authenticates with Microsoft Entra ID tokens
	// instead of the key (for resources that disable local auth).
	Credential azcore.TokenCredential
	// Transport sends the HTTP requests; http.DefaultClient when nil.
	Transport policy.Transporter
	// Logger receives debug records of each attempt (status, request id);
	// slog.Default() when nil. Keys are never logged.
	Logger *slog.Logger
	// Clock paces retries; the real clock when nil.
	Clock Clock
	// OnAttempt, when set, is called before every HTTP attempt (1 for the
	// first try, 2 for the first retry, …), so that a scheduler can count
	// calls, retries included, against a budget.
	OnAttempt func(attempt int)
	// Observe, when set, hears of every attempt once it has its answer:
	// for traces (a span per cloud call, with the service's request id).
	Observe func(Attempt)
}

// Attempt is one HTTP attempt, as Observe hears of it. Path never holds a
// key; Err is the transport's error, nil when the service answered.
type Attempt struct {
	Service    string
	Method     string
	Path       string
	Attempt    int
	Start, End time.Time
	Status     int // 0 when no answer came
	RequestID  string
	Err        error
}

// dial parses endpoint and builds a client of service on it.
func (o ClientOptions) dial(service, endpoint, keyHeader, key string) (*client, *url.URL, error) {
	u, err := parseEndpoint(service, endpoint)
	if err != nil {
		return nil, nil, err
	}
	c, err := newClient(o.pipeline(service, u, keyHeader, key))
	return c, u, err
}

// pipeline is the configuration of a client of service.
func (o ClientOptions) pipeline(service string, endpoint *url.URL, keyHeader, key string) pipelineConfig {
	return pipelineConfig{
		service: service, endpoint: endpoint, keyHeader: keyHeader, key: key,
		credential: o.Credential, retries: o.Retries, tryTimeout: o.TryTimeout,
		backoff: clock.Backoff{Initial: o.RetryDelay, Max: o.MaxRetryDelay}, transport: o.Transport,
		logger: o.Logger, clock: o.Clock, onAttempt: o.OnAttempt, observe: o.Observe,
	}
}

// VisionClient calls Image Analysis 4.0. It is safe for concurrent use.
type VisionClient struct {
	*client
	endpoint   *url.URL
	apiVersion string
	maxSide    int
}

// NewVisionClient returns a client for endpoint (https://<resource>.
// cognitiveservices.azure.com) authenticated by key, or by opts.Credential.
func NewVisionClient(endpoint, key string, opts *VisionOptions) (*VisionClient, error) {
	if opts == nil {
		opts = &VisionOptions{}
	}
	c, u, err := opts.dial("azure vision", endpoint, "Ocp-Apim-Subscription-Key", key)
	if err != nil {
		return nil, err
	}
	v := &VisionClient{client: c, endpoint: u, apiVersion: opts.APIVersion, maxSide: opts.MaxSide}
	if v.apiVersion == "" {
		v.apiVersion = DefaultAPIVersion
	}
	if v.maxSide == 0 {
		v.maxSide = DefaultMaxSide
	}
	return v, nil
}

// Analyze implements analyzer.Analyzer: it runs the requested features on
// img (sent as a URL when it has one, else as image bytes).
func (c *VisionClient) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	features, err := c.features(req.Features)
	if err != nil {
		return nil, err
	}
	preq, err := runtime.NewRequest(ctx, http.MethodPost,
		runtime.JoinPaths(c.endpoint.String(), "computervision/imageanalysis:analyze"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	preq.Raw().URL.RawQuery = c.query(features, req.Options).Encode()
	preq.Raw().Header.Set("Accept", "application/json")

	var up *upload
	if img.URL != "" {
		if err := runtime.MarshalAsJSON(preq, map[string]string{"url": img.URL}); err != nil {
			return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
		}
	} else {
		u, err := prepareUpload(img, uploadLimits{maxBytes: VisionMaxBytes, maxSide: c.maxSide})
		if err != nil {
			return nil, err
		}
		up = &u
		if err := preq.SetBody(streaming.NopCloser(bytes.NewReader(u.body)), "application/octet-stream"); err != nil {
			return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
		}
	}

	body, err := c.do(preq)
	if err != nil {
		return nil, err
	}
	a, err := DecodeAnalysis(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	finishAnalysis(a, features, req.Options, up)
	return a, nil
}

// features checks the requested features; the service needs at least one.
func (c *VisionClient) features(fs analyzer.Features) (analyzer.Features, error) {
	if len(fs) == 0 {
		return nil, fmt.Errorf("%s: no features requested (want some of %s)", c.cfg.service, analyzer.Features(analyzer.AllFeatures))
	}
	out := make(analyzer.Features, 0, len(fs))
	for _, f := range fs {
		if !c.Supports(f) {
			return nil, fmt.Errorf("%s: feature %q is not an Image Analysis feature (want some of %s)", c.cfg.service, f, analyzer.Features(analyzer.AllFeatures))
		}
		if !out.Has(f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// query carries the api-version, the features and only the options the
// user set: the service's defaults are not sent, as Azure's SDKs do.
func (c *VisionClient) query(features analyzer.Features, o analyzer.Options) url.Values {
	q := url.Values{}
	q.Set("api-version", c.apiVersion)
	q.Set("features", features.String())
	if o.Language != "" {
		q.Set("language", o.Language)
	}
	if o.GenderNeutralCaption {
		q.Set("gender-neutral-caption", "true")
	}
	if len(o.SmartCropsRatios) > 0 {
		ratios := make([]string, len(o.SmartCropsRatios))
		for i, r := range o.SmartCropsRatios {
			ratios[i] = strconv.FormatFloat(r, 'f', -1, 64)
		}
		q.Set("smartcrops-aspect-ratios", strings.Join(ratios, ","))
	}
	if o.ModelVersion != "" {
		q.Set("model-version", o.ModelVersion)
	}
	return q
}

// Supports implements analyzer.Analyzer: the seven Image Analysis features.
func (c *VisionClient) Supports(f analyzer.Feature) bool {
	return analyzer.Features(analyzer.AllFeatures).Has(f)
}

// Name implements analyzer.Analyzer.
func (c *VisionClient) Name() string { return "azure" }

// String keeps the key out of %v of a client.
func (c *VisionClient) String() string { return "azure.VisionClient(" + c.endpoint.Host + ")" }
