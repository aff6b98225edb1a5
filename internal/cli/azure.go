package cli

import (
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
)

// azureConfigured reports whether the environment names a Vision resource
// and a way to sign in to it.
func azureConfigured(e env) bool {
	return e.getenv("VISION_ENDPOINT") != "" && (e.getenv("VISION_KEY") != "" || entraAuth(e))
}

// entraAuth: SIGHTLINE_AZURE_AUTH=entra signs in with Microsoft Entra ID
// instead of a key, for resources whose keys are disabled.
func entraAuth(e env) bool { return e.getenv("SIGHTLINE_AZURE_AUTH") == "entra" }

// clientOptions are the pipeline settings of both Azure clients: retries
// (--retries; 0 means none, where the client would take 0 as its default)
// and SIGHTLINE_AZURE_TIMEOUT, the time one attempt may take (30 s unset).
func clientOptions(e env, retries int) (azure.ClientOptions, error) {
	o := azure.ClientOptions{Retries: retries}
	if entraAuth(e) {
		// The Azure SDK's default chain: AZURE_TENANT_ID, AZURE_CLIENT_ID
		// and AZURE_CLIENT_SECRET (or a certificate), workload or managed
		// identity, then an `az login` session.
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return o, usagef("SIGHTLINE_AZURE_AUTH=entra: %v", err)
		}
		o.Credential = cred
	}
	if retries <= 0 {
		o.Retries = azure.NoRetries
	}
	if v := e.getenv("SIGHTLINE_AZURE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, usagef("SIGHTLINE_AZURE_TIMEOUT=%q is not a positive duration such as 10s", v)
		}
		o.TryTimeout = d
	}
	return o, nil
}

// newAzureAnalyzer builds the Image Analysis client from the environment.
func newAzureAnalyzer(e env, retries int) (analyzer.Analyzer, error) {
	if !azureConfigured(e) {
		return nil, usagef("the Azure backend needs VISION_ENDPOINT and VISION_KEY (or SIGHTLINE_AZURE_AUTH=entra) in the environment")
	}
	co, err := clientOptions(e, retries)
	if err != nil {
		return nil, err
	}
	c, err := azure.NewVisionClient(e.getenv("VISION_ENDPOINT"), e.getenv("VISION_KEY"), &azure.VisionOptions{ClientOptions: co})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}

func newAzurePredictor(e env, project, published string, retries int, noStore bool) (analyzer.Predictor, error) {
	endpoint, key := e.getenv("CUSTOM_VISION_PREDICTION_ENDPOINT"), e.getenv("CUSTOM_VISION_PREDICTION_KEY")
	if endpoint == "" || (key == "" && !entraAuth(e)) {
		return nil, usagef("the Azure backend needs CUSTOM_VISION_PREDICTION_ENDPOINT and CUSTOM_VISION_PREDICTION_KEY (or SIGHTLINE_AZURE_AUTH=entra) in the environment")
	}
	co, err := clientOptions(e, retries)
	if err != nil {
		return nil, err
	}
	c, err := azure.NewPredictionClient(endpoint, key, project, published, &azure.PredictionOptions{NoStore: noStore, ClientOptions: co})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}
