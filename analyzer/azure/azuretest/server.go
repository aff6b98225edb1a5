package azuretest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // image.DecodeConfig of uploads
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Defaults of a new Server.
const (
	DefaultKey        = "azuretest-key-0123456789abcdef"
	DefaultAPIVersion = "2023-10-01"
	// AnalyzePath is the Image Analysis route under the endpoint.
	AnalyzePath = "/computervision/imageanalysis:analyze"
	// BadKeyMessage is the service's message for a wrong key.
	BadKeyMessage = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
)

// Request is what a client sent, as the server saw it.
type Request struct {
	Method      string
	Path        string // decoded
	EscapedPath string
	Query       url.Values
	Header      http.Header
	Body        []byte
	ContentType string // media type without parameters
	ImageURL    string // the "url" (or Document Intelligence's "urlSource") of a JSON body
	// Image is the image or document of a raw or multipart body, or a
	// JSON body's decoded "base64Source".
	Image     []byte
	Multipart bool // the image came as multipart field imageData
}

// Server is a loopback Image Analysis, Custom Vision (prediction and
// training) and Document Intelligence service.
type Server struct {
	URL   string // the endpoint to give clients
	Key   string // the key it accepts
	Token string // a bearer token it accepts, if set
	Data  *Data

	t          testing.TB
	srv        *httptest.Server
	apiVersion string
	strict     bool
	done       chan struct{}

	docAPIVersion string

	mu         sync.Mutex
	script     []Reply
	requests   []Request
	docPolls   int
	operations map[string]*operation
	samples    map[string][]byte // sample documents read so far

	training trainingState
	mux      *http.ServeMux // the Training API's routes
}

// Option configures New.
type Option func(*Server)

// WithKey sets the accepted key (DefaultKey otherwise).
func WithKey(key string) Option { return func(s *Server) { s.Key = key } }

// WithToken also accepts "Authorization: Bearer token".
func WithToken(token string) Option { return func(s *Server) { s.Token = token } }

// WithAPIVersion sets the Image Analysis api-version accepted.
func WithAPIVersion(v string) Option { return func(s *Server) { s.apiVersion = v } }

// WithDocumentAPIVersion sets the Document Intelligence api-version accepted.
func WithDocumentAPIVersion(v string) Option { return func(s *Server) { s.docAPIVersion = v } }

// Lenient stops the server from failing the test on protocol mistakes
// (unknown or repeated query parameters, wrong content types); it still
// answers them as the service would.
func Lenient() Option { return func(s *Server) { s.strict = false } }

// New starts a server for the duration of t.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{Key: DefaultKey, Data: Load(t), t: t, apiVersion: DefaultAPIVersion, strict: true, done: make(chan struct{}),
		docAPIVersion: DefaultDocumentAPIVersion, docPolls: DefaultDocumentPolls,
		operations: map[string]*operation{}, samples: map[string][]byte{}}
	for _, o := range opts {
		o(s)
	}
	s.mux = s.trainingMux()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.done) // releases hanging handlers
		s.srv.Close()
	})
	return s
}

// Enqueue scripts the replies to the next requests, in order, whatever
// their route; once they are used up the server answers from the recordings.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count is how many requests the server received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Last returns the last request; it fails the test if there was none.
func (s *Server) Last() Request {
	s.t.Helper()
	rs := s.Requests()
	if len(rs) == 0 {
		s.t.Fatalf("azuretest: no request received")
	}
	return rs[len(rs)-1]
}

func (s *Server) errorf(format string, args ...any) {
	if s.strict {
		s.t.Errorf("azuretest: "+format, args...)
	}
}

// route is the service a request is for.
type route int

const (
	routeUnknown route = iota
	routeAnalyze
	routePredict
	routeTraining
	routeDocument       // POST documentModels/{model}:analyze
	routeDocumentResult // GET documentModels/{model}/analyzeResults/{id}
)

var predictPath = regexp.MustCompile(`^/customvision/v3\.0/prediction/([^/]+)/(classify|detect)/iterations/([^/]+)/(url|image)(/nostore)?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req, err := readRequest(r)
	if err != nil {
		s.errorf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var scripted *Reply
	if len(s.script) > 0 {
		scripted = &s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	rt := routeUnknown
	switch {
	case req.Method == http.MethodPost && req.Path == AnalyzePath:
		rt = routeAnalyze
		s.checkAnalyzeProtocol(req)
	case req.Method == http.MethodPost && predictPath.MatchString(req.Path):
		rt = routePredict
		s.checkPredictProtocol(req)
	case strings.HasPrefix(req.Path, TrainingPrefix+"/") || strings.HasPrefix(req.Path, BlobPrefix):
		rt = routeTraining
	case req.Method == http.MethodPost && documentAnalyzePath.MatchString(req.Path):
		rt = routeDocument
		s.checkDocumentProtocol(req)
	case req.Method == http.MethodGet && documentResultPath.MatchString(req.Path):
		rt = routeDocumentResult
		s.checkDocumentProtocol(req)
	}
	if scripted != nil && !scripted.recorded {
		s.play(w, r, req, rt, *scripted)
		return
	}
	s.answer(w, r, req, rt)
}

// answer answers req as the service would, unscripted (for training,
// from its state).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req Request, rt route) {
	switch rt {
	case routeAnalyze:
		s.answerAnalyze(w, r, req)
	case routePredict:
		s.answerPredict(w, r, req)
	case routeTraining:
		s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
	case routeDocument:
		s.answerDocumentAnalyze(w, req)
	case routeDocumentResult:
		s.answerDocumentResult(w, req)
	default:
		writeJSON(w, http.StatusNotFound, nil, `{"error":{"code":"404","message":"Resource not found"}}`)
	}
}

func readRequest(r *http.Request) (Request, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req := Request{Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(),
		Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	if err != nil {
		return req, err
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req.ContentType = mt
	switch mt {
	case "application/json":
		var u struct {
			URL          string `json:"url"`
			URLSource    string `json:"urlSource"`
			Base64Source []byte `json:"base64Source"`
		}
		if err := json.Unmarshal(body, &u); err != nil {
			return req, fmt.Errorf("JSON body: %w", err)
		}
		req.ImageURL = cmp.Or(u.URL, u.URLSource)
		req.Image = u.Base64Source
	case "application/octet-stream", "application/pdf", "image/jpeg", "image/png", "image/tiff", "image/bmp", "image/heif":
		req.Image = body
	case "multipart/form-data":
		req.Multipart = true
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return req, fmt.Errorf("multipart body: %w", err)
			}
			if p.FormName() == "imageData" {
				req.Image, _ = io.ReadAll(p)
			}
		}
		if req.Image == nil {
			return req, fmt.Errorf("multipart body without an imageData field")
		}
	}
	return req, nil
}

// checkAnalyzeProtocol flags what a correct client never sends.
func (s *Server) checkAnalyzeProtocol(req Request) {
	known := []string{"api-version", "features", "language", "gender-neutral-caption", "smartcrops-aspect-ratios", "model-version"}
	for k, v := range req.Query {
		if !slices.Contains(known, k) {
			s.errorf("analyze: unknown query parameter %q", k)
		}
		if len(v) > 1 {
			s.errorf("analyze: query parameter %q repeated", k)
		}
	}
	if req.ContentType != "application/json" && req.ContentType != "application/octet-stream" {
		s.errorf("analyze: Content-Type %q, want application/json or application/octet-stream", req.Header.Get("Content-Type"))
	}
	s.checkOneAuth(req, "Ocp-Apim-Subscription-Key")
}

func (s *Server) checkPredictProtocol(req Request) {
	for k := range req.Query {
		if k != "application" {
			s.errorf("predict: unknown query parameter %q", k)
		}
	}
	source := predictPath.FindStringSubmatch(req.Path)[4]
	if source == "url" && req.ContentType != "application/json" {
		s.errorf("predict: Content-Type %q for /url, want application/json", req.ContentType)
	}
	if source == "image" && req.Image == nil {
		s.errorf("predict: Content-Type %q for /image, want multipart/form-data or application/octet-stream", req.ContentType)
	}
	s.checkOneAuth(req, "Prediction-Key")
}

func (s *Server) checkOneAuth(req Request, keyHeader string) {
	if len(req.Header.Values(keyHeader)) > 1 {
		s.errorf("%s sent %d times", keyHeader, len(req.Header.Values(keyHeader)))
	}
	if req.Header.Get(keyHeader) != "" && req.Header.Get("Authorization") != "" {
		s.errorf("both %s and Authorization sent", keyHeader)
	}
}

func (s *Server) authorized(req Request, keyHeaders ...string) bool {
	for _, h := range keyHeaders {
		if v := req.Header.Get(h); v != "" && v == s.Key {
			return true
		}
	}
	return s.Token != "" && req.Header.Get("Authorization") == "Bearer "+s.Token
}

// visionError answers in Image Analysis's error shape.
func visionError(w http.ResponseWriter, status int, code, inner, message string) {
	e := map[string]any{"code": code, "message": message}
	if inner != "" {
		e["innererror"] = map[string]any{"code": inner, "message": message}
	}
	h := http.Header{}
	if code != strconv.Itoa(status) { // the gateway's own errors carry no x-ms-error-code
		h.Set("x-ms-error-code", code)
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	writeJSON(w, status, h, string(b))
}

// featureKeys maps features to their result in the response body.
var featureKeys = map[string]string{
	"caption": "captionResult", "denseCaptions": "denseCaptionsResult", "tags": "tagsResult",
	"objects": "objectsResult", "people": "peopleResult", "smartCrops": "smartCropsResult", "read": "readResult",
}

func (s *Server) answerAnalyze(w http.ResponseWriter, _ *http.Request, req Request) {
	if !s.authorized(req, "Ocp-Apim-Subscription-Key") {
		visionError(w, http.StatusUnauthorized, "401", "", BadKeyMessage)
		return
	}
	q := req.Query
	if v := q.Get("api-version"); v != s.apiVersion {
		visionError(w, http.StatusNotFound, "404", "", "Resource not found")
		return
	}
	features := strings.Split(q.Get("features"), ",")
	if q.Get("features") == "" {
		visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidParameter", "The request must specify at least one visual feature.")
		return
	}
	for _, f := range features {
		if _, ok := featureKeys[f]; !ok {
			visionError(w, http.StatusBadRequest, "InvalidRequest", "NotSupportedVisualFeature", fmt.Sprintf("Visual feature %q is not supported.", f))
			return
		}
	}
	if lang := q.Get("language"); lang != "" && lang != "en" &&
		(slices.Contains(features, "caption") || slices.Contains(features, "denseCaptions")) {
		visionError(w, http.StatusBadRequest, "InvalidRequest", "NotSupportedLanguage", "The requested feature is not supported in language "+lang+".")
		return
	}
	if v := q.Get("gender-neutral-caption"); v != "" && v != "true" && v != "false" {
		visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidParameter", "gender-neutral-caption must be true or false.")
		return
	}
	if v := q.Get("smartcrops-aspect-ratios"); v != "" {
		for _, r := range strings.Split(v, ",") {
			f, err := strconv.ParseFloat(r, 64)
			if err != nil || f < 0.75 || f > 1.8 {
				visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidParameter", "Smart crop aspect ratios must be between 0.75 and 1.8.")
				return
			}
		}
	}

	var body map[string]any
	recordedW, recordedH := 0, 0
	switch {
	case req.ImageURL != "":
		body = s.recordedAnalysis(features)
	case req.Image != nil:
		if len(req.Image) >= 20<<20 {
			visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidImageSize", "Image size is too big.")
			return
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(req.Image))
		if err != nil {
			visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidImageFormat", "Input image format is not supported.")
			return
		}
		if cfg.Width < 50 || cfg.Height < 50 || cfg.Width > 16000 || cfg.Height > 16000 {
			visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidImageSize", "The input image dimensions are out of range.")
			return
		}
		body = decodeNumbers(s.Data.AnalysisExamples["AnalyzeFromBuffer_MaximumSet"])
		recordedW, recordedH = cfg.Width, cfg.Height
	default:
		visionError(w, http.StatusBadRequest, "InvalidRequest", "InvalidImageUrl", "Image URL is badly formatted.")
		return
	}
	filterResults(body, features)
	if recordedW > 0 {
		// The service answers in the pixels of the image it received.
		scaleResults(body, recordedW, recordedH)
	}
	b, _ := json.Marshal(body)
	h := http.Header{}
	h.Set("apim-request-id", "azuretest-"+strconv.Itoa(s.Count()))
	writeJSON(w, http.StatusOK, h, string(b))
}

// recordedAnalysis is the recorded answer to a URL request: the recording
// made with exactly these features when there is one, else the all-features
// recording, filtered by the caller.
func (s *Server) recordedAnalysis(features []string) map[string]any {
	want := slices.Sorted(slices.Values(features))
	var all map[string]any
	for _, name := range []string{"AnalyzeFromUrl", "AnalyzeUndocumentedParameters"} {
		for _, e := range s.Data.Recordings[name] {
			u, err := url.Parse(e.RequestURI)
			if err != nil {
				continue
			}
			got := slices.Sorted(slices.Values(strings.Split(u.Query().Get("features"), ",")))
			if slices.Equal(got, want) {
				return decodeNumbers(e.ResponseBody)
			}
			if len(got) == len(featureKeys) && all == nil {
				all = decodeNumbers(e.ResponseBody)
			}
		}
	}
	return all
}

func decodeNumbers(b []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep the recorded numbers' text exactly
	var m map[string]any
	_ = d.Decode(&m)
	return m
}

// filterResults keeps the requested results; metadata and modelVersion stay.
func filterResults(body map[string]any, features []string) {
	for f, key := range featureKeys {
		if !slices.Contains(features, f) {
			delete(body, key)
		}
	}
}

// scaleResults rescales the coordinates of a body recorded for the
// metadata's size to an image of w×h.
func scaleResults(body map[string]any, w, h int) {
	md, _ := body["metadata"].(map[string]any)
	ow, _ := toFloat(md["width"])
	oh, _ := toFloat(md["height"])
	body["metadata"] = map[string]any{"width": w, "height": h}
	if ow == 0 || oh == 0 || (int(ow) == w && int(oh) == h) {
		return
	}
	sx, sy := float64(w)/ow, float64(h)/oh
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				switch k {
				case "boundingBox":
					if b, ok := c.(map[string]any); ok {
						x, _ := toFloat(b["x"])
						y, _ := toFloat(b["y"])
						bw, _ := toFloat(b["w"])
						bh, _ := toFloat(b["h"])
						x0, y0 := round(x*sx), round(y*sy)
						b["x"], b["y"], b["w"], b["h"] = x0, y0, round((x+bw)*sx)-x0, round((y+bh)*sy)-y0
					}
				case "boundingPolygon":
					if pts, ok := c.([]any); ok {
						for _, p := range pts {
							if pt, ok := p.(map[string]any); ok {
								x, _ := toFloat(pt["x"])
								y, _ := toFloat(pt["y"])
								pt["x"], pt["y"] = round(x*sx), round(y*sy)
							}
						}
					}
				default:
					walk(c)
				}
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(body)
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

func round(f float64) int {
	if f < 0 {
		return -int(-f + 0.5)
	}
	return int(f + 0.5)
}

// PredictionRecording names the recording for a Custom Vision call:
// "ClassifyImage", "DetectImageUrlNoStore", …
func PredictionRecording(detect, byURL, noStore bool) string {
	name := "Classify"
	if detect {
		name = "Detect"
	}
	name += "Image"
	if byURL {
		name += "Url"
	}
	if noStore {
		name += "NoStore"
	}
	return name
}

func (s *Server) answerPredict(w http.ResponseWriter, _ *http.Request, req Request) {
	if !s.authorized(req, "Prediction-Key", "Prediction") {
		// The gateway answers 401 in the wrapped shape.
		writeJSON(w, http.StatusUnauthorized, nil, `{"error":{"code":"401","message":"`+BadKeyMessage+`"}}`)
		return
	}
	m := predictPath.FindStringSubmatch(req.Path)
	detect, byURL, noStore := m[2] == "detect", m[4] == "url", m[5] != ""
	switch {
	case byURL && req.ImageURL == "":
		writeJSON(w, http.StatusBadRequest, nil, `{"code":"BadRequestImageUrl","message":"Invalid image URL."}`)
		return
	case !byURL && len(req.Image) >= 4<<20:
		writeJSON(w, http.StatusBadRequest, nil, `{"code":"BadRequestImageSizeBytes","message":"Image size in bytes exceeds the limit."}`)
		return
	case !byURL:
		if _, _, err := image.DecodeConfig(bytes.NewReader(req.Image)); err != nil {
			writeJSON(w, http.StatusBadRequest, nil, `{"code":"BadRequestImageFormat","message":"Bad Request Image Format."}`)
			return
		}
	}
	entries := s.Data.Recordings[PredictionRecording(detect, byURL, noStore)]
	if len(entries) == 0 {
		s.t.Errorf("azuretest: no recording for %s", req.Path)
		writeJSON(w, http.StatusInternalServerError, nil, `{"code":"Unknown","message":"no recording"}`)
		return
	}
	e := entries[0]
	h := http.Header{}
	for k, v := range e.ResponseHeaders {
		if strings.EqualFold(k, "apim-request-id") || strings.EqualFold(k, "Request-Id") {
			h.Set(k, v)
		}
	}
	writeJSON(w, e.StatusCode, h, string(e.ResponseBody))
}

func writeJSON(w http.ResponseWriter, status int, h http.Header, body string) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
