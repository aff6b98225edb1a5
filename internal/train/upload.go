package train

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig checks the dataset's image sizes
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/internal/dataset"
)

// upload sends the images that have boxes, reading one batch's files at a
// time so that a large dataset is never all in memory.
func (r *run) upload(ctx context.Context, ds *dataset.Dataset, imagesDir string) error {
	byImage := ds.AnnotationsByImage()
	names := map[int64]string{}
	for _, c := range ds.Categories {
		names[c.ID] = strings.ToLower(c.Name)
	}
	var todo []dataset.Image
	for _, im := range ds.Images {
		if slices.ContainsFunc(byImage[im.ID], func(a dataset.Annotation) bool { return a.IsCrowd == 0 }) {
			todo = append(todo, im)
		} else {
			r.res.Images.Skipped++
		}
	}
	r.progress(Progress{Stage: StageUpload, Total: len(todo)})
	for start := 0; start < len(todo); start += azure.MaxImagesPerBatch {
		chunk := todo[start:min(start+azure.MaxImagesPerBatch, len(todo))]
		var entries []azure.ImageEntry
		for _, im := range chunk {
			e, err := r.entry(im, byImage[im.ID], names, imagesDir)
			if err != nil {
				r.fail(im.FileName, azure.UploadRejected, err.Error())
				continue
			}
			entries = append(entries, e)
		}
		results, err := r.client.UploadImages(ctx, r.res.ProjectID, entries, nil)
		r.count(results)
		r.progress(Progress{Stage: StageUpload, Done: start + len(chunk), Total: len(todo)})
		if err != nil {
			return err
		}
	}
	return nil
}

// entry reads an image and labels it: with regions (detection) or with
// the tags of its boxes (classification). Crowd boxes are left out:
// Custom Vision has no such notion.
func (r *run) entry(im dataset.Image, anns []dataset.Annotation, names map[int64]string, imagesDir string) (azure.ImageEntry, error) {
	b, err := os.ReadFile(filepath.Join(imagesDir, filepath.FromSlash(im.FileName)))
	if err != nil {
		return azure.ImageEntry{}, err
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err == nil && (cfg.Width != im.Width || cfg.Height != im.Height) {
		return azure.ImageEntry{}, fmt.Errorf("the dataset says %dx%d but the file is %dx%d, so its boxes would be misplaced", im.Width, im.Height, cfg.Width, cfg.Height)
	}
	e := azure.ImageEntry{Name: im.FileName, Image: analyzer.Image{Bytes: b}}
	w, h := float64(im.Width), float64(im.Height)
	for _, a := range anns {
		tag := r.tags[names[a.CategoryID]]
		if a.IsCrowd != 0 || tag == "" {
			continue
		}
		if r.kind == azure.Classification {
			if !slices.Contains(e.TagIDs, tag) {
				e.TagIDs = append(e.TagIDs, tag)
			}
			continue
		}
		x1, y1 := clamp01(a.BBox[0]/w), clamp01(a.BBox[1]/h)
		x2, y2 := clamp01((a.BBox[0]+a.BBox[2])/w), clamp01((a.BBox[1]+a.BBox[3])/h)
		e.Regions = append(e.Regions, azure.Region{TagID: tag, Left: x1, Top: y1, Width: x2 - x1, Height: y2 - y1})
	}
	return e, nil
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// count adds an upload's outcomes to the result.
func (r *run) count(results []azure.ImageResult) {
	for _, res := range results {
		switch {
		case res.Status == azure.UploadOK:
			r.res.Images.Uploaded++
		case res.Status == azure.UploadOKDuplicate:
			r.res.Images.Duplicates++
		case res.Status != "": // "" was never sent: the upload stopped
			r.fail(res.Name, res.Status, res.Error)
		}
	}
}

func (r *run) fail(file, status, why string) {
	r.res.Images.Failed++
	r.res.Failures = append(r.res.Failures, Failure{File: file, Status: status, Error: why})
}
