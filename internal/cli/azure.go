package cli

import (
	"time"

	"github.com/sightline/sightline/internal/backend"
)

// azureFromEnv reads an Azure resource from the environment variables
// named endpointVar and keyVar, SIGHTLINE_AZURE_AUTH=entra (sign in with
// Microsoft Entra ID instead of the key) and SIGHTLINE_AZURE_TIMEOUT, the
// time one attempt may take (30 s unset). retries 0 means none.
func azureFromEnv(e env, endpointVar, keyVar string, retries int) (backend.Azure, error) {
	a := backend.Azure{
		Endpoint: e.getenv(endpointVar),
		Key:      e.getenv(keyVar),
		Entra:    e.getenv("SIGHTLINE_AZURE_AUTH") == "entra",
		Retries:  retries,
	}
	if v := e.getenv("SIGHTLINE_AZURE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return a, usagef("SIGHTLINE_AZURE_TIMEOUT=%q is not a positive duration such as 10s", v)
		}
		a.TryTimeout = d
	}
	return a, nil
}

// visionFromEnv is the Image Analysis resource: VISION_ENDPOINT and
// VISION_KEY.
func visionFromEnv(e env, retries int) (backend.Azure, error) {
	return azureFromEnv(e, "VISION_ENDPOINT", "VISION_KEY", retries)
}

// predictionFromEnv is the Custom Vision prediction resource.
func predictionFromEnv(e env, retries int) (backend.Azure, error) {
	return azureFromEnv(e, "CUSTOM_VISION_PREDICTION_ENDPOINT", "CUSTOM_VISION_PREDICTION_KEY", retries)
}
