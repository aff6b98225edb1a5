package azure

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sightline/sightline/analyzer"
)

// Upload limits of the Training API: 64 images a batch, 6 MB an image.
// Batches are also kept under MaxBatchBytes of images, so that one request
// stays a size proxies and the service take.
const (
	MaxImagesPerBatch = 64
	TrainingMaxBytes  = 6 << 20
	MaxBatchBytes     = 32 << 20
)

// Image creation statuses the service reports; UploadRejected is
// Sightline's, for an image refused before upload.
const (
	UploadOK          = "OK"
	UploadOKDuplicate = "OKDuplicate"
	UploadRejected    = "Rejected"
)

// Region is a box on a training image, as fractions of its size.
type Region struct {
	TagID  string  `json:"tagId"`
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// ImageEntry is a training image: tagged as a whole (classification) or
// with regions (object detection).
type ImageEntry struct {
	Name    string
	Image   analyzer.Image // bytes or pixels; URLs are not uploaded
	TagIDs  []string
	Regions []Region
}

// ImageResult is what became of one image of an upload.
type ImageResult struct {
	Name    string
	Status  string // UploadOK, UploadOKDuplicate, the service's Error… status, or UploadRejected
	ImageID string // the service's id, when created
	Error   string // why it failed, in words
}

// OK reports whether the image is in the project (new or already there).
func (r ImageResult) OK() bool { return r.Status == UploadOK || r.Status == UploadOKDuplicate }

// wire shapes of ImageFileCreateBatch and ImageCreateSummary.
type imageFileEntry struct {
	Name     string   `json:"name"`
	Contents []byte   `json:"contents"` // base64 in JSON
	TagIDs   []string `json:"tagIds,omitempty"`
	Regions  []Region `json:"regions,omitempty"`
}

type imageCreateSummary struct {
	IsBatchSuccessful bool `json:"isBatchSuccessful"`
	Images            []struct {
		SourceURL string `json:"sourceUrl"`
		Status    string `json:"status"`
		Image     *struct {
			ID string `json:"id"`
		} `json:"image"`
	} `json:"images"`
}

// UploadImages adds entries to a project in batches within the service's
// limits and returns one result an entry, in order; progress (if set) is
// called after each batch with the entries done so far. Images the
// service refuses, and batches it refuses as a whole (HTTP 400), are
// reported in the results and the upload goes on; any other failure
// (authentication, throttling past the retries, the network) ends it, with
// the results so far.
func (c *TrainingClient) UploadImages(ctx context.Context, projectID string, entries []ImageEntry, progress func(done, total int)) ([]ImageResult, error) {
	results := make([]ImageResult, len(entries))
	var batch []imageFileEntry
	var indices []int // of batch's entries in entries
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.uploadBatch(ctx, projectID, batch, indices, results)
		batch, indices, size = batch[:0], indices[:0], 0
		if progress != nil {
			progress(countDone(results), len(entries))
		}
		return err
	}
	for i, e := range entries {
		results[i].Name = e.Name
		up, err := prepareUpload(e.Image, uploadLimits{maxBytes: TrainingMaxBytes, maxSide: c.maxSide})
		if err != nil {
			results[i].Status, results[i].Error = UploadRejected, err.Error()
			continue
		}
		if len(batch) == MaxImagesPerBatch || (len(batch) > 0 && size+len(up.body) > MaxBatchBytes) {
			if err := flush(); err != nil {
				return results, err
			}
		}
		batch = append(batch, imageFileEntry{Name: e.Name, Contents: up.body, TagIDs: e.TagIDs, Regions: e.Regions})
		indices = append(indices, i)
		size += len(up.body)
	}
	return results, flush()
}

// countDone counts the entries that have an outcome.
func countDone(results []ImageResult) int {
	n := 0
	for _, r := range results {
		if r.Status != "" {
			n++
		}
	}
	return n
}

// uploadBatch sends one batch and records each image's outcome in results
// (at indices).
func (c *TrainingClient) uploadBatch(ctx context.Context, projectID string, batch []imageFileEntry, indices []int, results []ImageResult) error {
	var sum imageCreateSummary
	err := c.call(ctx, http.MethodPost, projectPath(projectID, "images", "files"), nil,
		map[string]any{"images": batch}, &sum)
	var se *ServiceError
	if errors.As(err, &se) && se.StatusCode == http.StatusBadRequest {
		for _, i := range indices {
			results[i].Status, results[i].Error = se.Code, err.Error()
		}
		return nil
	}
	if err != nil {
		return err
	}
	for k, i := range indices {
		r := &results[i]
		j := k
		// Results come in the batch's order; by name if the counts differ.
		if len(sum.Images) != len(batch) {
			j = findSource(sum, batch[k].Name)
		}
		if j < 0 {
			r.Status, r.Error = "ErrorUnknown", "the service did not report on this image"
			continue
		}
		got := sum.Images[j]
		r.Status = got.Status
		if got.Image != nil {
			r.ImageID = got.Image.ID
		}
		if !r.OK() {
			r.Error = "the service refused the image: " + got.Status
		}
	}
	return nil
}

// findSource finds an image's result by name; the service reports file
// uploads' names quoted ("\"fork_1.jpg\"").
func findSource(sum imageCreateSummary, name string) int {
	for j, im := range sum.Images {
		if strings.Trim(im.SourceURL, `"`) == name {
			return j
		}
	}
	return -1
}
