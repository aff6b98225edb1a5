package train

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/dataset"
)

// samples is the 40 labelled photos: their COCO file and their folder.
func samples(t testing.TB, data *azuretest.Data) (*dataset.Dataset, string) {
	t.Helper()
	ds, err := dataset.Read("../dataset/testdata/samples.coco.json")
	if err != nil {
		t.Fatal(err)
	}
	return ds, filepath.Join(data.Dir, "customvision-training", "samples", "object-detection")
}

func newServer(t *testing.T, cfg azuretest.TrainingConfig) (*azuretest.Server, *Trainer) {
	t.Helper()
	if cfg.ExportZip == nil {
		cfg.ExportZip = azuretest.ExportArchive(t, onnxtest.CustomVisionSample(t))
	}
	srv := azuretest.New(t, azuretest.WithTraining(cfg))
	c, err := azure.NewTrainingClient(srv.URL, srv.Key, &azure.TrainingOptions{
		ClientOptions: azure.ClientOptions{Clock: clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, New(c)
}

// loads is the Verify the app and the command use: the local backend
// must load the export.
func loads(dir string) error {
	cv, err := local.NewCustomVision(dir)
	if err != nil {
		return err
	}
	return cv.Close()
}

func TestRunTrainsPublishesExports(t *testing.T) {
	srv, tr := newServer(t, azuretest.TrainingConfig{})
	ds, images := samples(t, srv.Data)
	exportDir := filepath.Join(t.TempDir(), "fork-scissors")
	var stages []string
	opts := Options{Project: "kitchen", PublishName: "detectModel", PredictionResourceID: azuretest.PredictionResourceID,
		ExportDir: exportDir, Verify: loads, OnProgress: func(p Progress) {
			if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
				stages = append(stages, p.Stage)
			}
		}}
	res, err := tr.Run(context.Background(), ds, images, opts)
	if err != nil {
		t.Fatalf("Run: %v (%+v)", err, res)
	}
	want := Result{Project: "kitchen", ProjectID: res.ProjectID, ProjectCreated: true, Domain: "General (compact) [S1]",
		Iteration: "Iteration 1", IterationID: res.IterationID, Status: "Completed", PublishedName: "detectModel",
		ExportDir: exportDir, Images: Counts{Uploaded: 40}}
	if !equalResults(*res, want) || res.ProjectID == "" || res.IterationID == "" {
		t.Errorf("result %+v\nwant %+v", *res, want)
	}
	if wantStages := []string{StageProject, StageTags, StageUpload, StageTrain, StagePublish, StageExport, StageDownload}; !slices.Equal(stages, wantStages) {
		t.Errorf("stages %v, want %v", stages, wantStages)
	}
	if err := loads(exportDir); err != nil {
		t.Errorf("the export does not load: %v", err)
	}
	checkRegionsSent(t, srv, ds)

	// Again with nothing new: the project is found, the images are
	// duplicates, the last training is reused and exported again.
	res, err = tr.Run(context.Background(), ds, images, opts)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if res.ProjectCreated || res.Images != (Counts{Duplicates: 40}) || res.Iteration != "Iteration 1" || res.Status != "Completed" || res.ExportDir != exportDir {
		t.Errorf("second run: %+v", *res)
	}
}

func equalResults(a, b Result) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// checkRegionsSent checks fork_1's region as uploaded: its COCO box in
// pixels as fractions of 816×612.
func checkRegionsSent(t *testing.T, srv *azuretest.Server, ds *dataset.Dataset) {
	t.Helper()
	for _, req := range srv.Requests() {
		if !strings.HasSuffix(req.Path, "/images/files") {
			continue
		}
		var batch struct {
			Images []struct {
				Name    string
				Regions []azure.Region
			}
		}
		if err := json.Unmarshal(req.Body, &batch); err != nil {
			t.Fatal(err)
		}
		for _, im := range batch.Images {
			if im.Name != "fork/fork_1.jpg" {
				continue
			}
			box := ds.Annotations[0].BBox
			g := im.Regions[0]
			want := []float64{box[0] / 816, box[1] / 612, box[2] / 816, box[3] / 612}
			got := []float64{g.Left, g.Top, g.Width, g.Height}
			for i := range want {
				if d := got[i] - want[i]; d > 1e-9 || d < -1e-9 {
					t.Errorf("fork_1 region %v, want %v", got, want)
					break
				}
			}
			return
		}
	}
	t.Error("fork_1 was not uploaded")
}

// TestRunReportsImageFailures: a missing file, a file of another size than
// the dataset says and an image without boxes are reported or skipped; the
// rest is uploaded and trained on.
func TestRunReportsImageFailures(t *testing.T) {
	srv, tr := newServer(t, azuretest.TrainingConfig{})
	ds, images := samples(t, srv.Data)
	ds.Images[1].FileName = "fork/missing.jpg"
	ds.Images[2].Width, ds.Images[2].Height = 1000, 1000
	ds.Annotations = slices.DeleteFunc(ds.Annotations, func(a dataset.Annotation) bool { return a.ImageID == ds.Images[3].ID })
	res, err := tr.Run(context.Background(), ds, images, Options{Project: "kitchen"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Images != (Counts{Uploaded: 37, Failed: 2, Skipped: 1}) || res.Status != "Completed" {
		t.Errorf("result %+v", *res)
	}
	if len(res.Failures) != 2 || res.Failures[0].File != "fork/missing.jpg" || !strings.Contains(res.Failures[0].Error, "no such file") ||
		!strings.Contains(res.Failures[1].Error, "the dataset says 1000x1000 but the file is 816x612") {
		t.Errorf("failures %+v", res.Failures)
	}
}

func TestRunTrainingFails(t *testing.T) {
	srv, tr := newServer(t, azuretest.TrainingConfig{FailTraining: true})
	ds, images := samples(t, srv.Data)
	res, err := tr.Run(context.Background(), ds, images, Options{Project: "kitchen", ExportDir: t.TempDir()})
	if err == nil || res.Status != "Failed" || res.Iteration != "Iteration 1" || !strings.Contains(res.Error, "failed") || res.ExportDir != "" {
		t.Errorf("failed training: %v, %+v", err, *res)
	}
}

func TestRunClassification(t *testing.T) {
	srv, tr := newServer(t, azuretest.TrainingConfig{})
	ds, images := samples(t, srv.Data)
	res, err := tr.Run(context.Background(), ds, images, Options{Project: "kitchen", Kind: azure.Classification})
	if err != nil || res.Domain != "General (compact)" || res.Images.Uploaded != 40 {
		t.Fatalf("classification: %v, %+v", err, *res)
	}
	create := srv.Requests()[2] // domains, projects, create
	if create.Query.Get("classificationType") != "Multiclass" {
		t.Errorf("create project query %v", create.Query)
	}
	// The detection run on the same project is refused, not mixed in.
	_, err = tr.Run(context.Background(), ds, images, Options{Project: "kitchen"})
	if err == nil || !strings.Contains(err.Error(), `"kitchen" is a Classification project, not ObjectDetection`) {
		t.Errorf("detection on a classification project: %v", err)
	}
}

// TestRunKeepsLoadableModel: an export the local backend cannot load does
// not replace the model in the export folder.
func TestRunKeepsLoadableModel(t *testing.T) {
	srv, tr := newServer(t, azuretest.TrainingConfig{ExportZip: brokenExport(t)})
	ds, images := samples(t, srv.Data)
	exportDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(exportDir, "model.onnx"), []byte("the working model"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), ds, images, Options{Project: "kitchen", ExportDir: exportDir, Verify: loads})
	if err == nil || !strings.Contains(err.Error(), "does not load") || res.ExportDir != "" {
		t.Errorf("broken export: %v, %+v", err, *res)
	}
	if b, _ := os.ReadFile(filepath.Join(exportDir, "model.onnx")); string(b) != "the working model" {
		t.Errorf("the working model was replaced by %q", b)
	}
}

func brokenExport(t *testing.T) []byte {
	dir := t.TempDir()
	for name, body := range map[string]string{"model.onnx": "not onnx", "labels.txt": "fork\nscissors\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return azuretest.ExportArchive(t, dir)
}

func TestRunChecksOptions(t *testing.T) {
	srv, tr := newServer(t, azuretest.TrainingConfig{})
	ds, images := samples(t, srv.Data)
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "no project name"},
		{Options{Project: "p", Kind: "Segmentation"}, `kind "Segmentation"`},
		{Options{Project: "p", PublishName: "m"}, "prediction resource"},
	} {
		if _, err := tr.Run(context.Background(), ds, images, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.want)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests for runs refused up front", srv.Count())
	}
	var se *azure.ServiceError
	srv.Enqueue(azuretest.BadKey())
	if _, err := tr.Run(context.Background(), ds, images, Options{Project: "p"}); !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("bad key: %v", err)
	}
}
