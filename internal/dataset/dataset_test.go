package dataset

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

const minimal = `{"images":[{"id":1,"file_name":"a.jpg","width":100,"height":50}],
 "annotations":[{"id":1,"image_id":1,"category_id":7,"bbox":[10,5,20,10]}],
 "categories":[{"id":7,"name":"fork"}]}`

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not JSON", `{"images": [}`, "not valid JSON at line 1, column 13"},
		{"array at top", `[1]`, "the file is a JSON array, want an object"},
		{"wrong type on line 2", "{\"images\":[\n{\"id\":\"one\"}]}", "images.id at line 2, column 11 is a JSON string, want a number"},
		{"no images", `{"images":[],"annotations":[],"categories":[]}`, "no images"},
		{"duplicate image id", `{"images":[{"id":1,"file_name":"a.jpg","width":1,"height":1},{"id":1,"file_name":"b.jpg","width":1,"height":1}]}`,
			`images[1] (id 1): id already used by "a.jpg"`},
		{"no file name", `{"images":[{"id":1,"width":1,"height":1}]}`, "images[0] (id 1): no file_name"},
		{"escaping file name", `{"images":[{"id":1,"file_name":"../x.jpg","width":1,"height":1}]}`, `file_name "../x.jpg" must be a path inside the images folder`},
		{"absolute file name", `{"images":[{"id":1,"file_name":"/etc/x.jpg","width":1,"height":1}]}`, "must be a path inside the images folder"},
		{"no size", `{"images":[{"id":1,"file_name":"a.jpg"}]}`, `"a.jpg" has size 0x0`},
		{"category without name", strings.Replace(minimal, `"name":"fork"`, `"name":" "`, 1), "categories[0] (id 7): no name"},
		{"same name twice", strings.Replace(minimal, `{"id":7,"name":"fork"}`, `{"id":7,"name":"fork"},{"id":8,"name":"Fork"}`, 1),
			`categories[1] (id 8): name "Fork" already used by category 7`},
		{"unknown image", strings.Replace(minimal, `"image_id":1`, `"image_id":2`, 1), "annotations[0] (id 1): image_id 2 is not an image"},
		{"unknown category", strings.Replace(minimal, `"category_id":7`, `"category_id":3`, 1), "category_id 3 is not a category"},
		{"negative width", strings.Replace(minimal, `[10,5,20,10]`, `[10,5,-20,10]`, 1), "bbox [10 5 -20 10] has no area"},
		{"x1 y1 x2 y2 mistaken for x y w h", strings.Replace(minimal, `[10,5,20,10]`, `[10,5,95,45]`, 1), `reaches outside "a.jpg" (100x50)`},
		{"bad iscrowd", strings.Replace(minimal, `"bbox"`, `"iscrowd":2,"bbox"`, 1), "iscrowd is 2"},
		{"short bbox", strings.Replace(minimal, `[10,5,20,10]`, `[10,5,20]`, 1), "has no area"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestBoxSlack(t *testing.T) {
	// A box rounding past the edge by less than a pixel is accepted.
	d, err := Decode(strings.NewReader(strings.Replace(minimal, `[10,5,20,10]`, `[-0.4,0,100.6,50.5]`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Annotations[0].Area; math.Abs(got-100.6*50.5) > 1e-9 {
		t.Errorf("area %g, want the box's when the file has none", got)
	}
}

func TestRoundTripKeepsUnknownMembers(t *testing.T) {
	in := `{"info":{"year":2024},"licenses":[{"id":1,"name":"MIT"}],
 "images":[{"id":1,"file_name":"a.jpg","width":100,"height":50,"license":1,"date_captured":"2024-05-01"}],
 "annotations":[{"id":1,"image_id":1,"category_id":7,"bbox":[10,5,20,10],"area":150,"iscrowd":0,"segmentation":[[10,5,30,5,30,15]]}],
 "categories":[{"id":7,"name":"fork","supercategory":"kitchen","keypoints":[]}]}`
	d, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.json")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("written file is not JSON: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the file\n got %s\nwant %s", out, in)
	}
}

func TestBuildReviewedFrames(t *testing.T) {
	var d Dataset
	im := d.AddImage("frames/000001.png", 640, 480)
	d.AddBox(im, "person", [4]float64{10, 20, 30, 40})
	d.AddBox(im, "Person", [4]float64{100, 20, 30, 40}) // same class, other case
	im2 := d.AddImage("frames/000002.png", 640, 480)
	d.AddBox(im2, "car", [4]float64{0, 0, 640, 480})
	if len(d.Categories) != 2 || d.Categories[0].ID != 1 || d.Categories[1].ID != 2 {
		t.Errorf("categories %+v, want person 1 and car 2", d.Categories)
	}
	ids := []int64{d.Annotations[0].ID, d.Annotations[1].ID, d.Annotations[2].ID}
	if !reflect.DeepEqual(ids, []int64{1, 2, 3}) || im != 1 || im2 != 2 {
		t.Errorf("ids: images %d %d, annotations %v", im, im2, ids)
	}
	path := filepath.Join(t.TempDir(), "reviewed.json")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.AnnotationsByImage(); len(got[1]) != 2 || len(got[2]) != 1 || got[1][1].Area != 1200 {
		t.Errorf("read back %+v", got)
	}
	if c, ok := back.CategoryNamed("CAR"); !ok || c.ID != 2 {
		t.Errorf("CategoryNamed(CAR) = %+v, %v", c, ok)
	}
}

func TestWriteFileRefusesInvalidAndKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.json")
	if err := os.WriteFile(path, []byte(minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	var d Dataset
	d.AddImage("a.jpg", 0, 0)
	if err := d.WriteFile(path); err == nil {
		t.Fatal("an invalid dataset was written")
	}
	if b, _ := os.ReadFile(path); string(b) != minimal {
		t.Error("the previous file was changed")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestWriteYOLO(t *testing.T) {
	d, err := Decode(strings.NewReader(`{"images":[
  {"id":1,"file_name":"cam/a.jpg","width":200,"height":100},
  {"id":2,"file_name":"b.png","width":10,"height":10}],
 "annotations":[
  {"id":1,"image_id":1,"category_id":9,"bbox":[50,25,100,50]},
  {"id":2,"image_id":1,"category_id":3,"bbox":[-0.5,0,20.5,10]},
  {"id":3,"image_id":1,"category_id":3,"bbox":[0,0,200,100],"iscrowd":1}],
 "categories":[{"id":9,"name":"scissors"},{"id":3,"name":"fork"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := d.WriteYOLO(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"classes.txt": "fork\nscissors\n",
		// class 1 (scissors, id 9) centred; class 0 clipped at x=0: 0..20 of 200.
		"cam/a.txt": "1 0.500000 0.500000 0.500000 0.500000\n0 0.050000 0.050000 0.100000 0.100000\n",
		"b.txt":     "",
	}
	for name, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != w {
			t.Errorf("%s:\n%q\nwant\n%q", name, b, w)
		}
	}
}

// TestSamplesMatchRegions checks testdata/samples.coco.json, the 40 sample
// photos' boxes in pixels, against the normalised regions they came from.
func TestSamplesMatchRegions(t *testing.T) {
	d, err := Read("testdata/samples.coco.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(azuretest.Load(t).Dir, "customvision-training/samples/object-detection/regions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var regions struct {
		Images []struct {
			File    string `json:"file"`
			Regions []struct {
				Tag                      string
				Left, Top, Width, Height float64
			} `json:"regions"`
		} `json:"images"`
	}
	if err := json.Unmarshal(b, &regions); err != nil {
		t.Fatal(err)
	}
	byFile := map[string]Image{}
	for _, im := range d.Images {
		byFile["object-detection/"+im.FileName] = im
	}
	anns := d.AnnotationsByImage()
	if len(regions.Images) != 40 || len(d.Images) != 40 {
		t.Fatalf("%d regions, %d images; want 40", len(regions.Images), len(d.Images))
	}
	for _, r := range regions.Images {
		im, ok := byFile[r.File]
		if !ok || len(anns[im.ID]) != 1 || len(r.Regions) != 1 {
			t.Fatalf("%s: image %+v, annotations %+v", r.File, im, anns[im.ID])
		}
		a, g := anns[im.ID][0], r.Regions[0]
		c, _ := d.CategoryNamed(g.Tag)
		want := [4]float64{g.Left * 816, g.Top * 612, g.Width * 816, g.Height * 612}
		for k := range want {
			if math.Abs(a.BBox[k]-want[k]) > 0.001 || a.CategoryID != c.ID {
				t.Errorf("%s: box %v class %d, want %v %s", r.File, a.BBox, a.CategoryID, want, g.Tag)
				break
			}
		}
	}
}
