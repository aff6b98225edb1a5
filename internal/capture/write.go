package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/overlay"
)

// write saves the frames decided on, one at a time, until Close. After a
// failure nothing more is written: a full disk stays full.
func (c *Capture) write() {
	defer close(c.done)
	for p := range c.jobs {
		c.mu.Lock()
		failed := c.err != nil
		c.mu.Unlock()
		if !failed {
			if err := c.save(p); err != nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
			}
		}
		c.pool.Put(p.mat)
		c.mu.Lock()
		c.queued--
		c.mu.Unlock()
	}
}

// save writes p's JPEG and record.
func (c *Capture) save(p *pending) error {
	if p.filter.BlurFaces && p.local != nil {
		// The same pixelation as the view and the snapshots: a training
		// set must not keep the faces the user chose to hide.
		overlay.Draw(&p.mat, &analyzer.Analysis{Faces: p.local.Faces}, overlay.Filter{BlurFaces: true, HideFaces: true})
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, p.mat, []int{gocv.IMWriteJpegQuality, c.opts.Quality})
	if err != nil {
		return fmt.Errorf("capture: encoding frame %d: %w", p.seq, err)
	}
	img := bytes.Clone(buf.GetBytes())
	buf.Close()
	at := c.opts.Clock.Now()
	stem := fmt.Sprintf("%s-f%06d", at.UTC().Format("20060102-150405.000"), p.seq)
	rec := c.record(p, stem+ImageExt, at)
	js, err := json.MarshalIndent(rec, "", " ")
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	js = append(js, '\n')
	size := int64(len(img) + len(js))
	c.mu.Lock()
	full := c.stats.Bytes+size > c.opts.MaxBytes
	if full {
		c.stats.Full++
	}
	c.mu.Unlock()
	if full {
		return nil
	}
	imagePath := filepath.Join(c.dir, stem+ImageExt)
	if err := c.writeFile(imagePath, img); err != nil {
		return err
	}
	if err := c.writeFile(filepath.Join(c.dir, stem+SidecarExt), js); err != nil {
		os.Remove(imagePath)
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Saved++
	c.stats.Bytes += size
	for _, r := range p.reasons {
		c.stats.ByReason[r]++
	}
	return nil
}

// record describes p for Review.
func (c *Capture) record(p *pending, image string, at time.Time) Record {
	own := p.primary()
	rec := Record{Image: image, Frame: p.seq, PTSMS: event.MS(p.pts), CapturedAt: at.UTC(),
		Width: p.mat.Cols(), Height: p.mat.Rows(), Reasons: p.reasons,
		Threshold: p.filter.Threshold, PerClass: p.filter.PerClass, Band: max(c.opts.Band, 0),
		Predictions: boxes(own)}
	if rec.Predictions == nil {
		rec.Predictions = []Box{}
	}
	if own != nil {
		rec.Model = own.ModelVersion
	}
	if p.local != nil && p.cloud != nil {
		rec.Cloud = boxes(p.cloud)
	}
	return rec
}

// writeFile writes data to path through a temporary file, so that a
// failed write never leaves a file that looks like a capture.
func (c *Capture) writeFile(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := c.create(tmp)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("capture: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}
