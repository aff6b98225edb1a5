package dataset

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// boxSlack is how far, in pixels, a box may reach past the image's edge:
// labelling tools round, and a box ending at 640.4 in a 640-pixel image is
// a rounding, not a mistake.
const boxSlack = 1.0

// Validate checks that d is a usable detection dataset and returns the
// first problem as one line naming the element: unique ids, references
// that resolve, image sizes, file names inside the images folder, boxes
// with a positive size inside their image.
func (d *Dataset) Validate() error {
	if len(d.Images) == 0 {
		return fmt.Errorf("no images (a COCO dataset lists them under \"images\")")
	}
	images := make(map[int64]Image, len(d.Images))
	for i, im := range d.Images {
		if err := checkImage(im, images); err != nil {
			return fmt.Errorf("images[%d] (id %d): %w", i, im.ID, err)
		}
		images[im.ID] = im
	}
	categories := make(map[int64]bool, len(d.Categories))
	names := make(map[string]int64, len(d.Categories))
	for i, c := range d.Categories {
		if err := checkCategory(c, categories, names); err != nil {
			return fmt.Errorf("categories[%d] (id %d): %w", i, c.ID, err)
		}
		categories[c.ID] = true
		names[strings.ToLower(c.Name)] = c.ID
	}
	annotations := make(map[int64]bool, len(d.Annotations))
	for i, a := range d.Annotations {
		if err := checkAnnotation(a, annotations, images, categories); err != nil {
			return fmt.Errorf("annotations[%d] (id %d): %w", i, a.ID, err)
		}
		annotations[a.ID] = true
	}
	return nil
}

func checkImage(im Image, seen map[int64]Image) error {
	if prev, dup := seen[im.ID]; dup {
		return fmt.Errorf("id already used by %q", prev.FileName)
	}
	switch {
	case im.FileName == "":
		return fmt.Errorf("no file_name")
	case filepath.IsAbs(im.FileName) || !filepath.IsLocal(filepath.FromSlash(im.FileName)):
		return fmt.Errorf("file_name %q must be a path inside the images folder", im.FileName)
	case im.Width <= 0 || im.Height <= 0:
		return fmt.Errorf("%q has size %dx%d; width and height must be positive pixels", im.FileName, im.Width, im.Height)
	}
	return nil
}

func checkCategory(c Category, seen map[int64]bool, names map[string]int64) error {
	switch {
	case seen[c.ID]:
		return fmt.Errorf("id already used")
	case strings.TrimSpace(c.Name) == "":
		return fmt.Errorf("no name")
	}
	if other, dup := names[strings.ToLower(c.Name)]; dup {
		return fmt.Errorf("name %q already used by category %d", c.Name, other)
	}
	return nil
}

func checkAnnotation(a Annotation, seen map[int64]bool, images map[int64]Image, categories map[int64]bool) error {
	if seen[a.ID] {
		return fmt.Errorf("id already used")
	}
	im, ok := images[a.ImageID]
	if !ok {
		return fmt.Errorf("image_id %d is not an image of the dataset", a.ImageID)
	}
	if !categories[a.CategoryID] {
		return fmt.Errorf("category_id %d is not a category of the dataset", a.CategoryID)
	}
	if a.IsCrowd != 0 && a.IsCrowd != 1 {
		return fmt.Errorf("iscrowd is %d, want 0 or 1", a.IsCrowd)
	}
	x, y, w, h := a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]
	for _, v := range a.BBox {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("bbox %v is not four finite numbers", a.BBox)
		}
	}
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("bbox %v has no area (want [x, y, width, height] with positive width and height)", a.BBox)
	case x < -boxSlack || y < -boxSlack || x+w > float64(im.Width)+boxSlack || y+h > float64(im.Height)+boxSlack:
		return fmt.Errorf("bbox %v reaches outside %q (%dx%d); boxes are [x, y, width, height] in pixels", a.BBox, im.FileName, im.Width, im.Height)
	case a.Area < 0:
		return fmt.Errorf("area %g is negative", a.Area)
	}
	return nil
}
