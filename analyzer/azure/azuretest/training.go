package azuretest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Routes of the Custom Vision Training stand-in.
const (
	// TrainingPrefix is the Training API v3.3 under the endpoint.
	TrainingPrefix = "/customvision/v3.3/training"
	// BlobPrefix is where finished exports download from: the stand-in
	// for the service's pre-signed Azure Blob Storage URLs.
	BlobPrefix = "/azuretest-blob/"
	// TrainingBatchLimit is the service's limit of images an upload.
	TrainingBatchLimit = 64
	// PredictionResourceID is an Azure resource id of the shape publishing
	// needs.
	PredictionResourceID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/azuretest/providers/Microsoft.CognitiveServices/accounts/azuretest-prediction"
)

// TrainingConfig scripts how the Training stand-in behaves.
type TrainingConfig struct {
	// Polls is how many status requests a training or an export answers
	// "Training" or "Exporting" before it finishes (default 3; the
	// recording of a real training polled five times).
	Polls int
	// FailTraining makes every training end "Failed".
	FailTraining bool
	// StuckExports keeps every export "Exporting".
	StuckExports bool
	// RelativeDownloads answers exports with a path for the artifacts
	// route, as a resource behind a virtual network does, instead of a URL.
	RelativeDownloads bool
	// ExportZip is the archive an export downloads as (ExportArchive
	// builds one from a folder).
	ExportZip []byte
}

// WithTraining configures the Training stand-in.
func WithTraining(cfg TrainingConfig) Option { return func(s *Server) { s.training.cfg = cfg } }

// ExportArchive zips the files of dir as an ONNX export archive holds
// them, plus extra files a real one carries beside the model.
func ExportArchive(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write(b)
		}
		if err != nil {
			t.Fatalf("azuretest: %v", err)
		}
	}
	for _, name := range []string{"model.onnx", "labels.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("azuretest: export archive: %v", err)
		}
		add(name, b)
	}
	add("metadata_properties.json", []byte(`{"CustomVision.Metadata.Version": "1.2"}`))
	add("cvexport.manifest", []byte(`{"DomainType": "Classification", "Platform": "ONNX"}`))
	if err := zw.Close(); err != nil {
		t.Fatalf("azuretest: %v", err)
	}
	return buf.Bytes()
}

// trainingState is the service's data: projects with their tags, images
// and iterations.
type trainingState struct {
	cfg TrainingConfig

	mu       sync.Mutex
	projects []*cvProject
	ids      int
}

type cvProject struct {
	body       map[string]any // as the service returns it
	tags       []map[string]any
	images     map[[32]byte]string // content hash → image id
	iterations []*cvIteration
	changed    bool // images added since the last training
}

type cvIteration struct {
	body    map[string]any
	polls   int
	exports []*cvExport
}

type cvExport struct {
	body  map[string]any
	polls int
}

// newID is a fresh, well-formed UUID.
func (ts *trainingState) newID() string {
	ts.ids++
	return fmt.Sprintf("a2e2e000-0000-4000-8000-%012x", ts.ids)
}

// trainingError is the Training API's error shape: flat {code, message}.
type trainingError struct {
	status        int
	code, message string
}

func cvErr(status int, code, message string) *trainingError {
	return &trainingError{status, code, message}
}

// handlerFunc answers one route: a body to encode as JSON, or an error.
type handlerFunc func(s *Server, r *http.Request, req Request) (any, *trainingError)

// trainingRoutes maps the routes Sightline uses to their handler and the
// query parameters the spec allows there.
var trainingRoutes = []struct {
	pattern string
	query   []string
	handle  handlerFunc
}{
	{"GET /domains", nil, (*Server).getDomains},
	{"GET /projects", nil, (*Server).getProjects},
	{"POST /projects", []string{"name", "description", "domainId", "classificationType", "targetExportPlatforms"}, (*Server).createProject},
	{"GET /projects/{p}/tags", []string{"iterationId"}, (*Server).getTags},
	{"POST /projects/{p}/tags", []string{"name", "description", "type"}, (*Server).createTag},
	{"POST /projects/{p}/images/files", nil, (*Server).createImages},
	{"POST /projects/{p}/train", []string{"trainingType", "reservedBudgetInHours", "forceTrain", "notificationEmailAddress"}, (*Server).train},
	{"GET /projects/{p}/iterations", nil, (*Server).getIterations},
	{"GET /projects/{p}/iterations/{i}", nil, (*Server).getIteration},
	{"POST /projects/{p}/iterations/{i}/publish", []string{"publishName", "predictionId", "overwrite"}, (*Server).publish},
	{"POST /projects/{p}/iterations/{i}/export", []string{"platform", "flavor"}, (*Server).export},
	{"GET /projects/{p}/iterations/{i}/export", nil, (*Server).getExports},
	{"GET /projects/{p}/artifacts", []string{"path"}, (*Server).getArtifact},
}

// trainingMux routes Training API requests; built once a server.
func (s *Server) trainingMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range trainingRoutes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		mux.HandleFunc(method+" "+TrainingPrefix+path, func(w http.ResponseWriter, r *http.Request) {
			req := r.Context().Value(requestKey{}).(Request)
			for k := range req.Query {
				if !slices.Contains(rt.query, k) {
					s.errorf("%s: query parameter %q is not in the spec", rt.pattern, k)
				}
			}
			s.checkOneAuth(req, "Training-Key")
			if !s.authorized(req, "Training-Key") {
				writeJSON(w, http.StatusUnauthorized, nil, `{"error":{"code":"401","message":"`+BadKeyMessage+`"}}`)
				return
			}
			s.training.mu.Lock()
			body, e := rt.handle(s, r, req)
			s.training.mu.Unlock()
			if e != nil {
				b, _ := json.Marshal(map[string]string{"code": e.code, "message": e.message})
				writeJSON(w, e.status, nil, string(b))
				return
			}
			if _, ok := body.(rawZip); ok {
				s.writeZip(w)
				return
			}
			b, _ := json.Marshal(body)
			h := http.Header{"Apim-Request-Id": {fmt.Sprintf("azuretest-%d", s.Count())}}
			status := http.StatusOK
			if m, ok := body.(map[string]any); ok && m["isBatchSuccessful"] == false {
				status = http.StatusMultiStatus
			}
			writeJSON(w, status, h, string(b))
		})
	}
	mux.HandleFunc("GET "+BlobPrefix, s.serveBlob)
	return mux
}

type requestKey struct{}

// example returns a copy of a v3.3 spec example's 200 body.
func (s *Server) example(name string) any {
	var v any
	if err := json.Unmarshal(s.Data.TrainingExamples[name], &v); err != nil {
		s.t.Errorf("azuretest: training example %s: %v", name, err)
	}
	return v
}

// objectDetectionDomains are the object detection domains Microsoft's
// "Select a domain" page documents; the v3.3 GetDomains example lists only
// classification domains. Compact domains are exportable, as documented
// (the example marks none exportable).
var objectDetectionDomains = []map[string]any{
	{"id": "da2e3a8a-40a5-4171-82f4-58522f70fbc1", "name": "General", "type": "ObjectDetection", "exportable": false, "enabled": true},
	{"id": "1d8ffafe-ec40-4fb2-8f90-72b3b6cecea4", "name": "Logo", "type": "ObjectDetection", "exportable": false, "enabled": true},
	{"id": "3780a898-81c3-4516-81ae-3a139614e1f3", "name": "Products on Shelves", "type": "ObjectDetection", "exportable": false, "enabled": true},
	{"id": "a27d5ca5-bb19-49d8-a70a-fec086c47f5b", "name": "General (compact)", "type": "ObjectDetection", "exportable": true, "enabled": true},
	{"id": "7ec2ac80-887b-48a6-8df9-8b1357765430", "name": "General (compact) [S1]", "type": "ObjectDetection", "exportable": true, "enabled": true},
}

func (s *Server) domains() []map[string]any {
	var out []map[string]any
	for _, d := range s.example("GetDomains").([]any) {
		m := d.(map[string]any)
		m["exportable"] = strings.Contains(m["name"].(string), "(compact)")
		out = append(out, m)
	}
	for _, d := range objectDetectionDomains {
		out = append(out, maps.Clone(d))
	}
	return out
}

func (s *Server) getDomains(*http.Request, Request) (any, *trainingError) { return s.domains(), nil }

func (s *Server) getProjects(*http.Request, Request) (any, *trainingError) {
	out := []any{}
	for _, p := range s.training.projects {
		out = append(out, p.body)
	}
	return out, nil
}

func (s *Server) createProject(_ *http.Request, req Request) (any, *trainingError) {
	name, domainID := req.Query.Get("name"), req.Query.Get("domainId")
	if strings.TrimSpace(name) == "" {
		return nil, cvErr(http.StatusBadRequest, "BadRequestProjectName", "Invalid project name")
	}
	var domain map[string]any
	for _, d := range s.domains() {
		if d["id"] == domainID {
			domain = d
		}
	}
	if domain == nil {
		return nil, cvErr(http.StatusBadRequest, "BadRequestProjectUnknownDomain", "Unknown domain")
	}
	body := s.example("CreateProject").(map[string]any)
	settings := map[string]any{"domainId": domainID}
	if domain["type"] == "Classification" {
		settings["classificationType"] = cmpOr(req.Query.Get("classificationType"), "Multiclass")
	}
	body["id"], body["name"], body["description"], body["settings"] = s.training.newID(), name, req.Query.Get("description"), settings
	s.training.projects = append(s.training.projects, &cvProject{body: body, images: map[[32]byte]string{}})
	return body, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// project finds the request's project ({p}).
func (s *Server) project(r *http.Request) (*cvProject, *trainingError) {
	for _, p := range s.training.projects {
		if p.body["id"] == r.PathValue("p") {
			return p, nil
		}
	}
	return nil, cvErr(http.StatusNotFound, "NotFound", "Project not found")
}

func (s *Server) getTags(r *http.Request, _ Request) (any, *trainingError) {
	p, e := s.project(r)
	if e != nil {
		return nil, e
	}
	return append([]map[string]any{}, p.tags...), nil
}

func (s *Server) createTag(r *http.Request, req Request) (any, *trainingError) {
	p, e := s.project(r)
	if e != nil {
		return nil, e
	}
	name := req.Query.Get("name")
	for _, t := range p.tags {
		if strings.EqualFold(t["name"].(string), name) {
			return nil, cvErr(http.StatusBadRequest, "BadRequestTagNameNotUnique", "Name not unique")
		}
	}
	tag := s.example("CreateTag").(map[string]any)
	tag["id"], tag["name"], tag["description"] = s.training.newID(), name, req.Query.Get("description")
	p.tags = append(p.tags, tag)
	return tag, nil
}

// imageEntry is an ImageFileCreateEntry as clients send it.
type imageEntry struct {
	Name     string     `json:"name"`
	Contents []byte     `json:"contents"`
	TagIDs   []string   `json:"tagIds"`
	Regions  []cvRegion `json:"regions"`
}

type cvRegion struct {
	TagID                    string `json:"tagId"`
	Left, Top, Width, Height float64
}

func (s *Server) createImages(r *http.Request, req Request) (any, *trainingError) {
	p, e := s.project(r)
	if e != nil {
		return nil, e
	}
	if req.ContentType != "application/json" {
		s.errorf("images/files: Content-Type %q, want application/json", req.ContentType)
	}
	var batch struct {
		Images []imageEntry `json:"images"`
	}
	if err := json.Unmarshal(req.Body, &batch); err != nil {
		return nil, cvErr(http.StatusBadRequest, "BadRequestImageBatch", "Invalid batch: "+err.Error())
	}
	if len(batch.Images) > TrainingBatchLimit {
		s.errorf("images/files: %d images in one batch, the limit is %d", len(batch.Images), TrainingBatchLimit)
		return nil, cvErr(http.StatusBadRequest, "BadRequestExceededBatchSize", "Exceeded the maximum batch size of 64")
	}
	if e := checkTags(batch.Images, p); e != nil {
		return nil, e
	}
	results := []any{}
	ok := true
	for _, im := range batch.Images {
		res := s.createImage(p, im)
		ok = ok && (res["status"] == "OK" || res["status"] == "OKDuplicate")
		results = append(results, res)
	}
	return map[string]any{"isBatchSuccessful": ok, "images": results}, nil
}

// checkTags refuses a batch whose tags or regions name unknown tags, or
// whose regions lie outside their image.
func checkTags(images []imageEntry, p *cvProject) *trainingError {
	known := func(id string) bool {
		return slices.ContainsFunc(p.tags, func(t map[string]any) bool { return t["id"] == id })
	}
	for _, im := range images {
		for _, id := range im.TagIDs {
			if !known(id) {
				return cvErr(http.StatusBadRequest, "BadRequestImageTags", "Invalid tag id "+id)
			}
		}
		for _, g := range im.Regions {
			if !known(g.TagID) || g.Left < 0 || g.Top < 0 || g.Width <= 0 || g.Height <= 0 || g.Left+g.Width > 1.0001 || g.Top+g.Height > 1.0001 {
				return cvErr(http.StatusBadRequest, "BadRequestImageRegions", "Invalid region")
			}
		}
	}
	return nil
}

// createImage stores one image and returns its ImageCreateResult, shaped
// as the spec example's: images it cannot decode whole are
// ErrorImageFormat (the stand-in decodes JPEG, PNG and GIF), images
// already in the project OKDuplicate.
func (s *Server) createImage(p *cvProject, im imageEntry) map[string]any {
	res := map[string]any{"sourceUrl": `"` + im.Name + `"`}
	decoded, _, err := image.Decode(bytes.NewReader(im.Contents))
	switch {
	case err != nil:
		res["status"] = "ErrorImageFormat"
		return res
	case len(im.Contents) > 6<<20:
		res["status"] = "ErrorImageSize"
		return res
	}
	hash := sha256.Sum256(im.Contents)
	id, dup := p.images[hash]
	res["status"] = "OK"
	if dup {
		res["status"] = "OKDuplicate"
	} else {
		id = s.training.newID()
		p.images[hash] = id
		p.changed = true
	}
	example := s.example("CreateImagesFromFiles").(map[string]any)
	img := example["images"].([]any)[0].(map[string]any)["image"].(map[string]any)
	img["id"], img["width"], img["height"] = id, decoded.Bounds().Dx(), decoded.Bounds().Dy()
	img["tags"], img["regions"] = s.imageTags(p, im, !dup)
	res["image"] = img
	return res
}

// imageTags lists an image's tags and regions as the service does, and
// counts a new image in its tags' imageCount.
func (s *Server) imageTags(p *cvProject, im imageEntry, count bool) (tags, regions []any) {
	for _, t := range p.tags {
		id := t["id"].(string)
		tagged := slices.Contains(im.TagIDs, id)
		for _, g := range im.Regions {
			if g.TagID == id {
				tagged = true
				regions = append(regions, map[string]any{"regionId": s.training.newID(), "tagName": t["name"], "tagId": id,
					"left": g.Left, "top": g.Top, "width": g.Width, "height": g.Height})
			}
		}
		if tagged {
			tags = append(tags, map[string]any{"tagId": id, "tagName": t["name"], "created": "2024-05-01T12:00:00Z"})
			if count {
				t["imageCount"] = t["imageCount"].(float64) + 1
			}
		}
	}
	return tags, regions
}

// recorded returns a copy of the object a training recording's entry
// answered (the first, if it answered a list).
func (s *Server) recorded(name string, entry int) map[string]any {
	var v any
	es := s.Data.TrainingRecordings[name]
	if entry < 0 {
		entry += len(es)
	}
	if err := json.Unmarshal(es[entry].ResponseBody, &v); err != nil {
		s.t.Errorf("azuretest: recording %s[%d]: %v", name, entry, err)
	}
	if list, ok := v.([]any); ok && len(list) > 0 {
		v = list[0]
	}
	m, _ := v.(map[string]any)
	return m
}

// The recording's POST /train answer (status Training) and its last poll
// (Completed) are the shapes of a new and a finished iteration.
const (
	recTrain          = "TrainAndPublishProject"
	recTrainStarted   = 3
	recTrainCompleted = -2
	recExport         = "ExportTests"
	recExportStarted  = 1
	recExportDone     = -1
)

func (s *Server) train(r *http.Request, _ Request) (any, *trainingError) {
	p, e := s.project(r)
	if e != nil {
		return nil, e
	}
	tagged := slices.ContainsFunc(p.tags, func(t map[string]any) bool { return t["imageCount"].(float64) > 0 })
	switch {
	case len(p.images) == 0 || !tagged:
		return nil, cvErr(http.StatusBadRequest, "BadRequestTrainingValidationFailed", "Not enough images for training")
	case !p.changed && len(p.iterations) > 0:
		return nil, cvErr(http.StatusBadRequest, "BadRequestTrainingNotNeeded", "Nothing changed since last training")
	}
	body := s.recorded(recTrain, recTrainStarted)
	body["id"], body["name"], body["projectId"] = s.training.newID(), fmt.Sprintf("Iteration %d", len(p.iterations)+1), p.body["id"]
	p.iterations = append(p.iterations, &cvIteration{body: body})
	p.changed = false
	return body, nil
}

// iteration finds the request's iteration ({i}) of its project.
func (s *Server) iteration(r *http.Request) (*cvProject, *cvIteration, *trainingError) {
	p, e := s.project(r)
	if e != nil {
		return nil, nil, e
	}
	for _, it := range p.iterations {
		if it.body["id"] == r.PathValue("i") {
			return p, it, nil
		}
	}
	return nil, nil, cvErr(http.StatusNotFound, "NotFound", "Iteration not found")
}

func (s *Server) getIterations(r *http.Request, _ Request) (any, *trainingError) {
	p, e := s.project(r)
	if e != nil {
		return nil, e
	}
	out := []any{}
	for _, it := range p.iterations {
		out = append(out, it.body)
	}
	return out, nil
}

// getIteration answers the iteration's state; each poll moves a training
// on, to Completed (or Failed) after cfg.Polls polls.
func (s *Server) getIteration(r *http.Request, _ Request) (any, *trainingError) {
	p, it, e := s.iteration(r)
	if e != nil {
		return nil, e
	}
	if it.body["status"] == "Training" {
		if it.polls++; it.polls > s.polls() {
			s.finishTraining(p, it)
		}
	}
	return it.body, nil
}

func (s *Server) polls() int {
	if s.training.cfg.Polls > 0 {
		return s.training.cfg.Polls
	}
	return 3
}

func (s *Server) finishTraining(p *cvProject, it *cvIteration) {
	done := s.recorded(recTrain, recTrainCompleted)
	for _, k := range []string{"id", "name", "projectId", "created"} {
		done[k] = it.body[k]
	}
	settings := p.body["settings"].(map[string]any)
	done["domainId"] = settings["domainId"]
	done["classificationType"] = settings["classificationType"]
	for _, d := range s.domains() {
		if d["id"] == settings["domainId"] {
			done["exportable"] = d["exportable"]
		}
	}
	if s.training.cfg.FailTraining {
		done["status"], done["trainedAt"] = "Failed", nil
	}
	it.body = done
}

func (s *Server) publish(r *http.Request, req Request) (any, *trainingError) {
	_, it, e := s.iteration(r)
	if e != nil {
		return nil, e
	}
	name, target := req.Query.Get("publishName"), req.Query.Get("predictionId")
	switch {
	case it.body["status"] != "Completed":
		return nil, cvErr(http.StatusBadRequest, "BadRequestIterationIsNotTrained", "Iteration is not trained")
	case name == "":
		return nil, cvErr(http.StatusBadRequest, "BadRequestInvalidPublishName", "Invalid publish name")
	case !strings.HasPrefix(target, "/subscriptions/") || !strings.Contains(target, "/providers/Microsoft.CognitiveServices/accounts/"):
		return nil, cvErr(http.StatusBadRequest, "BadRequestInvalidPublishTarget", "Invalid prediction resource id")
	}
	it.body["publishName"], it.body["originalPublishResourceId"] = name, target
	return true, nil
}

func (s *Server) export(r *http.Request, req Request) (any, *trainingError) {
	_, it, e := s.iteration(r)
	if e != nil {
		return nil, e
	}
	platform := req.Query.Get("platform")
	switch {
	case it.body["status"] != "Completed":
		return nil, cvErr(http.StatusBadRequest, "BadRequestIterationIsNotTrained", "Iteration is not trained")
	case it.body["exportable"] != true:
		return nil, cvErr(http.StatusBadRequest, "BadRequestExportValidationFailed", "The iteration's domain cannot be exported")
	case !slices.Contains([]string{"CoreML", "TensorFlow", "DockerFile", "ONNX", "VAIDK"}, platform):
		return nil, cvErr(http.StatusBadRequest, "BadRequestNotSupported", "Unsupported platform "+platform)
	}
	for _, x := range it.exports {
		if x.body["platform"] == platform && x.body["status"] == "Exporting" {
			return nil, cvErr(http.StatusBadRequest, "BadRequestExportAlreadyInProgress", "Export already in progress")
		}
	}
	body := s.recorded(recExport, recExportStarted)
	body["platform"] = platform
	it.exports = append(it.exports, &cvExport{body: body})
	return body, nil
}

// getExports answers the iteration's exports; each poll moves an export
// on, to Done after cfg.Polls polls, unless exports are stuck.
func (s *Server) getExports(r *http.Request, _ Request) (any, *trainingError) {
	p, it, e := s.iteration(r)
	if e != nil {
		return nil, e
	}
	out := []any{}
	for _, x := range it.exports {
		if x.body["status"] == "Exporting" && !s.training.cfg.StuckExports {
			if x.polls++; x.polls > s.polls() {
				done := s.recorded(recExport, recExportDone)
				done["platform"] = x.body["platform"]
				done["downloadUri"] = s.downloadURI(p, it, x.body["platform"].(string))
				x.body = done
			}
		}
		out = append(out, x.body)
	}
	return out, nil
}

// downloadURI is where an export downloads from: a pre-signed URL shaped
// like the recording's, or a relative artifact path.
func (s *Server) downloadURI(p *cvProject, it *cvIteration, platform string) string {
	path := fmt.Sprintf("m-%s/%s.%s.zip", p.body["id"], it.body["id"], platform)
	if s.training.cfg.RelativeDownloads {
		return path
	}
	return s.URL + BlobPrefix + path + "?sv=2017-04-17&sr=b&sig=azuretest%2Bsignature%3D&se=2030-01-01T00%3A00%3A00Z&sp=r"
}

func (s *Server) getArtifact(r *http.Request, req Request) (any, *trainingError) {
	if _, e := s.project(r); e != nil {
		return nil, e
	}
	if !strings.HasPrefix(req.Query.Get("path"), "m-") {
		return nil, cvErr(http.StatusBadRequest, "BadRequestInvalidArtifactUri", "Invalid artifact path")
	}
	return rawZip{}, nil
}

// rawZip marks a handler's answer as the export archive.
type rawZip struct{}

// serveBlob is the storage behind a pre-signed URL: it needs the
// signature, and must never see a key.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request) {
	req := r.Context().Value(requestKey{}).(Request)
	if req.Header.Get("Training-Key") != "" || req.Header.Get("Authorization") != "" {
		s.errorf("blob: the client sent its key to the storage host")
	}
	if req.Query.Get("sig") == "" {
		writeJSON(w, http.StatusForbidden, nil, `{"code":"AuthenticationFailed"}`)
		return
	}
	s.writeZip(w)
}

func (s *Server) writeZip(w http.ResponseWriter) {
	s.training.mu.Lock()
	b := s.training.cfg.ExportZip
	s.training.mu.Unlock()
	if b == nil {
		s.t.Errorf("azuretest: an export was downloaded but TrainingConfig.ExportZip is not set")
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(b)
}
