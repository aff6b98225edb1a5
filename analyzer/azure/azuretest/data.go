// Package azuretest is a loopback stand-in for Azure AI Vision Image
// Analysis 4.0, Custom Vision Prediction v3.0 and Training v3.3, and
// Document Intelligence 2024-11-30, for the tests of any package that talks
// to them. It answers from the real recordings and spec examples in
// ../shared/azure (beside the repository), checks what clients send, and
// plays scripted faults (service errors, throttling, hangs, broken bodies)
// on demand.
package azuretest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// DataDirEnv overrides where the shared Azure material is looked up.
const DataDirEnv = "SIGHTLINE_AZURE_DATA"

// Entry is one recorded exchange (the Azure SDK test-proxy format).
type Entry struct {
	RequestURI      string
	RequestMethod   string
	RequestHeaders  map[string]string
	RequestBody     []byte // decoded: JSON text, or the raw multipart bytes
	StatusCode      int
	ResponseHeaders map[string]string
	ResponseBody    []byte // JSON text as the service sent it
}

// Data is the shared material: recordings, spec examples and images.
type Data struct {
	Dir string
	// Recordings by name: "AnalyzeFromUrl" (its entries), "ClassifyImage",
	// "DetectImageUrlNoStore", … (file names without .json).
	Recordings map[string][]Entry
	// AnalysisExamples by spec example name ("AnalyzeFromBuffer_MaximumSet", …):
	// the 200 response bodies.
	AnalysisExamples map[string][]byte
	// PredictionExamples by spec example name ("ClassifyImage", …; the
	// v3.1 ClassifyImageWithNoStore stands in for the missing v3.0 one).
	PredictionExamples map[string][]byte
	// TrainingExamples by Custom Vision Training v3.3 spec example name
	// ("GetDomains", "CreateProject", …): the 200 response bodies.
	TrainingExamples map[string][]byte
	// TrainingRecordings by name ("TrainAndPublishProject", "ExportTests",
	// "CreateUpdateDeleteTag"): the .NET SDK's train, publish and export traffic.
	TrainingRecordings map[string][]Entry
	// DocumentRecordings are docintel/recordings by file name without
	// .json: ReceiptRecording, InvalidLocaleRecording, ModelNotFoundRecording.
	DocumentRecordings map[string][]Entry
	// DocumentResults are complete GET analyzeResults bodies of real
	// analyses: ReceiptRecording's last answer (prebuilt-receipt on
	// contoso-allinone.jpg) and the quickstart outputs by file name
	// without .json ("invoice-model-output", …).
	DocumentResults map[string][]byte
	// DocumentExamples are the 2024-11-30 spec examples, whole, by file
	// name without .json ("AnalyzeDocument_Url", …).
	DocumentExamples map[string][]byte
}

// Image returns the bytes of a file in images/ (e.g. "azure-ai-vision-sdk_sample.jpg").
func (d *Data) Image(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Dir, "images", name))
	if err != nil {
		t.Fatalf("azuretest: %v", err)
	}
	return b
}

var (
	loadOnce sync.Once
	loaded   *Data
	loadErr  error
)

// Load finds and parses the shared Azure material, failing t (never
// skipping) when it is missing: CI always has ../shared beside the repo.
func Load(t testing.TB) *Data {
	t.Helper()
	loadOnce.Do(func() {
		var dir string
		if dir, loadErr = findDataDir(); loadErr == nil {
			loaded, loadErr = parseData(dir)
		}
	})
	if loadErr != nil {
		t.Fatalf("azuretest: %v", loadErr)
	}
	return loaded
}

// findDataDir walks up from the working directory to the repository root
// (the directory with go.mod) and returns ../shared/azure beside it.
func findDataDir() (string, error) {
	if d := os.Getenv(DataDirEnv); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			data := filepath.Join(dir, "..", "shared", "azure")
			if _, err := os.Stat(filepath.Join(data, "recordings")); err != nil {
				return "", fmt.Errorf("azure recordings not found at %s (expected ../shared/azure beside the repository at %s; set %s to override)", data, dir, DataDirEnv)
			}
			return filepath.Clean(data), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s, so ../shared/azure cannot be located (set %s)", wd, DataDirEnv)
		}
	}
}

func parseData(dir string) (*Data, error) {
	d := &Data{Dir: dir, Recordings: map[string][]Entry{}, TrainingRecordings: map[string][]Entry{},
		AnalysisExamples: map[string][]byte{}, PredictionExamples: map[string][]byte{}, TrainingExamples: map[string][]byte{},
		DocumentRecordings: map[string][]Entry{}, DocumentResults: map[string][]byte{}, DocumentExamples: map[string][]byte{}}
	if err := parseDocumentData(dir, d); err != nil {
		return nil, err
	}
	for _, recordings := range []struct {
		glob string
		into map[string][]Entry
	}{
		{"recordings/*/*.json", d.Recordings},
		{"customvision-training/recordings/*/*.json", d.TrainingRecordings},
	} {
		recs, err := filepath.Glob(filepath.Join(dir, recordings.glob))
		if err != nil || len(recs) == 0 {
			return nil, fmt.Errorf("no recordings %s in %s", recordings.glob, dir)
		}
		for _, f := range recs {
			entries, err := parseRecording(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			recordings.into[strings.TrimSuffix(filepath.Base(f), ".json")] = entries
		}
	}
	examples := []struct {
		glob string
		into map[string][]byte
	}{
		{"spec/imageanalysis/2023-10-01/examples/*.json", d.AnalysisExamples},
		{"spec/customvision-prediction/v3.0/examples/*.json", d.PredictionExamples},
		{"spec/customvision-prediction/v3.1/examples/*.json", d.PredictionExamples},
		{"customvision-training/examples/v3.3/*.json", d.TrainingExamples},
	}
	for _, ex := range examples {
		files, _ := filepath.Glob(filepath.Join(dir, ex.glob))
		for _, f := range files {
			var doc struct {
				Responses map[string]struct {
					Body json.RawMessage `json:"body"`
				} `json:"responses"`
			}
			if err := readJSON(f, &doc); err != nil {
				return nil, err
			}
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			if _, dup := ex.into[name]; !dup {
				ex.into[name] = doc.Responses["200"].Body
			}
		}
	}
	return d, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// parseRecording reads a test-proxy recording. Header values are strings in
// the newer format and string lists in the older one; bodies are JSON
// values, JSON text in a string, or base64 for binary requests.
func parseRecording(path string) ([]Entry, error) {
	var doc struct {
		Entries []struct {
			RequestURI      string                     `json:"RequestUri"`
			RequestMethod   string                     `json:"RequestMethod"`
			RequestHeaders  map[string]json.RawMessage `json:"RequestHeaders"`
			RequestBody     json.RawMessage            `json:"RequestBody"`
			StatusCode      int                        `json:"StatusCode"`
			ResponseHeaders map[string]json.RawMessage `json:"ResponseHeaders"`
			ResponseBody    json.RawMessage            `json:"ResponseBody"`
		} `json:"Entries"`
	}
	if err := readJSON(path, &doc); err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(doc.Entries))
	for _, e := range doc.Entries {
		out = append(out, Entry{
			RequestURI: e.RequestURI, RequestMethod: e.RequestMethod, StatusCode: e.StatusCode,
			RequestHeaders: flattenHeaders(e.RequestHeaders), ResponseHeaders: flattenHeaders(e.ResponseHeaders),
			RequestBody: recordedBody(e.RequestBody, true), ResponseBody: recordedBody(e.ResponseBody, false),
		})
	}
	return out, nil
}

func flattenHeaders(h map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(h))
	for k, raw := range h {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = s
			continue
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			out[k] = strings.Join(list, ", ")
		}
	}
	return out
}

func recordedBody(raw json.RawMessage, mayBeBase64 bool) []byte {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return raw // a JSON value recorded as such
	}
	if mayBeBase64 && !json.Valid([]byte(s)) {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return b
		}
	}
	return []byte(s)
}
