package review

import (
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/dataset"
)

// folder is a capture folder with two captures and a dataset that already
// labels one other image (with a member of its labelling tool's own).
func folder(t *testing.T) (datasetPath, dir string) {
	t.Helper()
	dir = t.TempDir()
	for _, c := range []struct {
		name  string
		preds []capture.Box
	}{
		{"cap-1.jpg", []capture.Box{{Name: "car", Confidence: 0.55, BBox: [4]float64{10, 10, 40, 30}},
			{Name: "person", Confidence: 0.9, BBox: [4]float64{80, 20, 30, 80}}, {Name: "dog", Confidence: 0.1, BBox: [4]float64{1, 1, 5, 5}}}},
		{"cap-2.jpg", []capture.Box{{Name: "person", Confidence: 0.45, BBox: [4]float64{100, 10, 60, 100}}}},
	} {
		writeJPEG(t, filepath.Join(dir, c.name), 160, 120)
		rec := capture.Record{Image: c.name, Width: 160, Height: 120, Threshold: 0.5, Band: 0.1, Reasons: []string{capture.ReasonUncertain}, Predictions: c.preds}
		b, _ := json.Marshal(rec)
		if err := os.WriteFile(capture.SidecarOf(filepath.Join(dir, c.name)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeJPEG(t, filepath.Join(dir, "old.jpg"), 160, 120)
	datasetPath = filepath.Join(dir, "dataset.json")
	coco := `{"info": {"tool": "cvat"}, "images": [{"id": 7, "file_name": "old.jpg", "width": 160, "height": 120}],
	  "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [5, 5, 20, 20], "iscrowd": 0}],
	  "categories": [{"id": 3, "name": "bicycle"}]}`
	if err := os.WriteFile(datasetPath, []byte(coco), 0o644); err != nil {
		t.Fatal(err)
	}
	return datasetPath, dir
}

func writeJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, datasetPath, dir string) *Session {
	t.Helper()
	s, err := Open(datasetPath, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A session lists the captures (proposals from the band up) and the
// dataset's images, in file order, and offers the dataset's classes
// first, then the models'.
func TestOpenListsCapturesAndDataset(t *testing.T) {
	datasetPath, dir := folder(t)
	s := open(t, datasetPath, dir)
	var files []string
	for i := range s.Len() {
		files = append(files, s.Item(i).File)
	}
	if want := []string{"cap-1.jpg", "cap-2.jpg", "old.jpg"}; !slices.Equal(files, want) {
		t.Fatalf("items %v, want %v", files, want)
	}
	if it := s.Item(0); it.Status != Unreviewed || len(it.Boxes) != 2 || it.Boxes[0].Name != "car" || it.Record == nil {
		t.Errorf("capture 1: %+v, want the car and the person proposed (not the dog, under the band)", it)
	}
	if it := s.Item(2); it.Status != Accepted || len(it.Boxes) != 1 || it.Boxes[0].Name != "bicycle" {
		t.Errorf("dataset image: %+v", it)
	}
	if got, want := s.Classes(), []string{"bicycle", "person", "car", "dog"}; !slices.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if u, a, r := s.Counts(); u != 2 || a != 1 || r != 0 {
		t.Errorf("counts %d %d %d", u, a, r)
	}
}

// Accepting and rejecting write at once: a new session on the same folder
// sees the dataset (with the tool's own members kept), the rejection, and
// the boxes as accepted, clipped to the image.
func TestAcceptAndRejectAreWrittenAtOnce(t *testing.T) {
	datasetPath, dir := folder(t)
	s := open(t, datasetPath, dir)
	boxes := append(slices.Clone(s.Item(0).Boxes), Box{Name: "Dog", BBox: [4]float64{150, 100, 30, 40}}, Box{Name: "car", BBox: [4]float64{-5, 0, 3, 10}})
	boxes[0].Name = "truck" // relabelled
	if err := s.Accept(0, boxes); err != nil {
		t.Fatal(err)
	}
	if err := s.Reject(1); err != nil {
		t.Fatal(err)
	}
	if next := s.NextToReview(0); next != -1 {
		t.Errorf("next to review %d, want none", next)
	}

	again := open(t, datasetPath, dir)
	got := again.Item(0)
	want := []Box{{Name: "truck", BBox: [4]float64{10, 10, 40, 30}}, {Name: "person", BBox: [4]float64{80, 20, 30, 80}}, {Name: "Dog", BBox: [4]float64{150, 100, 10, 20}}}
	if got.Status != Accepted || !slices.Equal(got.Boxes, want) {
		t.Errorf("accepted frame read back: %v %+v\nwant %+v (the box left of the image dropped, the dog clipped)", got.Status, got.Boxes, want)
	}
	if again.Item(1).Status != Rejected {
		t.Errorf("the rejected frame reads back as %v", again.Item(1).Status)
	}
	ds, err := dataset.Read(datasetPath)
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Tool string }
	json.Unmarshal(ds.Extra["info"], &info)
	if len(ds.Images) != 2 || len(ds.Annotations) != 4 || info.Tool != "cvat" {
		t.Errorf("dataset: %d images, %d boxes, info %s", len(ds.Images), len(ds.Annotations), ds.Extra["info"])
	}
	// Changing one's mind: the rejected frame accepted, the old image rejected.
	if err := again.Accept(1, again.Item(1).Boxes); err != nil {
		t.Fatal(err)
	}
	if err := again.Reject(2); err != nil {
		t.Fatal(err)
	}
	third := open(t, datasetPath, dir)
	if a, b, c := third.Item(0).Status, third.Item(1).Status, third.Item(2).Status; a != Accepted || b != Accepted || c != Rejected {
		t.Errorf("statuses %v %v %v", a, b, c)
	}
	d, _ := third.Dataset()
	if len(d.Images) != 2 || slices.ContainsFunc(d.Images, func(im dataset.Image) bool { return im.FileName == "old.jpg" }) {
		t.Errorf("dataset images %+v", d.Images)
	}
}

// A dataset whose last image is rejected is removed rather than written
// empty (COCO readers and Validate refuse one without images); YOLO
// export then says there is nothing to export.
func TestLastImageRejected(t *testing.T) {
	datasetPath, dir := folder(t)
	s := open(t, datasetPath, dir)
	if err := s.Reject(s.IndexOf("old.jpg")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(datasetPath); !os.IsNotExist(err) {
		t.Errorf("dataset still there: %v", err)
	}
	if err := s.ExportYOLO(t.TempDir()); err == nil {
		t.Error("exporting nothing did not fail")
	}
	if d, err := s.Dataset(); d != nil || err != nil {
		t.Errorf("Dataset() = %v, %v", d, err)
	}
	if err := s.Accept(0, s.Item(0).Boxes); err != nil {
		t.Fatal(err)
	}
	yolo := t.TempDir()
	if err := s.ExportYOLO(yolo); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(yolo, "cap-1.txt"))
	if err != nil || len(b) == 0 {
		t.Errorf("YOLO labels: %q, %v", b, err)
	}
}
