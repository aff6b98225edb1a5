package azure

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/sightline/sightline/analyzer"
)

// PredictionOptions configure a PredictionClient. The zero value is ready
// to use.
type PredictionOptions struct {
	// NoStore asks the service not to keep the images (the /nostore routes).
	NoStore bool
	// Application names the calling application in the service's
	// prediction logs (the optional "application" query parameter).
	Application string
	ClientOptions
}

// PredictionClient calls a published Custom Vision iteration through the
// Prediction v3.0 API. It is safe for concurrent use.
type PredictionClient struct {
	*client
	base        string // {endpoint}/customvision/v3.0/prediction/{project}
	published   string
	noStore     bool
	application string
	maxSide     int
}

// NewPredictionClient returns a client for the iteration of projectID
// published as publishedName, authenticated by the prediction key (or by
// opts.Credential).
func NewPredictionClient(endpoint, key, projectID, publishedName string, opts *PredictionOptions) (*PredictionClient, error) {
	const service = "azure custom vision"
	if opts == nil {
		opts = &PredictionOptions{}
	}
	c, u, err := opts.dial(service, endpoint, "Prediction-Key", key)
	if err != nil {
		return nil, err
	}
	if projectID == "" || publishedName == "" {
		return nil, fmt.Errorf("%s: a project id and a published iteration name are both needed", service)
	}
	p := &PredictionClient{
		client:      c,
		base:        runtime.JoinPaths(u.String(), "customvision/v3.0/prediction", url.PathEscape(projectID)),
		published:   url.PathEscape(publishedName),
		noStore:     opts.NoStore,
		application: opts.Application,
		maxSide:     opts.MaxSide,
	}
	if p.maxSide == 0 {
		p.maxSide = DefaultMaxSide
	}
	return p, nil
}

// Predict implements analyzer.Predictor: it classifies img, or detects
// objects in it when detect is set. Boxes are fractions of the image, as
// the service returns them, so downscaling needs no mapping.
func (c *PredictionClient) Predict(ctx context.Context, img analyzer.Image, detect bool) ([]analyzer.Prediction, error) {
	kind, source := "classify", "image"
	if detect {
		kind = "detect"
	}
	if img.URL != "" {
		source = "url"
	}
	route := runtime.JoinPaths(c.base, kind, "iterations", c.published, source)
	if c.noStore {
		route += "/nostore"
	}
	req, err := runtime.NewRequest(ctx, http.MethodPost, route)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	if c.application != "" {
		req.Raw().URL.RawQuery = url.Values{"application": {c.application}}.Encode()
	}
	req.Raw().Header.Set("Accept", "application/json")
	if img.URL != "" {
		err = runtime.MarshalAsJSON(req, map[string]string{"url": img.URL})
	} else {
		var up upload
		up, err = prepareUpload(img, uploadLimits{maxBytes: PredictionMaxBytes, maxSide: c.maxSide})
		if err != nil {
			return nil, err
		}
		// Multipart with the field imageData, as the service's own SDKs send.
		err = runtime.SetMultipartFormData(req, map[string]any{"imageData": streaming.MultipartContent{
			Body: streaming.NopCloser(bytes.NewReader(up.body)), ContentType: "application/octet-stream", Filename: "image",
		}})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	body, err := c.do(req)
	if err != nil {
		return nil, err
	}
	preds, err := DecodePrediction(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.cfg.service, err)
	}
	return preds, nil
}

// Name implements analyzer.Predictor.
func (c *PredictionClient) Name() string { return "azure" }

// String keeps the key out of %v of a client.
func (c *PredictionClient) String() string { return "azure.PredictionClient(" + c.base + ")" }
