package azure

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/sightline/sightline/internal/clock"
)

// TrainingAPIVersion is the Custom Vision Training API version spoken.
const TrainingAPIVersion = "v3.3"

// Project kinds, named as the service names its domain types.
const (
	Classification  = "Classification"
	ObjectDetection = "ObjectDetection"
)

// Iteration and export statuses.
const (
	StatusTraining  = "Training"
	StatusCompleted = "Completed"
	StatusFailed    = "Failed"
	ExportExporting = "Exporting"
	ExportDone      = "Done"
	ExportFailed    = "Failed"
	// PlatformONNX is the export platform analyzer/local loads.
	PlatformONNX = "ONNX"
)

// ErrTimeout is the error of a training or export that did not finish
// within the client's timeout; it may still finish on the service.
var ErrTimeout = errors.New("timed out")

// TrainingOptions configure a TrainingClient. The zero value is ready to use.
type TrainingOptions struct {
	// Poll spaces the status requests while a training or an export runs
	// (1 s, doubling up to 30 s, when zero).
	Poll clock.Backoff
	// TrainingTimeout bounds the wait for a training (1 h when 0).
	TrainingTimeout time.Duration
	// ExportTimeout bounds the wait for an export (10 min when 0).
	ExportTimeout time.Duration
	// DownloadTimeout bounds each attempt to download an export (10 min
	// when 0); TryTimeout bounds every other request.
	DownloadTimeout time.Duration
	ClientOptions
}

// MaxExportBytes caps a downloaded export: compact models are 3–45 MB.
const MaxExportBytes = 512 << 20

// TrainingClient calls the Custom Vision Training API v3.3: projects, tags,
// images with their regions, training, publishing and ONNX exports. It is
// safe for concurrent use.
type TrainingClient struct {
	*client
	base            string  // {endpoint}/customvision/v3.3/training
	artifacts       *client // the same service, for export downloads: larger bodies, longer tries
	download        *client // no key: fetches the export's pre-signed URL on another host
	trainingTimeout time.Duration
	exportTimeout   time.Duration
	poll            clock.Backoff
	maxSide         int
}

// NewTrainingClient returns a client for endpoint authenticated by the
// training key (or by opts.Credential).
func NewTrainingClient(endpoint, key string, opts *TrainingOptions) (*TrainingClient, error) {
	const service = "azure custom vision training"
	if opts == nil {
		opts = &TrainingOptions{}
	}
	u, err := parseEndpoint(service, endpoint)
	if err != nil {
		return nil, err
	}
	cfg := opts.pipeline(service, u, "Training-Key", key)
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	cfg.maxBody, cfg.tryTimeout = MaxExportBytes, cmp.Or(opts.DownloadTimeout, 10*time.Minute)
	artifacts, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	cfg.anonymous, cfg.key, cfg.credential = true, "", nil
	download, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	poll := opts.Poll
	poll.Initial, poll.Max = cmp.Or(poll.Initial, time.Second), cmp.Or(poll.Max, 30*time.Second)
	return &TrainingClient{
		client: c, artifacts: artifacts, download: download, poll: poll,
		base:            runtime.JoinPaths(u.String(), "customvision", TrainingAPIVersion, "training"),
		trainingTimeout: cmp.Or(opts.TrainingTimeout, time.Hour),
		exportTimeout:   cmp.Or(opts.ExportTimeout, 10*time.Minute),
		maxSide:         cmp.Or(opts.MaxSide, DefaultMaxSide),
	}, nil
}

// Domain is a model family a project trains on; compact ones export.
type Domain struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"` // Classification or ObjectDetection
	Exportable bool   `json:"exportable"`
	Enabled    bool   `json:"enabled"`
}

// Project is a Custom Vision project.
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Settings    struct {
		DomainID           string `json:"domainId"`
		ClassificationType string `json:"classificationType,omitempty"`
	} `json:"settings"`
}

// Tag is a class of a project.
type Tag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	ImageCount int    `json:"imageCount"`
}

// Iteration is one training of a project.
type Iteration struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Status       string   `json:"status"`
	ProjectID    string   `json:"projectId"`
	DomainID     string   `json:"domainId"`
	Exportable   bool     `json:"exportable"`
	ExportableTo []string `json:"exportableTo"`
	PublishName  string   `json:"publishName"`
	TrainedAt    string   `json:"trainedAt"`
}

// Export is an iteration's model exported for a platform.
type Export struct {
	Platform    string `json:"platform"`
	Status      string `json:"status"` // Exporting, Done or Failed
	DownloadURI string `json:"downloadUri"`
	Flavor      string `json:"flavor"`
}

// call sends one JSON request to the Training API and decodes the answer
// into out (when not nil).
func (c *TrainingClient) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	req, err := runtime.NewRequest(ctx, method, c.base+path)
	if err != nil {
		return fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	req.Raw().URL.RawQuery = query.Encode()
	req.Raw().Header.Set("Accept", "application/json")
	if body != nil {
		if err := runtime.MarshalAsJSON(req, body); err != nil {
			return fmt.Errorf("%s: %w", c.cfg.service, err)
		}
	}
	b, err := c.do(req)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %s %s: %w", c.cfg.service, method, path, describeJSONError(err))
	}
	return nil
}

// projectPath is /projects/{id} followed by more path segments.
func projectPath(projectID string, more ...string) string {
	p := "/projects/" + url.PathEscape(projectID)
	for _, m := range more {
		p += "/" + url.PathEscape(m)
	}
	return p
}

// Domains lists the service's domains.
func (c *TrainingClient) Domains(ctx context.Context) ([]Domain, error) {
	var ds []Domain
	return ds, c.call(ctx, http.MethodGet, "/domains", nil, nil, &ds)
}

// compactPreference orders the exportable domains analyzer/local loads,
// most suitable first: the [S1] detector has its post-processing in the
// model, the plain compact classifier is the smallest.
var compactPreference = map[string][]string{
	ObjectDetection: {"General (compact) [S1]", "General (compact)"},
	Classification:  {"General (compact)", "General (compact) [S1]"},
}

// PickDomain chooses among domains the one called name of kind, or, when
// name is empty, an exportable (compact) domain of kind.
func PickDomain(domains []Domain, kind, name string) (Domain, error) {
	var usable []Domain
	for _, d := range domains {
		if d.Type == kind && d.Enabled && (d.Exportable || name != "") {
			usable = append(usable, d)
		}
	}
	names := compactPreference[kind]
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		if i := slices.IndexFunc(usable, func(d Domain) bool { return strings.EqualFold(d.Name, n) }); i >= 0 {
			return usable[i], nil
		}
	}
	if name == "" && len(usable) > 0 {
		return usable[0], nil
	}
	var have []string
	for _, d := range domains {
		if d.Type == kind {
			have = append(have, fmt.Sprintf("%q", d.Name))
		}
	}
	what := "exportable (compact) " + kind + " domain"
	if name != "" {
		what = fmt.Sprintf("enabled %s domain called %q", kind, name)
	}
	return Domain{}, fmt.Errorf("the service offers no %s (its %s domains: %s)", what, kind, strings.Join(have, ", "))
}

// Projects lists the projects of the resource.
func (c *TrainingClient) Projects(ctx context.Context) ([]Project, error) {
	var ps []Project
	return ps, c.call(ctx, http.MethodGet, "/projects", nil, nil, &ps)
}

// CreateProject creates a project on domainID. classificationType
// (Multiclass or Multilabel) applies to classification projects only.
func (c *TrainingClient) CreateProject(ctx context.Context, name, domainID, classificationType string) (Project, error) {
	q := url.Values{"name": {name}, "domainId": {domainID}}
	if classificationType != "" {
		q.Set("classificationType", classificationType)
	}
	var p Project
	return p, c.call(ctx, http.MethodPost, "/projects", q, nil, &p)
}

// Tags lists a project's tags.
func (c *TrainingClient) Tags(ctx context.Context, projectID string) ([]Tag, error) {
	var ts []Tag
	return ts, c.call(ctx, http.MethodGet, projectPath(projectID, "tags"), nil, nil, &ts)
}

// CreateTag adds a tag to a project.
func (c *TrainingClient) CreateTag(ctx context.Context, projectID, name string) (Tag, error) {
	var t Tag
	return t, c.call(ctx, http.MethodPost, projectPath(projectID, "tags"), url.Values{"name": {name}}, nil, &t)
}

// Train starts training the project's current images and returns the new
// iteration, still training.
func (c *TrainingClient) Train(ctx context.Context, projectID string) (Iteration, error) {
	var it Iteration
	return it, c.call(ctx, http.MethodPost, projectPath(projectID, "train"), nil, nil, &it)
}

// Iteration returns an iteration's current state.
func (c *TrainingClient) Iteration(ctx context.Context, projectID, iterationID string) (Iteration, error) {
	var it Iteration
	return it, c.call(ctx, http.MethodGet, projectPath(projectID, "iterations", iterationID), nil, nil, &it)
}

// Iterations lists a project's iterations.
func (c *TrainingClient) Iterations(ctx context.Context, projectID string) ([]Iteration, error) {
	var its []Iteration
	return its, c.call(ctx, http.MethodGet, projectPath(projectID, "iterations"), nil, nil, &its)
}

// WaitTrained polls an iteration until its training completes or fails,
// calling onPoll (if set) with every state seen. A failed training is an
// error, as is one still running after TrainingTimeout (ErrTimeout).
func (c *TrainingClient) WaitTrained(ctx context.Context, projectID, iterationID string, onPoll func(Iteration)) (Iteration, error) {
	var it Iteration
	err := c.pollUntil(ctx, c.trainingTimeout, func() (bool, error) {
		var err error
		if it, err = c.Iteration(ctx, projectID, iterationID); err != nil {
			return false, err
		}
		if onPoll != nil {
			onPoll(it)
		}
		switch it.Status {
		case StatusCompleted:
			return true, nil
		case StatusFailed:
			return true, fmt.Errorf("%s: training %q of project %s failed", c.cfg.service, it.Name, projectID)
		}
		return false, nil
	})
	if errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%s: training %q still %q after %v: %w", c.cfg.service, it.Name, it.Status, c.trainingTimeout, err)
	}
	return it, err
}

// pollUntil calls check, spaced by the poll backoff, until it reports done
// or an error, or timeout has passed on the client's clock (ErrTimeout).
func (c *TrainingClient) pollUntil(ctx context.Context, timeout time.Duration, check func() (bool, error)) error {
	deadline := c.cfg.clock.Now().Add(timeout)
	for n := 0; ; n++ {
		done, err := check()
		if done || err != nil {
			return err
		}
		left := deadline.Sub(c.cfg.clock.Now())
		if left <= 0 {
			return ErrTimeout
		}
		if err := c.cfg.clock.Sleep(ctx, min(c.poll.Delay(n), left)); err != nil {
			return fmt.Errorf("%s: %w", c.cfg.service, err)
		}
	}
}

// Publish makes an iteration answer prediction requests as publishName on
// the prediction resource predictionResourceID (its Azure resource id,
// /subscriptions/…/providers/Microsoft.CognitiveServices/accounts/NAME),
// replacing an iteration published under that name before.
func (c *TrainingClient) Publish(ctx context.Context, projectID, iterationID, publishName, predictionResourceID string) error {
	q := url.Values{"publishName": {publishName}, "predictionId": {predictionResourceID}, "overwrite": {"true"}}
	var ok bool
	if err := c.call(ctx, http.MethodPost, projectPath(projectID, "iterations", iterationID, "publish"), q, nil, &ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: the service declined to publish iteration %s as %q", c.cfg.service, iterationID, publishName)
	}
	return nil
}

// Export asks for an iteration's model for platform (PlatformONNX) in the
// platform's default flavour.
func (c *TrainingClient) Export(ctx context.Context, projectID, iterationID, platform string) (Export, error) {
	var e Export
	return e, c.call(ctx, http.MethodPost, projectPath(projectID, "iterations", iterationID, "export"), url.Values{"platform": {platform}}, nil, &e)
}

// Exports lists an iteration's exports.
func (c *TrainingClient) Exports(ctx context.Context, projectID, iterationID string) ([]Export, error) {
	var es []Export
	return es, c.call(ctx, http.MethodGet, projectPath(projectID, "iterations", iterationID, "export"), nil, nil, &es)
}

// WaitExport polls an iteration's exports until its default-flavour
// export for platform is done or failed, calling onPoll (if set) with
// every state seen. A failed export is an error, as is one still running
// after ExportTimeout (ErrTimeout).
func (c *TrainingClient) WaitExport(ctx context.Context, projectID, iterationID, platform string, onPoll func(Export)) (Export, error) {
	var e Export
	err := c.pollUntil(ctx, c.exportTimeout, func() (bool, error) {
		es, err := c.Exports(ctx, projectID, iterationID)
		if err != nil {
			return false, err
		}
		i := slices.IndexFunc(es, func(x Export) bool { return x.Platform == platform && x.Flavor == "" })
		if i < 0 {
			return false, fmt.Errorf("%s: iteration %s has no %s export", c.cfg.service, iterationID, platform)
		}
		if e = es[i]; onPoll != nil {
			onPoll(e)
		}
		switch e.Status {
		case ExportDone:
			return true, nil
		case ExportFailed:
			return true, fmt.Errorf("%s: the %s export of iteration %s failed", c.cfg.service, platform, iterationID)
		}
		return false, nil
	})
	if errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%s: the %s export of iteration %s still %q after %v: %w", c.cfg.service, platform, iterationID, e.Status, c.exportTimeout, err)
	}
	return e, err
}

// DownloadExport fetches a finished export and unpacks it into dir (see
// unpackExport), which afterwards holds the model and its labels as
// analyzer/local's NewCustomVision loads them. verify, when set, is given
// the unpacked folder before it replaces dir: an error keeps the model
// that was there. The download URL is pre-signed and on another host: the
// key is not sent there, and the URL's signature never appears in errors
// or logs.
func (c *TrainingClient) DownloadExport(ctx context.Context, projectID string, e Export, dir string, verify func(dir string) error) error {
	if e.Status != ExportDone || e.DownloadURI == "" {
		return fmt.Errorf("%s: the %s export is %q, with nothing to download yet", c.cfg.service, e.Platform, e.Status)
	}
	zip, err := c.fetchExport(ctx, projectID, e.DownloadURI)
	if err != nil {
		return err
	}
	if err := unpackExport(zip, dir, verify); err != nil {
		return fmt.Errorf("%s: the %s export: %w", c.cfg.service, e.Platform, err)
	}
	return nil
}

// fetchExport downloads an export: from its absolute, pre-signed URL, or,
// for a resource behind a virtual network, through the project's
// artifacts route with the key.
func (c *TrainingClient) fetchExport(ctx context.Context, projectID, uri string) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("%s: the export's download address is not a URL", c.cfg.service)
	}
	via, target := c.download, uri
	if !u.IsAbs() {
		via = c.artifacts
		target = c.base + projectPath(projectID, "artifacts") + "?" + url.Values{"path": {uri}}.Encode()
	} else if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return nil, fmt.Errorf("%s: refusing to download the export over %s from %s", c.cfg.service, u.Scheme, u.Host)
	}
	req, err := runtime.NewRequest(ctx, http.MethodGet, target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, redactQuery(err, u.RawQuery))
	}
	body, err := via.do(req)
	return body, redactQuery(err, u.RawQuery)
}

// redactQuery removes a pre-signed URL's query (its signature) from err.
func redactQuery(err error, query string) error {
	if err == nil || query == "" || !strings.Contains(err.Error(), query) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), query, "[REDACTED]"), err: err}
}

// String keeps the key out of %v of a client.
func (c *TrainingClient) String() string { return "azure.TrainingClient(" + c.base + ")" }
