package azuretest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

func TestDocumentDataLoaded(t *testing.T) {
	d := Load(t)
	for _, name := range []string{ReceiptRecording, InvalidLocaleRecording, ModelNotFoundRecording} {
		if len(d.DocumentRecordings[name]) == 0 {
			t.Errorf("recording %s missing", name)
		}
	}
	for _, name := range []string{ReceiptRecording, "receipt-model-output", "invoice-model-output", "read-model-output", "layout-model-output"} {
		var op struct{ Status string }
		if err := json.Unmarshal(d.DocumentResults[name], &op); err != nil || op.Status != "succeeded" {
			t.Errorf("result %s: status %q, %v; want a succeeded operation", name, op.Status, err)
		}
	}
	for _, name := range []string{"AnalyzeDocument_Url", "AnalyzeDocument_Base64", "AnalyzeDocument_Stream"} {
		if len(d.DocumentExamples[name]) == 0 {
			t.Errorf("spec example %s missing", name)
		}
	}
}

func TestDocumentBase64SourceDecoded(t *testing.T) {
	// The spec's AnalyzeDocument_Base64 example body.
	r := httptest.NewRequest(http.MethodPost, "/documentintelligence/documentModels/prebuilt-layout:analyze",
		strings.NewReader(`{"base64Source":"e2Jhc2U2NEVuY29kZWRQZGZ9"}`))
	r.Header.Set("Content-Type", "application/json")
	req, err := readRequest(r)
	if err != nil || string(req.Image) != "{base64EncodedPdf}" {
		t.Fatalf("Image = %q, %v", req.Image, err)
	}
}
