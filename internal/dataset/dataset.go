// Package dataset reads, checks, builds and writes labelled images as COCO
// detection JSON (images, annotations with bbox [x,y,w,h] in pixels,
// categories), the format labelling tools and trainers already read, and
// exports YOLO txt labels.
//
// Fields Sightline does not use (segmentation, licences, a tool's own keys)
// are kept as they were read and written back, so that a dataset edited in
// Sightline loses nothing its labelling tool put there.
package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// Dataset is a COCO detection dataset.
type Dataset struct {
	Images      []Image      `json:"images"`
	Annotations []Annotation `json:"annotations"`
	Categories  []Category   `json:"categories"`
	Extra       Extra        `json:"-"` // info, licenses, …
}

// Image is one labelled image; FileName is relative to the images folder.
type Image struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Extra    Extra  `json:"-"`
}

// Annotation is one box. BBox is [x, y, width, height] in pixels from the
// image's top-left corner. Crowd boxes (IsCrowd 1) mark a group of objects
// that detections may overlap without counting as false positives.
type Annotation struct {
	ID         int64      `json:"id"`
	ImageID    int64      `json:"image_id"`
	CategoryID int64      `json:"category_id"`
	BBox       [4]float64 `json:"bbox"`
	Area       float64    `json:"area"`
	IsCrowd    int        `json:"iscrowd"`
	Extra      Extra      `json:"-"`
}

// Category is a class.
type Category struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory,omitempty"`
	Extra         Extra  `json:"-"`
}

// Extra holds the JSON members of an object that Sightline does not model.
type Extra map[string]json.RawMessage

// Read reads and validates a COCO file.
func Read(path string) (*Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	d, err := Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	return d, nil
}

// Decode reads and validates COCO JSON. Annotations without an area get
// the box's; everything else is as in the file.
func Decode(r io.Reader) (*Dataset, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var d Dataset
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, describeJSONError(b, err)
	}
	if err := d.keepExtra(b); err != nil {
		return nil, describeJSONError(b, err)
	}
	for i := range d.Annotations {
		if a := &d.Annotations[i]; a.Area == 0 {
			a.Area = a.BBox[2] * a.BBox[3]
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// WriteFile validates d and writes it to path through a temporary file in
// the same folder, so a crash or a full disk never leaves half a dataset
// where the last good one was.
func (d *Dataset) WriteFile(path string) error {
	if err := d.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dataset: %w", err)
	}
	return nil
}

// describeJSONError says where in the file the JSON went wrong, as a line
// and column a user can open the file at.
func describeJSONError(b []byte, err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("not valid JSON at %s: %v", position(b, syntaxErr.Offset), syntaxErr)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("%s at %s is a JSON %s, want %s", typeErr.Field, position(b, typeErr.Offset), typeErr.Value, jsonWord(typeErr.Type.Kind()))
	case errors.As(err, &typeErr):
		return fmt.Errorf("not a COCO dataset: the file is a JSON %s, want an object with images, annotations and categories", typeErr.Value)
	}
	return err
}

// position turns a byte offset into "line L, column C".
func position(b []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(b)))
	before := b[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n') - 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonWord names what a field of the dataset's types decodes from.
func jsonWord(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Array, reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a number" // every other field is one
}

// CategoryNamed returns the category called name (case-insensitively, as
// detectors and labellers disagree on case: "Laptop", "laptop").
func (d *Dataset) CategoryNamed(name string) (Category, bool) {
	for _, c := range d.Categories {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Category{}, false
}

// AnnotationsByImage groups the annotations by image id, in file order.
func (d *Dataset) AnnotationsByImage() map[int64][]Annotation {
	m := make(map[int64][]Annotation, len(d.Images))
	for _, a := range d.Annotations {
		m[a.ImageID] = append(m[a.ImageID], a)
	}
	return m
}

// AddImage adds an image (a reviewed frame) and returns its new id.
func (d *Dataset) AddImage(fileName string, width, height int) int64 {
	id := int64(1)
	for _, im := range d.Images {
		id = max(id, im.ID+1)
	}
	d.Images = append(d.Images, Image{ID: id, FileName: fileName, Width: width, Height: height})
	return id
}

// AddCategory returns the id of the category called name, adding it if
// there is none.
func (d *Dataset) AddCategory(name string) int64 {
	if c, ok := d.CategoryNamed(name); ok {
		return c.ID
	}
	id := int64(1)
	for _, c := range d.Categories {
		id = max(id, c.ID+1)
	}
	d.Categories = append(d.Categories, Category{ID: id, Name: name})
	return id
}

// AddBox labels image imageID with a box [x, y, w, h] in pixels of class
// name (added as a category if new) and returns the annotation's id.
func (d *Dataset) AddBox(imageID int64, name string, bbox [4]float64) int64 {
	id := int64(1)
	for _, a := range d.Annotations {
		id = max(id, a.ID+1)
	}
	d.Annotations = append(d.Annotations, Annotation{
		ID: id, ImageID: imageID, CategoryID: d.AddCategory(name), BBox: bbox, Area: bbox[2] * bbox[3],
	})
	return id
}

// keepExtra reads the members of b that the typed decoding skipped into
// the Extra fields. It runs after the typed decoding, whose errors carry
// the file positions users need.
func (d *Dataset) keepExtra(b []byte) error {
	var raw struct {
		Images      []map[string]json.RawMessage `json:"images"`
		Annotations []map[string]json.RawMessage `json:"annotations"`
		Categories  []map[string]json.RawMessage `json:"categories"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	d.Extra = unknownMembers(top, Dataset{})
	for i := range d.Images {
		d.Images[i].Extra = unknownMembers(raw.Images[i], Image{})
	}
	for i := range d.Annotations {
		d.Annotations[i].Extra = unknownMembers(raw.Annotations[i], Annotation{})
	}
	for i := range d.Categories {
		d.Categories[i].Extra = unknownMembers(raw.Categories[i], Category{})
	}
	return nil
}

// unknownMembers returns the members of obj that no field of the struct
// model names; nil when there are none.
func unknownMembers(obj map[string]json.RawMessage, model any) Extra {
	t := reflect.TypeOf(model)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		delete(obj, name)
	}
	if len(obj) == 0 {
		return nil
	}
	return obj
}

// withExtra marshals v, an object, with extra's members after its own.
func withExtra(v any, extra Extra) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	b = bytes.TrimSuffix(b, []byte("}"))
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		key, _ := json.Marshal(k)
		b = append(append(append(b, key...), ':'), extra[k]...)
	}
	return append(b, '}'), nil
}

// MarshalJSON writes the dataset with the members it was read with.
func (d Dataset) MarshalJSON() ([]byte, error) {
	type plain Dataset
	// Empty lists, not null: COCO readers index into them.
	if d.Images == nil {
		d.Images = []Image{}
	}
	if d.Annotations == nil {
		d.Annotations = []Annotation{}
	}
	if d.Categories == nil {
		d.Categories = []Category{}
	}
	return withExtra(plain(d), d.Extra)
}

// MarshalJSON writes the image with the members it was read with.
func (im Image) MarshalJSON() ([]byte, error) {
	type plain Image
	return withExtra(plain(im), im.Extra)
}

// MarshalJSON writes the annotation with the members it was read with.
func (a Annotation) MarshalJSON() ([]byte, error) {
	type plain Annotation
	return withExtra(plain(a), a.Extra)
}

// MarshalJSON writes the category with the members it was read with.
func (c Category) MarshalJSON() ([]byte, error) {
	type plain Category
	return withExtra(plain(c), c.Extra)
}
