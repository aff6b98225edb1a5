package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/internal/train"
)

// trainingEnv points train at srv.
func trainingEnv(srv *azuretest.Server) map[string]string {
	return map[string]string{
		"CUSTOM_VISION_TRAINING_ENDPOINT":      srv.URL,
		"CUSTOM_VISION_TRAINING_KEY":           srv.Key,
		"CUSTOM_VISION_PREDICTION_RESOURCE_ID": azuretest.PredictionResourceID,
	}
}

// trainOutput decodes train's one line.
func trainOutput(t *testing.T, out string) train.Result {
	t.Helper()
	if n := len(jsonLines(t, out)); n != 1 {
		t.Fatalf("%d lines, want 1: %s", n, out)
	}
	var r train.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTrainPublishExport: train on the 40 photos against the loopback
// service, publish, export; the line says what happened, and the export
// folder is a model `predict --model` runs.
func TestTrainPublishExport(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{ExportZip: azuretest.ExportArchive(t, onnxtest.CustomVisionSample(t))}))
	exportDir := filepath.Join(t.TempDir(), "kitchen-model")
	code, out, stderr := runCLI(t, trainingEnv(srv), "train", "--dataset", samplesCOCO, "--images", sampleImages(t),
		"--project", "kitchen", "--publish", "detectModel", "--export", exportDir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := trainOutput(t, out)
	if r.Project != "kitchen" || !r.ProjectCreated || r.Iteration != "Iteration 1" || r.Status != "Completed" ||
		r.PublishedName != "detectModel" || r.ExportDir != exportDir || r.Images != (train.Counts{Uploaded: 40}) || r.Error != "" {
		t.Errorf("line %s", out)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(out), &raw)
	for _, key := range []string{"project", "iteration", "status", "published_name", "export_dir"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("no %q in %s", key, out)
		}
	}
	img := filepath.Join(onnxtest.CustomVisionSample(t), "test_image.jpg")
	if code, out, stderr := runCLI(t, nil, "predict", "--model", exportDir, img); code != exitOK || !strings.Contains(out, `"success":true`) {
		t.Errorf("predict with the export: exit %d, %s %s", code, out, stderr)
	}
}

// TestTrainFailures: a failed training is exit 1 with the line saying so
// and the error on stderr; images that fail are listed and named on
// stderr, exit 1; a wrong key never shows.
func TestTrainFailures(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithTraining(azuretest.TrainingConfig{FailTraining: true}))
	code, out, stderr := runCLI(t, trainingEnv(srv), "train", "--dataset", samplesCOCO, "--images", sampleImages(t), "--project", "kitchen")
	r := trainOutput(t, out)
	if code != exitFailed || r.Status != "Failed" || !strings.Contains(r.Error, "failed") || !strings.Contains(stderr, "sightline train: ") {
		t.Errorf("failed training: exit %d, line %s, stderr %q", code, out, stderr)
	}

	ds := readSamples(t)
	ds.Images[0].FileName = "fork/missing.jpg"
	srv = azuretest.New(t)
	code, out, stderr = runCLI(t, trainingEnv(srv), "train", "--dataset", writeDataset(t, ds), "--images", sampleImages(t), "--project", "kitchen")
	r = trainOutput(t, out)
	if code != exitFailed || r.Status != "Completed" || r.Images.Failed != 1 || !strings.Contains(stderr, "sightline train: fork/missing.jpg: open") {
		t.Errorf("a missing image: exit %d, line %s, stderr %q", code, out, stderr)
	}

	env := trainingEnv(srv)
	env["CUSTOM_VISION_TRAINING_KEY"] = "a-wrong-key-0123"
	code, out, stderr = runCLI(t, env, "train", "--dataset", samplesCOCO, "--images", sampleImages(t), "--project", "kitchen")
	if code != exitFailed || !strings.Contains(stderr, "HTTP 401") || strings.Contains(out+stderr, "a-wrong-key-0123") {
		t.Errorf("wrong key: exit %d, %s %s", code, out, stderr)
	}
}

func TestTrainUsageErrors(t *testing.T) {
	srv := azuretest.New(t)
	full := trainingEnv(srv)
	noResource := trainingEnv(srv)
	delete(noResource, "CUSTOM_VISION_PREDICTION_RESOURCE_ID")
	images := sampleImages(t)
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{full, []string{"--dataset", samplesCOCO, "--images", images}, "--project NAME"},
		{full, []string{"--dataset", samplesCOCO, "--images", images, "--project", "p", "--kind", "segmentation"}, `--kind "segmentation"`},
		{nil, []string{"--dataset", samplesCOCO, "--images", images, "--project", "p"}, "CUSTOM_VISION_TRAINING_ENDPOINT"},
		{noResource, []string{"--dataset", samplesCOCO, "--images", images, "--project", "p", "--publish", "m"}, "CUSTOM_VISION_PREDICTION_RESOURCE_ID"},
		{full, []string{"--dataset", "missing.json", "--images", images, "--project", "p"}, "missing.json"},
		{full, []string{"--training-key", "secret", "--project", "p"}, "set CUSTOM_VISION_TRAINING_KEY"},
	} {
		code, out, stderr := runCLI(t, tc.env, append([]string{"train"}, tc.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "secret") {
			t.Errorf("train %v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests for refused command lines", srv.Count())
	}
}
