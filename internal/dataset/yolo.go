package dataset

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// YOLOClassesFile names the class list WriteYOLO writes beside the labels.
const YOLOClassesFile = "classes.txt"

// WriteYOLO exports d as YOLO txt labels under dir: for each image, a .txt
// at its file name's path with the extension replaced, one line a box
// "class cx cy w h" (centre and size as fractions of the image), and
// classes.txt with one class name a line, class 0 first. Classes are the
// categories in id order. Crowd boxes have no YOLO equivalent and are left
// out; images without boxes get an empty file, as YOLO trainers expect of
// background images.
func (d *Dataset) WriteYOLO(dir string) error {
	if err := d.Validate(); err != nil {
		return err
	}
	cats := slices.SortedFunc(slices.Values(d.Categories), func(a, b Category) int { return cmp.Compare(a.ID, b.ID) })
	class := make(map[int64]int, len(cats))
	var names strings.Builder
	for i, c := range cats {
		class[c.ID] = i
		names.WriteString(c.Name + "\n")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, YOLOClassesFile), []byte(names.String())); err != nil {
		return err
	}
	byImage := d.AnnotationsByImage()
	for _, im := range d.Images {
		var b strings.Builder
		for _, a := range byImage[im.ID] {
			if a.IsCrowd == 0 {
				b.WriteString(yoloLine(class[a.CategoryID], a.BBox, im.Width, im.Height))
			}
		}
		rel := filepath.FromSlash(im.FileName)
		path := filepath.Join(dir, strings.TrimSuffix(rel, filepath.Ext(rel))+".txt")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		if err := writeAtomic(path, []byte(b.String())); err != nil {
			return err
		}
	}
	return nil
}

// yoloLine is one YOLO label: the box clipped to the image, its centre and
// size as fractions.
func yoloLine(class int, bbox [4]float64, width, height int) string {
	w, h := float64(width), float64(height)
	x1, y1 := min(max(bbox[0], 0), w), min(max(bbox[1], 0), h)
	x2, y2 := min(max(bbox[0]+bbox[2], 0), w), min(max(bbox[1]+bbox[3], 0), h)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	return fmt.Sprintf("%d %s %s %s %s\n", class, f((x1+x2)/2/w), f((y1+y2)/2/h), f((x2-x1)/w), f((y2-y1)/h))
}
