package azure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/clock"
)

func newTraining(t testing.TB, srv *azuretest.Server, opts *azure.TrainingOptions) (*azure.TrainingClient, *clock.Fake) {
	t.Helper()
	if opts == nil {
		opts = &azure.TrainingOptions{}
	}
	clk := newFakeClock()
	opts.Clock = clk
	c, err := azure.NewTrainingClient(srv.URL, srv.Key, opts)
	if err != nil {
		t.Fatalf("NewTrainingClient: %v", err)
	}
	return c, clk
}

// samplePhotos are the 40 labelled photos of the shared material, with
// their boxes as fractions, as Custom Vision regions want them.
type samplePhoto struct {
	name, tag string
	data      []byte
	box       [4]float64
}

func samplePhotos(t testing.TB, data *azuretest.Data) []samplePhoto {
	t.Helper()
	dir := filepath.Join(data.Dir, "customvision-training", "samples")
	b, err := os.ReadFile(filepath.Join(dir, "object-detection", "regions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var regions struct {
		Images []struct {
			File    string
			Tag     string
			Regions []struct{ Left, Top, Width, Height float64 }
		}
	}
	if err := json.Unmarshal(b, &regions); err != nil {
		t.Fatal(err)
	}
	var out []samplePhoto
	for _, im := range regions.Images {
		img, err := os.ReadFile(filepath.Join(dir, im.File))
		if err != nil {
			t.Fatal(err)
		}
		r := im.Regions[0]
		out = append(out, samplePhoto{filepath.Base(im.File), im.Tag, img, [4]float64{r.Left, r.Top, r.Width, r.Height}})
	}
	return out
}

// exportArchive is the shared sample export zipped as the service exports it.
func exportArchive(t testing.TB) []byte {
	t.Helper()
	return azuretest.ExportArchive(t, onnxtest.CustomVisionSample(t))
}

// setUpProject creates an object detection project on a compact domain
// with the fork and scissors tags.
func setUpProject(t *testing.T, c *azure.TrainingClient) (azure.Project, map[string]string) {
	t.Helper()
	ctx := context.Background()
	domains, err := c.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := azure.PickDomain(domains, azure.ObjectDetection, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "General (compact) [S1]" {
		t.Errorf("domain %q, want General (compact) [S1]", d.Name)
	}
	p, err := c.CreateProject(ctx, "sightline test", d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, name := range []string{"fork", "scissors"} {
		tag, err := c.CreateTag(ctx, p.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		tags[name] = tag.ID
	}
	return p, tags
}

func entriesOf(photos []samplePhoto, tags map[string]string) []azure.ImageEntry {
	var out []azure.ImageEntry
	for _, p := range photos {
		out = append(out, azure.ImageEntry{Name: p.name, Image: analyzer.Image{Bytes: p.data},
			Regions: []azure.Region{{TagID: tags[p.tag], Left: p.box[0], Top: p.box[1], Width: p.box[2], Height: p.box[3]}}})
	}
	return out
}

// TestTrainPublishExport runs the quickstart's path against the stand-in:
// domains → project → tags → the 40 photos (twice: 80 images in two
// batches, the second 40 duplicates) → train → publish → ONNX export →
// download, and checks what went over the wire.
func TestTrainPublishExport(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{ExportZip: exportArchive(t)}))
	c, clk := newTraining(t, srv, &azure.TrainingOptions{Poll: clock.Backoff{Jitter: -1}})
	ctx := context.Background()
	p, tags := setUpProject(t, c)

	photos := samplePhotos(t, srv.Data)
	var progress [][2]int
	results, err := c.UploadImages(ctx, p.ID, append(entriesOf(photos, tags), entriesOf(photos, tags)...),
		func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		want := azure.UploadOK
		if i >= len(photos) {
			want = azure.UploadOKDuplicate
		}
		if r.Status != want || !r.OK() || r.ImageID == "" || r.Name != photos[i%len(photos)].name {
			t.Errorf("image %d: %+v, want %s", i, r, want)
		}
	}
	if !slices.Equal(progress, [][2]int{{64, 80}, {80, 80}}) {
		t.Errorf("progress %v, want two batches: 64 then 80 of 80", progress)
	}

	it, err := c.Train(ctx, p.ID)
	if err != nil || it.Status != azure.StatusTraining {
		t.Fatalf("Train: %+v, %v", it, err)
	}
	var seen []string
	it, err = c.WaitTrained(ctx, p.ID, it.ID, func(i azure.Iteration) { seen = append(seen, i.Status) })
	if err != nil || it.Status != azure.StatusCompleted || !it.Exportable {
		t.Fatalf("WaitTrained: %+v, %v", it, err)
	}
	if want := []string{"Training", "Training", "Training", "Completed"}; !slices.Equal(seen, want) {
		t.Errorf("polls saw %v, want %v", seen, want)
	}
	// Polls are spaced by the backoff: 1 s, 2 s, 4 s.
	if got := clk.Slept(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}) {
		t.Errorf("slept %v between polls", got)
	}

	if err := c.Publish(ctx, p.ID, it.ID, "detectModel", azuretest.PredictionResourceID); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	publish := srv.Last()
	if q := publish.Query; q.Get("publishName") != "detectModel" || q.Get("predictionId") != azuretest.PredictionResourceID || q.Get("overwrite") != "true" {
		t.Errorf("publish query %v", q)
	}

	exportAndDownload(t, c, srv, p.ID, it.ID)
}

func exportAndDownload(t *testing.T, c *azure.TrainingClient, srv *azuretest.Server, projectID, iterationID string) {
	t.Helper()
	ctx := context.Background()
	e, err := c.Export(ctx, projectID, iterationID, azure.PlatformONNX)
	if err != nil || e.Status != azure.ExportExporting {
		t.Fatalf("Export: %+v, %v", e, err)
	}
	e, err = c.WaitExport(ctx, projectID, iterationID, azure.PlatformONNX, nil)
	if err != nil || e.Status != azure.ExportDone || e.DownloadURI == "" {
		t.Fatalf("WaitExport: %+v, %v", e, err)
	}
	dir := filepath.Join(t.TempDir(), "models", "fork-scissors")
	if err := c.DownloadExport(ctx, projectID, e, dir, nil); err != nil {
		t.Fatalf("DownloadExport: %v", err)
	}
	sample := onnxtest.CustomVisionSample(t)
	for _, name := range []string{"model.onnx", "labels.txt", "cvexport.manifest"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want, err := os.ReadFile(filepath.Join(sample, name)); err == nil && !bytes.Equal(got, want) {
			t.Errorf("%s differs from the exported file", name)
		}
	}
	// A pre-signed URL is fetched without the key (the stand-in's storage
	// also fails the test if one arrives).
	if download := srv.Last(); strings.HasPrefix(e.DownloadURI, "http") &&
		(!strings.HasPrefix(download.Path, azuretest.BlobPrefix) || download.Header.Get("Training-Key") != "") {
		t.Errorf("download went to %s with key header %q", download.Path, download.Header.Get("Training-Key"))
	}
}

// TestExportBehindVirtualNetwork downloads through the artifacts route
// when the service answers a relative path, with the key this time.
func TestExportBehindVirtualNetwork(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{ExportZip: exportArchive(t), RelativeDownloads: true, Polls: 1}))
	c, _ := newTraining(t, srv, nil)
	p, it := trainedProject(t, c, srv)
	exportAndDownload(t, c, srv, p, it)
	if last := srv.Last(); last.Header.Get("Training-Key") != srv.Key || !strings.HasSuffix(last.Path, "/artifacts") {
		t.Errorf("artifact request %s, key sent %v", last.Path, last.Header.Get("Training-Key") != "")
	}
}

// trainedProject sets up, uploads and trains, returning the project and
// its completed iteration.
func trainedProject(t *testing.T, c *azure.TrainingClient, srv *azuretest.Server) (string, string) {
	t.Helper()
	ctx := context.Background()
	p, tags := setUpProject(t, c)
	if _, err := c.UploadImages(ctx, p.ID, entriesOf(samplePhotos(t, srv.Data)[:4], tags), nil); err != nil {
		t.Fatal(err)
	}
	it, err := c.Train(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if it, err = c.WaitTrained(ctx, p.ID, it.ID, nil); err != nil {
		t.Fatal(err)
	}
	return p.ID, it.ID
}

// TestUploadReportsEachFailure sends a batch with bad images: refused
// before upload (not an image, too small), refused by the service (a
// truncated JPEG), and a batch the service refuses whole; the good images
// still go in, and every failure says why.
func TestUploadReportsEachFailure(t *testing.T) {
	srv := azuretest.New(t)
	c, _ := newTraining(t, srv, nil)
	ctx := context.Background()
	p, tags := setUpProject(t, c)
	photos := samplePhotos(t, srv.Data)
	good := entriesOf(photos[:2], tags)
	truncated := good[1]
	truncated.Name, truncated.Image = "truncated.jpg", analyzer.Image{Bytes: photos[1].data[:len(photos[1].data)/2]}
	tiny := resizedJPEG(t, srv.Data, "azure-ai-vision-sdk_sample.jpg", 40, 30, 90)
	entries := []azure.ImageEntry{
		good[0],
		{Name: "notes.txt", Image: analyzer.Image{Bytes: []byte("not an image at all")}, TagIDs: []string{tags["fork"]}},
		truncated,
		{Name: "tiny.jpg", Image: analyzer.Image{Bytes: tiny}, TagIDs: []string{tags["fork"]}},
	}
	results, err := c.UploadImages(ctx, p.ID, entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ status, why string }{
		{azure.UploadOK, ""},
		{azure.UploadRejected, "not a JPEG"},
		{"ErrorImageFormat", "the service refused the image: ErrorImageFormat"},
		{azure.UploadRejected, "40×30 px"},
	}
	for i, w := range want {
		if r := results[i]; r.Status != w.status || !strings.Contains(r.Error, w.why) || r.Name != entries[i].Name {
			t.Errorf("%s: %+v, want %s (%q)", entries[i].Name, r, w.status, w.why)
		}
	}

	// A batch refused whole: its images fail with the service's reason, the
	// next batch still goes in.
	srv.Enqueue(azuretest.Error(http.StatusBadRequest, "BadRequestImageBatch", "Bad image batch"))
	many := entriesOf(append(slices.Repeat(photos[2:3], 64), photos[3]), tags)
	results, err = c.UploadImages(ctx, p.ID, many, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results[:64] {
		if r.Status != "BadRequestImageBatch" || !strings.Contains(r.Error, "HTTP 400") {
			t.Fatalf("image %d of the refused batch: %+v", i, r)
		}
	}
	if r := results[64]; r.Status != azure.UploadOK {
		t.Errorf("the image after the refused batch: %+v", r)
	}

	// Anything else ends the upload: here a wrong key.
	srv.Enqueue(azuretest.BadKey())
	results, err = c.UploadImages(ctx, p.ID, entriesOf(photos[4:6], tags), nil)
	var se *azure.ServiceError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized || results[0].Status != "" {
		t.Errorf("upload with a bad key: %v, results %+v", err, results)
	}
}

func TestTrainingFails(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{FailTraining: true}))
	c, _ := newTraining(t, srv, nil)
	ctx := context.Background()
	p, tags := setUpProject(t, c)
	if _, err := c.Train(ctx, p.ID); err == nil || !strings.Contains(err.Error(), "BadRequestTrainingValidationFailed") {
		t.Errorf("training without images: %v", err)
	}
	if _, err := c.UploadImages(ctx, p.ID, entriesOf(samplePhotos(t, srv.Data)[:2], tags), nil); err != nil {
		t.Fatal(err)
	}
	it, err := c.Train(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	it, err = c.WaitTrained(ctx, p.ID, it.ID, nil)
	if err == nil || it.Status != azure.StatusFailed || !strings.Contains(err.Error(), `training "Iteration 1" of project`) {
		t.Errorf("failed training: %+v, %v", it, err)
	}
	if _, err := c.Train(ctx, p.ID); err == nil || !strings.Contains(err.Error(), "BadRequestTrainingNotNeeded") {
		t.Errorf("training again with nothing new: %v", err)
	}
}

// TestThrottledRetriesAfter: a 429 with Retry-After is waited out on the
// client's clock, then the call succeeds.
func TestThrottledRetriesAfter(t *testing.T) {
	srv := azuretest.New(t)
	c, clk := newTraining(t, srv, nil)
	srv.Enqueue(azuretest.Throttled("7"), azuretest.Throttled("3"))
	domains, err := c.Domains(context.Background())
	if err != nil || len(domains) == 0 {
		t.Fatalf("Domains after throttling: %v", err)
	}
	if got := clk.Slept(); !slices.Equal(got, []time.Duration{7 * time.Second, 3 * time.Second}) {
		t.Errorf("slept %v, want the service's 7 s then 3 s", got)
	}
	if srv.Count() != 3 {
		t.Errorf("%d requests, want 3", srv.Count())
	}
}

// TestExportStuck: an export that stays "Exporting" ends in ErrTimeout
// after ExportTimeout on the client's clock, polls spaced up to the cap.
func TestExportStuck(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{StuckExports: true, Polls: 1}))
	c, clk := newTraining(t, srv, &azure.TrainingOptions{ExportTimeout: 2 * time.Minute, Poll: clock.Backoff{Jitter: -1}})
	ctx := context.Background()
	p, it := trainedProject(t, c, srv)
	if _, err := c.Export(ctx, p, it, azure.PlatformONNX); err != nil {
		t.Fatal(err)
	}
	before := len(clk.Slept())
	start := clk.Now()
	e, err := c.WaitExport(ctx, p, it, azure.PlatformONNX, nil)
	if !errors.Is(err, azure.ErrTimeout) || e.Status != azure.ExportExporting || !strings.Contains(err.Error(), `still "Exporting" after 2m0s`) {
		t.Fatalf("stuck export: %+v, %v", e, err)
	}
	if waited := clk.Now().Sub(start); waited != 2*time.Minute {
		t.Errorf("waited %v, want exactly the 2 min timeout", waited)
	}
	// 1+2+4+8+16+30+30+29 s: doubling to the 30 s cap, the last wait cut
	// to the deadline.
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 29}
	got := clk.Slept()[before:]
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(got, want) {
		t.Errorf("polls spaced %v, want %v", got, want)
	}
	if err := c.DownloadExport(ctx, p, e, t.TempDir(), nil); err == nil {
		t.Error("an unfinished export was downloaded")
	}
}

// TestDownloadNeverLeaksSignature: a failed download's error carries
// neither the key nor the URL's signature.
func TestDownloadNeverLeaksSignature(t *testing.T) {
	srv := azuretest.New(t)
	c, _ := newTraining(t, srv, &azure.TrainingOptions{ClientOptions: azure.ClientOptions{Retries: azure.NoRetries}})
	e := azure.Export{Platform: "ONNX", Status: azure.ExportDone, DownloadURI: "http://127.0.0.1:1/m/x.ONNX.zip?sv=1&sig=SECRETSIGNATURE"}
	err := c.DownloadExport(context.Background(), "p", e, t.TempDir(), nil)
	if err == nil || strings.Contains(err.Error(), "SECRETSIGNATURE") || strings.Contains(err.Error(), srv.Key) {
		t.Errorf("download error %v", err)
	}
	e.DownloadURI = "ftp://example.com/x.zip"
	if err := c.DownloadExport(context.Background(), "p", e, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("ftp download: %v", err)
	}
}

func TestTrainingBadKey(t *testing.T) {
	srv := azuretest.New(t)
	c, err := azure.NewTrainingClient(srv.URL, "wrong-key", &azure.TrainingOptions{ClientOptions: azure.ClientOptions{Clock: newFakeClock()}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Projects(context.Background())
	var se *azure.ServiceError
	if !errors.As(err, &se) || se.StatusCode != 401 || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("bad key: %v", err)
	}
	if _, err := azure.NewTrainingClient(srv.URL, "", nil); err == nil {
		t.Error("a client without key or credential was made")
	}
}

func TestPickDomain(t *testing.T) {
	domains := []azure.Domain{
		{ID: "1", Name: "General", Type: azure.ObjectDetection, Enabled: true},
		{ID: "2", Name: "General (compact)", Type: azure.ObjectDetection, Exportable: true, Enabled: true},
		{ID: "3", Name: "General (compact) [S1]", Type: azure.ObjectDetection, Exportable: true, Enabled: false},
		{ID: "4", Name: "General (compact)", Type: azure.Classification, Exportable: true, Enabled: true},
		{ID: "5", Name: "Retail (compact)", Type: azure.Classification, Exportable: true, Enabled: true},
	}
	tests := []struct {
		kind, name, wantID, wantErr string
	}{
		{azure.ObjectDetection, "", "2", ""}, // [S1] preferred, but disabled
		{azure.Classification, "", "4", ""},
		{azure.Classification, "retail (compact)", "5", ""},
		{azure.ObjectDetection, "General", "1", ""}, // named: exportable or not
		{azure.ObjectDetection, "Logo", "", `no enabled ObjectDetection domain called "Logo"`},
	}
	for _, tt := range tests {
		d, err := azure.PickDomain(domains, tt.kind, tt.name)
		if d.ID != tt.wantID || (tt.wantErr != "") != (err != nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("PickDomain(%s, %q) = %+v, %v; want %s %q", tt.kind, tt.name, d, err, tt.wantID, tt.wantErr)
		}
	}
	if _, err := azure.PickDomain(domains[:1], azure.ObjectDetection, ""); err == nil || !strings.Contains(err.Error(), `"General"`) {
		t.Errorf("no compact domain: %v", err)
	}
}
