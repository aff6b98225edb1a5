package azure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/sightline/sightline/internal/clock"
)

const (
	moduleName    = "github.com/sightline/sightline/analyzer/azure"
	moduleVersion = "v0.1.0"

	// cognitiveServicesScope is the Entra ID scope of every Azure AI service.
	cognitiveServicesScope = "https://cognitiveservices.azure.com/.default"

	// NoRetries, as Retries, makes a client try each request exactly once.
	// Zero means the default, as everywhere in the Azure SDK for Go.
	NoRetries = -1

	defaultRetries       = 3
	defaultTryTimeout    = 30 * time.Second
	defaultRetryDelay    = 800 * time.Millisecond
	defaultMaxRetryDelay = 60 * time.Second

	// MaxResponseBytes caps how much of a response body is read, so that a
	// broken proxy cannot make the client buffer gigabytes. Real answers are
	// a few KB.
	MaxResponseBytes = 16 << 20
)

// Clock is the time source of the retry policy. Tests inject a fake so that
// backoff and Retry-After are exercised without sleeping.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// pipelineConfig is what VisionOptions and PredictionOptions have in common,
// after defaults are applied.
type pipelineConfig struct {
	service    string // "azure vision" or "azure custom vision", prefixes errors
	endpoint   *url.URL
	keyHeader  string
	key        string
	credential azcore.TokenCredential
	retries    int
	tryTimeout time.Duration
	backoff    clock.Backoff
	transport  policy.Transporter
	logger     *slog.Logger
	clock      Clock
	onAttempt  func(attempt int)
	observe    func(Attempt)
	// anonymous clients send no key and no token: they fetch pre-signed
	// URLs on other hosts (a trained model's download), where a key must
	// never go.
	anonymous bool
	maxBody   int64 // response bodies are capped here (MaxResponseBytes when 0)
}

// client is the part shared by VisionClient and PredictionClient: an azcore
// pipeline plus what is needed to turn its outcome into clear errors.
type client struct {
	cfg      pipelineConfig
	pipeline runtime.Pipeline
}

func newClient(cfg pipelineConfig) (*client, error) {
	if cfg.key == "" && cfg.credential == nil && !cfg.anonymous {
		return nil, fmt.Errorf("%s: no key and no credential given", cfg.service)
	}
	if cfg.maxBody == 0 {
		cfg.maxBody = MaxResponseBytes
	}
	if cfg.retries == 0 {
		cfg.retries = defaultRetries
	} else if cfg.retries < 0 {
		cfg.retries = 0
	}
	if cfg.tryTimeout == 0 {
		cfg.tryTimeout = defaultTryTimeout
	}
	cfg.backoff = clock.Backoff{
		Initial: cmp.Or(cfg.backoff.Initial, defaultRetryDelay),
		Max:     cmp.Or(cfg.backoff.Max, defaultMaxRetryDelay),
		// Jitter keeps clients throttled together from retrying together.
		Jitter: 0.2,
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.clock == nil {
		cfg.clock = clock.Real{}
	}
	transport := cfg.transport
	if transport == nil {
		transport = http.DefaultClient
	}

	// Keys may only travel in clear text to this machine (the test server).
	allowHTTP := cfg.endpoint.Scheme == "http"
	var auth []policy.Policy
	switch {
	case cfg.anonymous:
	case cfg.credential != nil:
		auth = append(auth, runtime.NewBearerTokenPolicy(cfg.credential, []string{cognitiveServicesScope},
			&policy.BearerTokenOptions{InsecureAllowCredentialWithHTTP: allowHTTP}))
	default:
		auth = append(auth, runtime.NewKeyCredentialPolicy(azcore.NewKeyCredential(cfg.key), cfg.keyHeader,
			&runtime.KeyCredentialPolicyOptions{InsecureAllowCredentialWithHTTP: allowHTTP}))
	}

	c := &client{cfg: cfg}
	c.pipeline = runtime.NewPipeline(moduleName, moduleVersion, runtime.PipelineOptions{
		// Our retry policy replaces azcore's, whose sleeps cannot be faked.
		PerCall:  []policy.Policy{&retryPolicy{cfg: &c.cfg}},
		PerRetry: auth,
	}, &policy.ClientOptions{
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Transport: cappedTransport{next: transport, limit: cfg.maxBody},
	})
	return c, nil
}

// parseEndpoint checks an endpoint URL: https, or http to a loopback host.
func parseEndpoint(service, endpoint string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(endpoint), "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%s: invalid endpoint %q: want https://<resource>.cognitiveservices.azure.com", service, endpoint)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: endpoint %q must use https", service, endpoint)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// do sends req through the pipeline and returns the response body of a 2xx
// answer; anything else becomes a one-line error with the key redacted.
func (c *client) do(req *policy.Request) ([]byte, error) {
	_, body, err := c.send(req)
	return body, err
}

// send is do that also returns the response, for its headers.
func (c *client) send(req *policy.Request) (resp *http.Response, body []byte, err error) {
	defer func() { err = c.redact(err) }()
	path := req.Raw().URL.Path
	resp, err = c.pipeline.Do(req)
	if err != nil {
		return nil, nil, c.transportError(path, err)
	}
	body, err = runtime.Payload(resp)
	if err != nil {
		return nil, nil, c.transportError(path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, newServiceError(c.cfg.service, resp, body, attemptsOf(req))
	}
	return resp, body, nil
}

// transportError explains a failure of a request to path that produced no
// HTTP status.
func (c *client) transportError(path string, err error) error {
	var pe *attemptsError
	attempts := 1
	if errors.As(err, &pe) {
		attempts = pe.attempts
		err = pe.err
	}
	suffix := ""
	if attempts > 1 {
		suffix = fmt.Sprintf(" (after %d attempts)", attempts)
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fmt.Errorf("%s: response body larger than %d MiB%s: %w", c.cfg.service, c.cfg.maxBody>>20, suffix, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: response body truncated%s: %w", c.cfg.service, suffix, err)
	case errors.Is(err, errTryTimeout):
		return fmt.Errorf("%s: no response within %v%s: %w", c.cfg.service, c.cfg.tryTimeout, suffix, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %s cancelled%s: %w", c.cfg.service, path, suffix, err)
	}
	return fmt.Errorf("%s: request failed%s: %w", c.cfg.service, suffix, err)
}

// redact removes the key from err's message. The key never travels in a URL,
// but a proxy or service could echo it back in a message.
func (c *client) redact(err error) error {
	if err == nil || c.cfg.key == "" || !strings.Contains(err.Error(), c.cfg.key) {
		return err
	}
	return &redactedError{msg: c.cfg.scrub(err.Error()), err: err}
}

// scrub removes the key from s.
func (cfg *pipelineConfig) scrub(s string) string {
	if cfg.key == "" {
		return s
	}
	return strings.ReplaceAll(s, cfg.key, "[REDACTED]")
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// retryPolicy retries 408/429/5xx answers and connection failures with
// exponential backoff and jitter, honouring Retry-After, and bounds each try
// by TryTimeout. It sits where azcore's own retry policy would and behaves
// like it, but sleeps through an injectable Clock.
type retryPolicy struct {
	cfg *pipelineConfig
}

var (
	errTryTimeout   = errors.New("try timeout")
	errBodyTooLarge = errors.New("response body too large")
)

// attemptsError carries the number of attempts made to the error message.
type attemptsError struct {
	attempts int
	err      error
}

func (e *attemptsError) Error() string { return e.err.Error() }
func (e *attemptsError) Unwrap() error { return e.err }

type attemptsValue struct{ n *int }

type attemptKey struct{}

// attemptOf is the attempt that got resp (1 when unknown).
func attemptOf(resp *http.Response) int {
	if resp != nil && resp.Request != nil {
		if n, ok := resp.Request.Context().Value(attemptKey{}).(int); ok {
			return n
		}
	}
	return 1
}

func attemptsOf(req *policy.Request) int {
	var v attemptsValue
	if req.OperationValue(&v) && v.n != nil {
		return *v.n
	}
	return 1
}

func (p *retryPolicy) Do(req *policy.Request) (*http.Response, error) {
	cfg := p.cfg
	ctx := req.Raw().Context()
	var attemptsMade int
	req.SetOperationValue(attemptsValue{n: &attemptsMade})
	for attempt := 1; ; attempt++ {
		attemptsMade = attempt
		if cfg.onAttempt != nil {
			cfg.onAttempt(attempt)
		}
		resp, err := p.try(ctx, req, attempt)
		if ctx.Err() != nil {
			// The caller gave up: never retry, never wait.
			return nil, &attemptsError{attempt, ctx.Err()}
		}
		if attempt > cfg.retries || !retriable(resp, err) {
			if err != nil {
				return nil, &attemptsError{attempt, err}
			}
			return resp, nil
		}
		delay := p.retryAfter(resp)
		if delay < 0 {
			delay = cfg.backoff.Delay(attempt - 1)
		}
		if resp != nil {
			_ = resp.Body.Close()
		}
		cfg.logger.DebugContext(ctx, "azure retry", "service", cfg.service, "attempt", attempt, "delay", delay)
		if err := cfg.clock.Sleep(ctx, delay); err != nil {
			return nil, &attemptsError{attempt, err}
		}
	}
}

// try sends one attempt with its own timeout. The body is downloaded inside
// the attempt (azcore's body download policy), so the timeout covers it.
func (p *retryPolicy) try(ctx context.Context, req *policy.Request, attempt int) (*http.Response, error) {
	cfg := p.cfg
	tryCtx, cancel := context.WithTimeoutCause(ctx, cfg.tryTimeout, errTryTimeout)
	defer cancel()
	// The attempt travels with the request, so that an error built from
	// the response alone (azcore's poller) can tell how many were made.
	clone := req.Clone(context.WithValue(tryCtx, attemptKey{}, attempt))
	if err := clone.RewindBody(); err != nil {
		return nil, err
	}
	start := cfg.clock.Now()
	resp, err := clone.Next()
	if err != nil && ctx.Err() == nil && context.Cause(tryCtx) == errTryTimeout {
		err = fmt.Errorf("%w: %w", errTryTimeout, err)
	}
	// Everything logged passes through scrub: a proxy or a hostile server
	// may echo the key back in any header or message.
	attrs := []any{"service", cfg.service, "attempt", attempt, "path", cfg.scrub(req.Raw().URL.Path),
		"elapsed", cfg.clock.Now().Sub(start)}
	if resp != nil {
		attrs = append(attrs, "status", resp.StatusCode, "request_id", cfg.scrub(requestID(resp.Header)))
	}
	if err != nil {
		attrs = append(attrs, "error", cfg.scrub(err.Error()))
	}
	cfg.logger.DebugContext(ctx, "azure request", attrs...)
	if cfg.observe != nil {
		a := Attempt{Service: cfg.service, Method: req.Raw().Method, Path: cfg.scrub(req.Raw().URL.Path), Attempt: attempt,
			Start: start, End: cfg.clock.Now(), Err: err}
		if resp != nil {
			a.Status, a.RequestID = resp.StatusCode, cfg.scrub(requestID(resp.Header))
		}
		cfg.observe(a)
	}
	return resp, err
}

// retriable reports whether an attempt's outcome is worth another try.
func retriable(resp *http.Response, err error) bool {
	if err != nil {
		// azcore marks errors that must not be retried, e.g. a body that
		// broke off after a POST the service has already processed (and
		// billed).
		var nr interface{ NonRetriable() }
		return !errors.As(err, &nr)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryAfter returns how long the service asked us to wait, or -1.
func (p *retryPolicy) retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return -1
	}
	return parseRetryAfter(resp.Header, p.cfg.clock.Now())
}

// parseRetryAfter reads retry-after-ms, x-ms-retry-after-ms and Retry-After
// (seconds or an HTTP date), as azcore does. It returns -1 when none is usable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	for _, name := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if v := h.Get(name); v != "" {
			if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < math.MaxInt32 {
				return time.Duration(ms * float64(time.Millisecond))
			}
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return -1
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > math.MaxInt32 {
			return -1
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// requestID returns the service's request id, for logs and error messages.
func requestID(h http.Header) string {
	for _, name := range []string{"x-ms-request-id", "apim-request-id", "request-id"} {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// cappedTransport limits how much of any response body can be read.
type cappedTransport struct {
	next  policy.Transporter
	limit int64
}

func (t cappedTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	if resp != nil && resp.Body != nil {
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: t.limit}
	}
	return resp, err
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte to tell "exactly at the limit" from "over".
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
