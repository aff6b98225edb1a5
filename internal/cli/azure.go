package cli

import (
	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
)

// azureConfigured reports whether the environment names a Vision resource.
func azureConfigured(e env) bool {
	return e.getenv("VISION_ENDPOINT") != "" && e.getenv("VISION_KEY") != ""
}

func newAzureAnalyzer(e env, retries int) (analyzer.Analyzer, error) {
	if !azureConfigured(e) {
		return nil, usagef("the Azure backend needs VISION_ENDPOINT and VISION_KEY in the environment")
	}
	return azure.NewVisionClient(e.getenv("VISION_ENDPOINT"), e.getenv("VISION_KEY"), &azure.VisionOptions{Retries: retries})
}

func newAzurePredictor(e env, project, published string, retries int) (analyzer.Predictor, error) {
	if e.getenv("CUSTOM_VISION_PREDICTION_ENDPOINT") == "" || e.getenv("CUSTOM_VISION_PREDICTION_KEY") == "" {
		return nil, usagef("the Azure backend needs CUSTOM_VISION_PREDICTION_ENDPOINT and CUSTOM_VISION_PREDICTION_KEY in the environment")
	}
	return nil, usagef("Custom Vision cloud prediction is not built yet")
}
