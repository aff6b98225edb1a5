package azuretest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Document Intelligence material and defaults.
const (
	DefaultDocumentAPIVersion = "2024-11-30"
	// DefaultDocumentPolls is how many polls answer "running" before the
	// result, as in ReceiptRecording.
	DefaultDocumentPolls = 2
	// ReceiptRecording is the real prebuilt-receipt analysis of
	// contoso-allinone.jpg by URL: 202, two polls "running", the result.
	ReceiptRecording = "DocumentIntelligenceClientTest.analyzeReceiptSourceUrl[1]"
	// InvalidLocaleRecording is the real 400 to a bad locale.
	InvalidLocaleRecording = "receipts__recording_invalid_locale_throws"
	// ModelNotFoundRecording is the real 404 for a model that does not exist.
	ModelNotFoundRecording = "DocumentModelAdministrationLiveTests__GetModelCanParseError"
	// DocumentSamples is the folder of sample documents under Data.Dir.
	DocumentSamples = "docintel/samples/rest-api-samples"
)

// Document returns the bytes of a sample document, by its path under
// DocumentSamples ("contoso-allinone.jpg", "rest-api/invoice.pdf", …).
func (d *Data) Document(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Dir, DocumentSamples, name))
	if err != nil {
		t.Fatalf("azuretest: %v", err)
	}
	return b
}

// parseDocumentData loads docintel/: recordings, real results and the
// 2024-11-30 spec examples.
func parseDocumentData(dir string, d *Data) error {
	recs, _ := filepath.Glob(filepath.Join(dir, "docintel", "recordings", "*", "*.json"))
	for _, f := range recs {
		entries, err := parseRecording(f)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		d.DocumentRecordings[strings.TrimSuffix(filepath.Base(f), ".json")] = entries
	}
	receipt := d.DocumentRecordings[ReceiptRecording]
	if len(receipt) == 0 {
		return fmt.Errorf("no Document Intelligence recordings in %s/docintel", dir)
	}
	d.DocumentResults[ReceiptRecording] = receipt[len(receipt)-1].ResponseBody
	for glob, into := range map[string]map[string][]byte{
		"docintel/examples/quickstart-rest-outputs/*.json": d.DocumentResults,
		"docintel/examples/2024-11-30/*.json":              d.DocumentExamples,
	} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			into[strings.TrimSuffix(filepath.Base(f), ".json")] = b
		}
	}
	return nil
}

// Routes of Document Intelligence under the endpoint.
var (
	documentAnalyzePath = regexp.MustCompile(`^/documentintelligence/documentModels/([^/]+):analyze$`)
	documentResultPath  = regexp.MustCompile(`^/documentintelligence/documentModels/([^/]+)/analyzeResults/([^/]+)$`)
)

// prebuiltResults names, for each prebuilt model, its default result and
// the sample documents whose own real result the server answers with.
var prebuiltResults = map[string]struct {
	result  string
	samples map[string]string // sample under DocumentSamples → result
}{
	"prebuilt-receipt": {ReceiptRecording, map[string]string{
		"contoso-allinone.jpg": ReceiptRecording, "rest-api/receipt.png": "receipt-model-output"}},
	"prebuilt-invoice":    {"invoice-model-output", map[string]string{"rest-api/invoice.pdf": "invoice-model-output"}},
	"prebuilt-read":       {"read-model-output", map[string]string{"rest-api/read.png": "read-model-output"}},
	"prebuilt-layout":     {"layout-model-output", map[string]string{"rest-api/layout.png": "layout-model-output"}},
	"prebuilt-idDocument": {"", nil}, // no real result in the material: an empty one
}

// operation is an analysis the server accepted.
type operation struct {
	model     string
	result    []byte
	pollsLeft int // "running" answers still to give; negative: forever
}

// SetDocumentPolls sets how many polls of later analyses answer "running"
// before the result; n < 0 makes them run forever.
func (s *Server) SetDocumentPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docPolls = n
}

// checkDocumentProtocol flags what a correct client never sends.
func (s *Server) checkDocumentProtocol(req Request) {
	known := []string{"api-version", "pages", "locale", "stringIndexType", "features", "queryFields", "outputContentFormat", "output"}
	for k, v := range req.Query {
		if !slices.Contains(known, k) {
			s.errorf("document: unknown query parameter %q", k)
		}
		if len(v) > 1 {
			s.errorf("document: query parameter %q repeated", k)
		}
	}
	if req.Method == http.MethodPost && req.Image == nil && req.ImageURL == "" {
		s.errorf("document: analyze without urlSource, base64Source or a document body (Content-Type %q)", req.ContentType)
	}
	s.checkOneAuth(req, "Ocp-Apim-Subscription-Key")
}

// documentError answers in Document Intelligence's error shape.
func documentError(w http.ResponseWriter, status int, code, inner, message string) {
	e := map[string]any{"code": code, "message": message}
	if inner != "" {
		e["innererror"] = map[string]any{"code": inner, "message": message}
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	writeJSON(w, status, nil, string(b))
}

// replay answers with a recorded exchange's status, request id and body.
func replay(w http.ResponseWriter, e Entry) {
	h := http.Header{}
	if id := e.ResponseHeaders["apim-request-id"]; id != "" {
		h.Set("apim-request-id", id)
	}
	writeJSON(w, e.StatusCode, h, string(e.ResponseBody))
}

var (
	localePattern = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
	pagesPattern  = regexp.MustCompile(`^(\d+(-\d+)?)(,\s*(\d+(-\d+)?))*$`)
)

func (s *Server) answerDocumentAnalyze(w http.ResponseWriter, req Request) {
	if !s.documentAuthorized(w, req) {
		return
	}
	model := documentAnalyzePath.FindStringSubmatch(req.Path)[1]
	prebuilt, ok := prebuiltResults[model]
	switch {
	case !ok:
		replay(w, s.Data.DocumentRecordings[ModelNotFoundRecording][0])
		return
	case req.Query.Has("locale") && !localePattern.MatchString(req.Query.Get("locale")):
		replay(w, s.Data.DocumentRecordings[InvalidLocaleRecording][0])
		return
	case req.Query.Has("pages") && !pagesPattern.MatchString(req.Query.Get("pages")):
		documentError(w, http.StatusBadRequest, "InvalidArgument", "InvalidParameter", "The parameter pages is invalid: The page range is invalid.")
		return
	case req.ImageURL == "" && !documentReadable(req.Image):
		documentError(w, http.StatusBadRequest, "InvalidRequest", "InvalidContent", "The file is corrupted or format is unsupported. Refer to documentation for the list of supported formats.")
		return
	}
	result := prebuilt.result
	if sample := s.sampleOf(req); prebuilt.samples[sample] != "" {
		result = prebuilt.samples[sample]
	}
	s.mu.Lock()
	id := fmt.Sprintf("azuretest-%08d-0000-4000-8000-000000000000", len(s.operations)+1)
	s.operations[id] = &operation{model: model, result: s.documentResult(model, result), pollsLeft: s.docPolls}
	s.mu.Unlock()
	h := http.Header{}
	h.Set("apim-request-id", id)
	h.Set("Operation-Location", fmt.Sprintf("%s/documentintelligence/documentModels/%s/analyzeResults/%s?api-version=%s",
		s.URL, model, id, s.docAPIVersion))
	w.Header().Set("Content-Length", "0")
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusAccepted)
}

// documentAuthorized answers 401 or 404 (wrong key, wrong api-version) as
// the service's gateway does, and reports whether the request may go on.
func (s *Server) documentAuthorized(w http.ResponseWriter, req Request) bool {
	if !s.authorized(req, "Ocp-Apim-Subscription-Key") {
		writeJSON(w, http.StatusUnauthorized, nil, `{"error":{"code":"401","message":"`+BadKeyMessage+`"}}`)
		return false
	}
	if req.Query.Get("api-version") != s.docAPIVersion {
		writeJSON(w, http.StatusNotFound, nil, `{"error":{"code":"404","message":"Resource not found"}}`)
		return false
	}
	return true
}

// documentReadable: the formats the service reads, by their magic bytes.
func documentReadable(b []byte) bool {
	for _, magic := range []string{"%PDF-", "\xff\xd8\xff", "\x89PNG", "II*\x00", "MM\x00*", "BM"} {
		if bytes.HasPrefix(b, []byte(magic)) {
			return true
		}
	}
	return len(b) > 12 && string(b[4:8]) == "ftyp"
}

// sampleOf names the sample document a request sent: by the file name of
// its URL, or by its bytes.
func (s *Server) sampleOf(req Request) string {
	for _, p := range prebuiltResults {
		for sample := range p.samples {
			if req.ImageURL != "" && path.Base(strings.SplitN(req.ImageURL, "?", 2)[0]) == path.Base(sample) {
				return sample
			}
			if req.Image != nil && bytes.Equal(req.Image, s.sampleBytes(sample)) {
				return sample
			}
		}
	}
	return ""
}

func (s *Server) sampleBytes(sample string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.samples[sample]; ok {
		return b
	}
	b, _ := os.ReadFile(filepath.Join(s.Data.Dir, DocumentSamples, sample))
	s.samples[sample] = b
	return b
}

// documentResult is the succeeded body for model: a real one, or for a
// model the material has no result of, an empty analysis.
func (s *Server) documentResult(model, name string) []byte {
	if b := s.Data.DocumentResults[name]; b != nil {
		return b
	}
	b, _ := json.Marshal(map[string]any{"status": "succeeded",
		"createdDateTime": "2024-10-31T01:06:05Z", "lastUpdatedDateTime": "2024-10-31T01:06:06Z",
		"analyzeResult": map[string]any{"apiVersion": s.docAPIVersion, "modelId": model,
			"stringIndexType": "textElements", "content": "", "pages": []any{}, "documents": []any{}}})
	return b
}

func (s *Server) answerDocumentResult(w http.ResponseWriter, req Request) {
	if !s.documentAuthorized(w, req) {
		return
	}
	id := documentResultPath.FindStringSubmatch(req.Path)[2]
	s.mu.Lock()
	op := s.operations[id]
	running := op != nil && op.pollsLeft != 0
	if running && op.pollsLeft > 0 {
		op.pollsLeft--
	}
	s.mu.Unlock()
	switch {
	case op == nil:
		documentError(w, http.StatusNotFound, "NotFound", "AnalyzeResultNotFound", "The requested analyze result was not found.")
	case running:
		writeJSON(w, http.StatusOK, http.Header{"Retry-After": {"1"}, "apim-request-id": {id}}, string(s.recordedRunning()))
	default:
		writeJSON(w, http.StatusOK, http.Header{"apim-request-id": {id}}, string(op.result))
	}
}

// recordedRunning is ReceiptRecording's "running" answer.
func (s *Server) recordedRunning() []byte {
	return s.Data.DocumentRecordings[ReceiptRecording][1].ResponseBody
}

// Running answers a poll with the recorded "running" status and
// Retry-After: 1.
func Running() Reply {
	return Raw(http.StatusOK, http.Header{"Retry-After": {"1"}},
		`{"status":"running","createdDateTime":"2024-10-31T01:06:05Z","lastUpdatedDateTime":"2024-10-31T01:06:05Z"}`)
}

// OperationFailed answers a poll with an analysis that ended as status
// ("failed" or "canceled"), with the service's error and inner code.
func OperationFailed(status, code, inner, message string) Reply {
	e := map[string]any{"code": code, "message": message}
	if inner != "" {
		e["innererror"] = map[string]any{"code": inner, "message": message}
	}
	b, _ := json.Marshal(map[string]any{"status": status, "createdDateTime": "2024-10-31T01:06:05Z",
		"lastUpdatedDateTime": "2024-10-31T01:06:06Z", "error": e})
	return Raw(http.StatusOK, nil, string(b))
}

// documentWrongShape is a succeeded operation whose result has wrong types.
const documentWrongShape = `{"status":"succeeded","analyzeResult":{"modelId":"prebuilt-receipt","content":"x","pages":"two"}}`
