package cli

import (
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
)

// azureConfigured reports whether the environment names a Vision resource.
func azureConfigured(e env) bool {
	return e.getenv("VISION_ENDPOINT") != "" && e.getenv("VISION_KEY") != ""
}

// azureRetries turns --retries into the client's setting, where 0 would
// mean "the default".
func azureRetries(n int) int {
	if n <= 0 {
		return azure.NoRetries
	}
	return n
}

// azureTimeout reads SIGHTLINE_AZURE_TIMEOUT, the time one cloud attempt
// may take (the client's default, 30 s, when unset).
func azureTimeout(e env) (time.Duration, error) {
	v := e.getenv("SIGHTLINE_AZURE_TIMEOUT")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usagef("SIGHTLINE_AZURE_TIMEOUT=%q is not a positive duration such as 10s", v)
	}
	return d, nil
}

// newAzureAnalyzer builds the Image Analysis client from the environment;
// retries is the number of retries after a failed try (0: none).
func newAzureAnalyzer(e env, retries int) (analyzer.Analyzer, error) {
	if !azureConfigured(e) {
		return nil, usagef("the Azure backend needs VISION_ENDPOINT and VISION_KEY in the environment")
	}
	timeout, err := azureTimeout(e)
	if err != nil {
		return nil, err
	}
	c, err := azure.NewVisionClient(e.getenv("VISION_ENDPOINT"), e.getenv("VISION_KEY"),
		&azure.VisionOptions{Retries: azureRetries(retries), TryTimeout: timeout})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}

func newAzurePredictor(e env, project, published string, retries int, noStore bool) (analyzer.Predictor, error) {
	endpoint, key := e.getenv("CUSTOM_VISION_PREDICTION_ENDPOINT"), e.getenv("CUSTOM_VISION_PREDICTION_KEY")
	if endpoint == "" || key == "" {
		return nil, usagef("the Azure backend needs CUSTOM_VISION_PREDICTION_ENDPOINT and CUSTOM_VISION_PREDICTION_KEY in the environment")
	}
	timeout, err := azureTimeout(e)
	if err != nil {
		return nil, err
	}
	c, err := azure.NewPredictionClient(endpoint, key, project, published,
		&azure.PredictionOptions{Retries: azureRetries(retries), NoStore: noStore, TryTimeout: timeout})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}
