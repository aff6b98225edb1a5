// Package review turns captured frames into a labelled dataset: a Session
// lists the frames of a folder (the captures, with the predictions saved
// beside them, and the images the dataset already labels), and each frame
// accepted with its boxes is written into the COCO dataset at once, so
// that a reviewer who stops after two hundred frames loses nothing.
// Rejected frames (blurred, not worth a label) are remembered beside the
// captures and stay out of the dataset.
package review

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // captures and most datasets
	_ "image/png"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sightline/sightline/internal/capture"
	"github.com/sightline/sightline/internal/dataset"
)

// Status is where a frame stands in the review.
type Status int

const (
	Unreviewed Status = iota
	Accepted          // in the dataset, with its boxes
	Rejected          // left out of the dataset
)

func (s Status) String() string {
	return [...]string{"to review", "accepted", "rejected"}[s]
}

// Box is a label: a class and [x, y, w, h] in the image's pixels.
// Confidence is the model's for a proposed box, 0 for a reviewed one.
type Box struct {
	Name       string
	BBox       [4]float64
	Confidence float64
}

// Item is one frame of the review.
type Item struct {
	File          string // relative to the images folder, with slashes
	Width, Height int
	Status        Status
	// Boxes are the frame's labels as they stand: the dataset's once it
	// is accepted, the model's proposals before. Editing them changes
	// nothing on disk until Accept.
	Boxes []Box
	// Record is the capture's record; nil for an image only the dataset
	// names.
	Record *capture.Record
}

// RejectedFile, in the images folder, lists the frames rejected.
const RejectedFile = "review.json"

// Session is the review of one folder against one dataset file. It is not
// safe for concurrent use.
type Session struct {
	datasetPath, imagesDir string
	ds                     *dataset.Dataset
	items                  []*Item
	rejected               map[string]bool
}

// Open reads the dataset at datasetPath (it need not exist yet) and the
// captures in imagesDir, the folder the dataset's file names are
// relative to.
func Open(datasetPath, imagesDir string) (*Session, error) {
	s := &Session{datasetPath: datasetPath, imagesDir: imagesDir, ds: &dataset.Dataset{}, rejected: map[string]bool{}}
	if _, err := os.Stat(datasetPath); err == nil {
		if s.ds, err = dataset.Read(datasetPath); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("review: %w", err)
	}
	if err := s.readRejected(); err != nil {
		return nil, err
	}
	byImage := s.ds.AnnotationsByImage()
	inDataset := map[string]*Item{}
	for _, im := range s.ds.Images {
		it := &Item{File: im.FileName, Width: im.Width, Height: im.Height, Status: Accepted, Boxes: s.labels(byImage[im.ID])}
		inDataset[im.FileName] = it
		s.items = append(s.items, it)
	}
	if err := s.readCaptures(inDataset); err != nil {
		return nil, err
	}
	s.listRejected()
	slices.SortStableFunc(s.items, func(a, b *Item) int { return cmp.Compare(a.File, b.File) })
	return s, nil
}

// labels are a dataset image's boxes (crowd boxes are not labels to edit;
// Accept keeps them).
func (s *Session) labels(anns []dataset.Annotation) []Box {
	names := map[int64]string{}
	for _, c := range s.ds.Categories {
		names[c.ID] = c.Name
	}
	out := []Box{}
	for _, a := range anns {
		if a.IsCrowd == 0 {
			out = append(out, Box{Name: names[a.CategoryID], BBox: a.BBox})
		}
	}
	return out
}

// readCaptures adds the captures of the images folder; a capture already
// in the dataset gets its record.
func (s *Session) readCaptures(inDataset map[string]*Item) error {
	paths, err := filepath.Glob(filepath.Join(s.imagesDir, "*"+capture.SidecarExt))
	if err != nil {
		return fmt.Errorf("review: %w", err)
	}
	for _, p := range paths {
		rec, err := capture.ReadRecord(p)
		if err != nil {
			return fmt.Errorf("review: %w", err)
		}
		if it := inDataset[rec.Image]; it != nil {
			it.Record = rec
			continue
		}
		it := &Item{File: rec.Image, Width: rec.Width, Height: rec.Height, Record: rec}
		for _, b := range rec.Proposed() {
			it.Boxes = append(it.Boxes, b2(b))
		}
		if s.rejected[rec.Image] {
			it.Status = Rejected
		}
		s.items = append(s.items, it)
	}
	return nil
}

// listRejected lists the rejected images that are neither captures nor
// in the dataset (taken out of it), so that a rejection can be undone.
func (s *Session) listRejected() {
	for _, file := range slices.Sorted(maps.Keys(s.rejected)) {
		if s.IndexOf(file) >= 0 {
			continue
		}
		f, err := os.Open(filepath.Join(s.imagesDir, filepath.FromSlash(file)))
		if err != nil {
			continue // gone: nothing to show
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err == nil {
			s.items = append(s.items, &Item{File: file, Width: cfg.Width, Height: cfg.Height, Status: Rejected, Boxes: []Box{}})
		}
	}
}

// b2 is a capture's box as a review box.
func b2(b capture.Box) Box { return Box{Name: b.Name, BBox: b.BBox, Confidence: b.Confidence} }

func (s *Session) readRejected() error {
	b, err := os.ReadFile(filepath.Join(s.imagesDir, RejectedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("review: %w", err)
	}
	var st struct {
		Rejected []string `json:"rejected"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("review: %s: %w", filepath.Join(s.imagesDir, RejectedFile), err)
	}
	for _, f := range st.Rejected {
		s.rejected[f] = true
	}
	return nil
}

// Len is how many frames there are.
func (s *Session) Len() int { return len(s.items) }

// Item is frame i; its Boxes may be edited in place.
func (s *Session) Item(i int) *Item { return s.items[i] }

// IndexOf is the index of the frame with that file name, or -1.
func (s *Session) IndexOf(file string) int {
	return slices.IndexFunc(s.items, func(it *Item) bool { return it.File == file })
}

// Path is the file of frame i on disk.
func (s *Session) Path(i int) string {
	return filepath.Join(s.imagesDir, filepath.FromSlash(s.items[i].File))
}

// DatasetPath and ImagesDir are what the session was opened on.
func (s *Session) DatasetPath() string { return s.datasetPath }
func (s *Session) ImagesDir() string   { return s.imagesDir }

// Counts are how many frames stand where.
func (s *Session) Counts() (unreviewed, accepted, rejected int) {
	for _, it := range s.items {
		switch it.Status {
		case Unreviewed:
			unreviewed++
		case Accepted:
			accepted++
		default:
			rejected++
		}
	}
	return unreviewed, accepted, rejected
}

// NextToReview is the first frame to review after i, wrapping around; -1
// when none is left.
func (s *Session) NextToReview(i int) int {
	for k := 1; k <= len(s.items); k++ {
		if j := (i + k) % len(s.items); s.items[j].Status == Unreviewed {
			return j
		}
	}
	return -1
}

// Classes are the class names to label with: the dataset's (in id order),
// then those the models proposed, most frequent first.
func (s *Session) Classes() []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if k := strings.ToLower(name); name != "" && !seen[k] {
			seen[k] = true
			out = append(out, name)
		}
	}
	for _, c := range slices.SortedFunc(slices.Values(s.ds.Categories), func(a, b dataset.Category) int { return cmp.Compare(a.ID, b.ID) }) {
		add(c.Name)
	}
	freq := map[string]int{}
	for _, it := range s.items {
		if it.Record != nil {
			for _, b := range it.Record.Predictions {
				freq[b.Name]++
			}
		}
	}
	proposed := slices.Collect(maps.Keys(freq))
	slices.SortFunc(proposed, func(a, b string) int { return cmp.Or(cmp.Compare(freq[b], freq[a]), cmp.Compare(a, b)) })
	for _, name := range proposed {
		add(name)
	}
	return out
}

// Accept labels frame i with boxes (clipped to the image; those left
// without area dropped) and writes the dataset.
func (s *Session) Accept(i int, boxes []Box) error {
	it := s.items[i]
	id := s.imageID(it)
	if id == 0 {
		id = s.ds.AddImage(it.File, it.Width, it.Height)
	}
	// Crowd boxes are not edited here: they stay.
	s.ds.Annotations = slices.DeleteFunc(s.ds.Annotations, func(a dataset.Annotation) bool { return a.ImageID == id && a.IsCrowd == 0 })
	kept := []Box{}
	for _, b := range boxes {
		if bb, ok := clip(b.BBox, it.Width, it.Height); ok {
			s.ds.AddBox(id, b.Name, bb)
			kept = append(kept, Box{Name: b.Name, BBox: bb})
		}
	}
	if err := s.save(); err != nil {
		return err
	}
	it.Status, it.Boxes = Accepted, kept
	if s.rejected[it.File] {
		delete(s.rejected, it.File)
		return s.saveRejected()
	}
	return nil
}

// Reject leaves frame i out of the dataset (taking it out if it was in).
func (s *Session) Reject(i int) error {
	it := s.items[i]
	if id := s.imageID(it); id != 0 {
		s.ds.Images = slices.DeleteFunc(s.ds.Images, func(im dataset.Image) bool { return im.ID == id })
		s.ds.Annotations = slices.DeleteFunc(s.ds.Annotations, func(a dataset.Annotation) bool { return a.ImageID == id })
		if err := s.save(); err != nil {
			return err
		}
	}
	s.rejected[it.File] = true
	if err := s.saveRejected(); err != nil {
		return err
	}
	it.Status = Rejected
	return nil
}

func (s *Session) imageID(it *Item) int64 {
	for _, im := range s.ds.Images {
		if im.FileName == it.File {
			return im.ID
		}
	}
	return 0
}

// clip keeps the part of box [x, y, w, h] inside a width×height image;
// a box inside it is kept exactly as it is.
func clip(b [4]float64, width, height int) ([4]float64, bool) {
	x, y, w, h := b[0], b[1], b[2], b[3]
	if x < 0 {
		x, w = 0, w+x
	}
	if y < 0 {
		y, h = 0, h+y
	}
	w, h = min(w, float64(width)-x), min(h, float64(height)-y)
	if w < 1 || h < 1 {
		return [4]float64{}, false
	}
	return [4]float64{x, y, w, h}, true
}

// save writes the dataset; one without images is removed, as COCO has no
// empty dataset.
func (s *Session) save() error {
	if len(s.ds.Images) == 0 {
		if err := os.Remove(s.datasetPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("review: %w", err)
		}
		return nil
	}
	return s.ds.WriteFile(s.datasetPath)
}

func (s *Session) saveRejected() error {
	st := struct {
		Rejected []string `json:"rejected"`
	}{slices.Sorted(maps.Keys(s.rejected))}
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.imagesDir, RejectedFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("review: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("review: %w", err)
	}
	return nil
}

// Dataset is a copy of the dataset as written, for a goroutine (eval,
// training) to read while the review goes on; nil when it has no images.
func (s *Session) Dataset() (*dataset.Dataset, error) {
	if len(s.ds.Images) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(s.ds)
	if err != nil {
		return nil, err
	}
	return dataset.Decode(bytes.NewReader(b))
}

// ExportYOLO writes the dataset's YOLO labels under dir.
func (s *Session) ExportYOLO(dir string) error {
	if len(s.ds.Images) == 0 {
		return errors.New("review: nothing accepted yet")
	}
	return s.ds.WriteYOLO(dir)
}
