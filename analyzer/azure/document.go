package azure

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/text"
)

// DocumentAPIVersion is Document Intelligence v4.0 GA.
const DocumentAPIVersion = "2024-11-30"

const documentService = "azure document intelligence" // prefixes its errors

const (
	defaultPollInterval     = time.Second
	defaultOperationTimeout = 2 * time.Minute
)

// DocumentOptions configure a DocumentClient. The zero value is ready to use.
type DocumentOptions struct {
	// APIVersion of Document Intelligence; DocumentAPIVersion when empty.
	APIVersion string
	// FreeTier checks documents against the free (F0) tier's limits (4 MB,
	// two pages) instead of the standard tier's (500 MB, 2000 pages).
	FreeTier bool
	// PollInterval is the wait between status polls when the service does
	// not say (Retry-After); 1 s when 0.
	PollInterval time.Duration
	// OperationTimeout bounds a whole analysis, polls included; 2 min
	// when 0. Each request is also bounded by TryTimeout.
	OperationTimeout time.Duration
	ClientOptions
}

// DocumentClient calls Azure AI Document Intelligence: an analyze request,
// then the long-running operation it starts, followed with azcore's
// Operation-Location poller. It is safe for concurrent use. OnAttempt
// counts the polls too.
type DocumentClient struct {
	*client
	endpoint     *url.URL
	apiVersion   string
	limits       documentLimits
	pollInterval time.Duration
	opTimeout    time.Duration
}

// NewDocumentClient returns a client for endpoint (https://<resource>.
// cognitiveservices.azure.com) authenticated by key, or by opts.Credential.
func NewDocumentClient(endpoint, key string, opts *DocumentOptions) (*DocumentClient, error) {
	if opts == nil {
		opts = &DocumentOptions{}
	}
	c, u, err := opts.dial(documentService, endpoint, "Ocp-Apim-Subscription-Key", key)
	if err != nil {
		return nil, err
	}
	d := &DocumentClient{
		client: c, endpoint: u,
		apiVersion:   cmp.Or(opts.APIVersion, DocumentAPIVersion),
		limits:       documentLimits{maxBytes: DocumentMaxBytes, maxPages: DocumentMaxPages},
		pollInterval: cmp.Or(opts.PollInterval, defaultPollInterval),
		opTimeout:    cmp.Or(opts.OperationTimeout, defaultOperationTimeout),
	}
	if opts.FreeTier {
		d.limits = documentLimits{maxBytes: DocumentFreeMaxBytes, maxPages: DocumentFreeMaxPages}
	}
	return d, nil
}

// AnalyzeDocument implements analyzer.DocumentAnalyzer: it sends img (its
// URL, or its bytes as they are, or its pixels as a JPEG) to req.Model and
// waits for the analysis. Coordinates are in the pixels of the image sent,
// which are the caller's, or in inches for PDF.
func (c *DocumentClient) AnalyzeDocument(ctx context.Context, img analyzer.Image, req analyzer.DocumentRequest) (*analyzer.Document, error) {
	if err := CheckDocumentRequest(req); err != nil {
		return nil, err
	}
	preq, err := c.analyzeRequest(ctx, img, req)
	if err != nil {
		return nil, err
	}
	resp, _, err := c.send(preq)
	if err != nil {
		return nil, err
	}
	op, err := c.await(ctx, resp)
	if err != nil {
		return nil, c.redact(err)
	}
	d, err := op.document()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	if d.Model == "" {
		d.Model = req.Model
	}
	return d, nil
}

// analyzeRequest is POST documentModels/{model}:analyze with the options
// the caller set and the document as a URL or as a raw body.
func (c *DocumentClient) analyzeRequest(ctx context.Context, img analyzer.Image, req analyzer.DocumentRequest) (*policy.Request, error) {
	route := runtime.JoinPaths(c.endpoint.String(), "documentintelligence/documentModels", url.PathEscape(req.Model)+":analyze")
	preq, err := runtime.NewRequest(ctx, http.MethodPost, route)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	q := url.Values{"api-version": {c.apiVersion}}
	if req.Pages != "" {
		q.Set("pages", req.Pages)
	}
	if req.Locale != "" {
		q.Set("locale", req.Locale)
	}
	preq.Raw().URL.RawQuery = q.Encode()
	preq.Raw().Header.Set("Accept", "application/json")
	if img.URL != "" {
		err = runtime.MarshalAsJSON(preq, map[string]string{"urlSource": img.URL})
	} else {
		lim := c.limits
		lim.pagesChosen = req.Pages != ""
		var body []byte
		if body, err = prepareDocument(img, lim); err != nil {
			return nil, err
		}
		// The raw body (the spec's AnalyzeDocumentFromStream) spares the
		// third that base64Source would add; the service sniffs the format.
		err = preq.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/octet-stream")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	return preq, nil
}

// await follows the operation that accepted answered with until it ends,
// waiting between polls as long as the service asks (Retry-After) through
// the injected clock, for at most the operation timeout.
func (c *DocumentClient) await(ctx context.Context, accepted *http.Response) (*wireAnalyzeOperation, error) {
	opURL, err := c.operationURL(accepted)
	if err != nil {
		return nil, err
	}
	poller, err := runtime.NewPoller(accepted, c.pipeline, &runtime.NewPollerOptions[wireAnalyzeOperation]{
		FinalStateVia: runtime.FinalStateViaOpLocation,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: following the analysis: %w", c.cfg.service, err)
	}
	clk := c.cfg.clock
	deadline := clk.Now().Add(c.opTimeout)
	last, status := accepted, "notStarted"
	for !poller.Done() {
		left := deadline.Sub(clk.Now())
		if left <= 0 {
			return nil, fmt.Errorf("%s: the analysis did not finish within %v (still %s) [operation %s]: %w",
				c.cfg.service, c.opTimeout, status, path.Base(opURL.Path), context.DeadlineExceeded)
		}
		if err := clk.Sleep(ctx, min(c.pollDelay(last), left)); err != nil {
			return nil, c.transportError(opURL.Path, err)
		}
		if last, err = poller.Poll(ctx); err != nil {
			return nil, c.pollError(opURL.Path, err)
		}
		status = operationStatus(last)
	}
	op, err := poller.Result(ctx)
	if err != nil {
		return nil, c.resultError(last, opURL, err)
	}
	return &op, nil
}

// operationURL checks the Operation-Location before azcore follows it: the
// key goes with every poll, so it must stay on the endpoint's host.
func (c *DocumentClient) operationURL(accepted *http.Response) (*url.URL, error) {
	loc := accepted.Header.Get("Operation-Location")
	if loc == "" {
		return nil, fmt.Errorf("%s: HTTP %d without an Operation-Location to follow the analysis at", c.cfg.service, accepted.StatusCode)
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != c.endpoint.Scheme || !strings.EqualFold(u.Host, c.endpoint.Host) {
		return nil, fmt.Errorf("%s: refusing to follow Operation-Location %q, which is not on the endpoint %s", c.cfg.service, text.OneLine(loc, 200), c.endpoint.Host)
	}
	return u, nil
}

// pollDelay is how long the service asked to wait before the next poll,
// or the poll interval when it did not say.
func (c *DocumentClient) pollDelay(resp *http.Response) time.Duration {
	if d := parseRetryAfter(resp.Header, c.cfg.clock.Now()); d > 0 {
		return d
	}
	return c.pollInterval
}

// operationStatus reads a poll's status for messages; azcore keeps its own.
func operationStatus(resp *http.Response) string {
	body, err := runtime.Payload(resp)
	var op struct {
		Status string `json:"status"`
	}
	if err != nil || json.Unmarshal(body, &op) != nil || op.Status == "" {
		return "unknown"
	}
	return op.Status
}

// pollError explains a poll that failed: a service error, a transport
// failure (after the pipeline's retries), or a body without a status.
func (c *DocumentClient) pollError(opPath string, err error) error {
	var respErr *azcore.ResponseError
	var attempts *attemptsError
	switch {
	case errors.As(err, &respErr) && respErr.RawResponse != nil:
		body, _ := runtime.Payload(respErr.RawResponse)
		return newServiceError(c.cfg.service, respErr.RawResponse, body, attemptOf(respErr.RawResponse))
	case errors.As(err, &attempts):
		return c.transportError(opPath, err)
	}
	return fmt.Errorf("%s: unreadable operation status: %w", c.cfg.service, describeJSONError(err))
}

// resultError explains an operation that ended without a result: failed
// or canceled on the service's side, or a final body Sightline cannot read.
func (c *DocumentClient) resultError(last *http.Response, opURL *url.URL, err error) error {
	var respErr *azcore.ResponseError
	if !errors.As(err, &respErr) {
		return fmt.Errorf("%s: decoding analyze result: %w", c.cfg.service, describeJSONError(err))
	}
	body, _ := runtime.Payload(last)
	code, msg := decodeErrorBody(body)
	return &OperationError{
		Service: c.cfg.service, Status: operationStatus(last),
		Code: text.OneLine(code, 80), Message: text.OneLine(msg, 300),
		OperationID: text.OneLine(path.Base(opURL.Path), 80), resp: respErr,
	}
}

// OperationError is an analysis the service accepted and then ended as
// failed or canceled. It unwraps to the *azcore.ResponseError azcore's
// poller returns.
type OperationError struct {
	Service     string
	Status      string // "failed" or "canceled"
	Code        string // with the inner code after a slash, as in ServiceError
	Message     string
	OperationID string

	resp *azcore.ResponseError
}

func (e *OperationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: analysis %s", e.Service, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, ", code %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.OperationID != "" {
		fmt.Fprintf(&b, " [operation %s]", e.OperationID)
	}
	return b.String()
}

// Unwrap gives errors.As access to the *azcore.ResponseError.
func (e *OperationError) Unwrap() error { return e.resp }

// Name implements analyzer.DocumentAnalyzer.
func (c *DocumentClient) Name() string { return "azure" }

// String keeps the key out of %v of a client.
func (c *DocumentClient) String() string {
	return "azure.DocumentClient(" + c.endpoint.Host + ")"
}
