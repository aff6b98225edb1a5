package azuretest

import (
	"strings"
	"testing"
)

func TestFindDataDirFailsClearly(t *testing.T) {
	t.Setenv(DataDirEnv, "")
	t.Chdir(t.TempDir()) // no go.mod above a temp dir
	_, err := findDataDir()
	if err == nil || !strings.Contains(err.Error(), "../shared/azure") {
		t.Fatalf("err = %v, want a message naming ../shared/azure", err)
	}
}

func TestDataLoaded(t *testing.T) {
	d := Load(t)
	for _, name := range []string{"AnalyzeFromUrl", "ClassifyImage", "DetectImageUrlNoStore"} {
		if len(d.Recordings[name]) == 0 || len(d.Recordings[name][0].ResponseBody) == 0 {
			t.Errorf("recording %s missing", name)
		}
	}
	if len(d.AnalysisExamples["AnalyzeFromBuffer_MaximumSet"]) == 0 || len(d.PredictionExamples["ClassifyImageWithNoStore"]) == 0 {
		t.Error("spec examples missing")
	}
	if len(d.TrainingExamples["GetDomains"]) == 0 || len(d.TrainingRecordings["TrainAndPublishProject"]) != 10 || len(d.TrainingRecordings["ExportTests"]) != 5 {
		t.Error("Custom Vision Training examples or recordings missing")
	}
	// The multipart recordings carry the test image.
	if !strings.Contains(string(d.Recordings["ClassifyImage"][0].RequestBody), "name=imageData") {
		t.Error("multipart request body not decoded")
	}
}
