package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/dataset"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/eval"
)

// evalImages is the size of the set `eval` is timed on (issue 16's 500).
const evalImages = 500

// evalVersusDetector times `eval` on evalImages labelled images against
// the detector alone on the same images.
func evalVersusDetector(ctx context.Context, b *bench) error {
	return compareEval(ctx, b, evalImages)
}

// compareEval writes n images made from the Custom Vision sample's 40
// labelled photos (WriteEvalSet) and times, alternating, the detector
// alone and `eval` on them, each with its model loading and one
// single-threaded detector a core, as eval runs.
func compareEval(ctx context.Context, b *bench, n int) error {
	samples, err := detectionSamples()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sightline-bench-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(b.progress, "bench: writing %d labelled images…\n", n)
	coco, err := WriteEvalSet(samples, dir, n)
	if err != nil {
		return err
	}
	ds, err := dataset.Read(coco)
	if err != nil {
		return err
	}
	workers := local.BatchOptions().Detectors
	var alone, full, ap []float64
	sides := []func() error{
		func() error { return timed(&alone, func() error { return detectorAlone(ctx, ds, dir, workers) }) },
		func() error {
			return timed(&full, func() error {
				r, err := evalOnce(ctx, coco, dir, workers)
				if err == nil {
					ap = append(ap, r.MAP50)
				}
				return err
			})
		},
	}
	for i := range min(b.cfg.Repeats, 3) { // a run is tens of seconds
		for k := range sides {
			if err := sides[(i+k)%2](); err != nil { // neither side always goes first
				return err
			}
		}
	}
	rep := b.rep
	fd := rep.figure(fmt.Sprintf("YOLOX-nano alone on %d labelled images", n), "s", alone)
	fe := rep.figure(fmt.Sprintf("eval on the same %d images", n), "s", full)
	rep.figure("eval's mAP@0.5 on them (fork, scissors)", "AP", ap)
	// eval within 1.5× the detector's time is the detector's at least 1/1.5 of eval's.
	rep.ratio("detector alone / eval (eval ≤ 1.5× the detector)", fd.Median/fe.Median, 1/1.5, "≥ 0.67")
	return nil
}

// timed runs fn and appends the seconds it took to runs.
func timed(runs *[]float64, fn func() error) error {
	start := time.Now()
	if err := fn(); err != nil {
		return err
	}
	*runs = append(*runs, time.Since(start).Seconds())
	return nil
}

// evalOnce is what `eval --dataset coco --images dir` does, the printing
// aside: read the set, load YOLOX, detect every image and evaluate.
func evalOnce(ctx context.Context, coco, dir string, workers int) (*eval.Result, error) {
	ds, err := dataset.Read(coco)
	if err != nil {
		return nil, err
	}
	detect, closeFn, err := backend.LocalDetector(workers)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	r, failures, _, err := eval.Run(ctx, ds, dir, detect, eval.RunOptions{Workers: workers})
	if err == nil && len(failures) > 0 {
		err = fmt.Errorf("eval: %s: %w", failures[0].Image.FileName, failures[0].Err)
	}
	if err != nil {
		return nil, err
	}
	_, err = json.Marshal(r) // the line eval prints
	return r, err
}

// detectorAlone loads YOLOX as eval does and detects every image of ds
// with workers at once, the boxes thrown away.
func detectorAlone(ctx context.Context, ds *dataset.Dataset, dir string, workers int) error {
	detect, closeFn, err := backend.LocalDetector(workers)
	if err != nil {
		return err
	}
	defer closeFn()
	next := make(chan dataset.Image)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for im := range next {
				data, err := os.ReadFile(filepath.Join(dir, im.FileName))
				if err == nil {
					_, err = detect(ctx, im, data)
				}
				if err != nil && errs[w] == nil {
					errs[w] = fmt.Errorf("%s: %w", im.FileName, err)
				}
			}
		})
	}
	for _, im := range ds.Images {
		next <- im
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// detectionSamples is the Custom Vision object detection sample folder
// (40 photos of forks and scissors and their regions.json) in the
// project's shared material: $SIGHTLINE_AZURE_DATA, $SIGHTLINE_SHARED/azure,
// azure/ beside $SIGHTLINE_MODELS, or shared/azure beside the repository
// that holds deps/.
func detectionSamples() (string, error) {
	var azure []string
	if d := os.Getenv("SIGHTLINE_AZURE_DATA"); d != "" {
		azure = append(azure, d)
	}
	if d := os.Getenv("SIGHTLINE_SHARED"); d != "" {
		azure = append(azure, filepath.Join(d, "azure"))
	}
	if d := os.Getenv("SIGHTLINE_MODELS"); d != "" {
		azure = append(azure, filepath.Join(d, "..", "azure"))
	}
	if r := deps.Root(); r != "" {
		azure = append(azure, filepath.Join(r, "..", "..", "shared", "azure"))
	}
	for _, d := range azure {
		s := filepath.Join(d, "customvision-training", "samples")
		if _, err := os.Stat(filepath.Join(s, "object-detection", "regions.json")); err == nil {
			return s, nil
		}
	}
	return "", fmt.Errorf("the Custom Vision sample photos are not in %v (set SIGHTLINE_SHARED to the shared folder)", azure)
}

// sampleRegions is the sample's regions.json: each photo and its boxes,
// as fractions of its width and height.
type sampleRegions struct {
	Images []struct {
		File    string `json:"file"`
		Regions []struct {
			Tag                      string
			Left, Top, Width, Height float64
		} `json:"regions"`
	} `json:"images"`
}

// WriteEvalSet writes n labelled JPEGs into dir, made from the sample
// photos in samplesDir (the Custom Vision object detection sample and its
// regions.json): the photos in turn, each round with its own scale,
// mirroring, contrast and brightness, the boxes moved to match, so that no
// two images are the same and every label is a real one. It returns the
// COCO file written beside them.
func WriteEvalSet(samplesDir, dir string, n int) (string, error) {
	raw, err := os.ReadFile(filepath.Join(samplesDir, "object-detection", "regions.json"))
	if err != nil {
		return "", err
	}
	var src sampleRegions
	if err := json.Unmarshal(raw, &src); err != nil || len(src.Images) == 0 {
		return "", fmt.Errorf("%s/object-detection/regions.json: no images (%v)", samplesDir, err)
	}
	var ds dataset.Dataset
	for i := range n {
		im, round := src.Images[i%len(src.Images)], i/len(src.Images)
		v := variant{scale: 0.6 + 0.1*float64(round%7), mirror: round%2 == 1,
			gain: 0.85 + 0.05*float64(round%5), bias: float64(round%3*10 - 10)}
		name := fmt.Sprintf("%04d.jpg", i)
		w, h, srcW, srcH, err := v.write(filepath.Join(samplesDir, im.File), filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		id := ds.AddImage(name, w, h)
		for _, r := range im.Regions {
			ds.AddBox(id, r.Tag, v.box(r.Left*srcW, r.Top*srcH, r.Width*srcW, r.Height*srcH, float64(w)))
		}
	}
	coco := filepath.Join(dir, "coco.json")
	return coco, ds.WriteFile(coco)
}

// variant is how one image of the set differs from its photo.
type variant struct {
	scale, gain, bias float64
	mirror            bool
}

// write reads the photo at src, changes it and writes it to dst as JPEG;
// it returns the new size and the photo's.
func (v variant) write(src, dst string) (w, h int, srcW, srcH float64, err error) {
	m := gocv.IMRead(src, gocv.IMReadColor)
	defer m.Close()
	if m.Empty() {
		return 0, 0, 0, 0, fmt.Errorf("cannot read %s", src)
	}
	w, h = int(float64(m.Cols())*v.scale+0.5), int(float64(m.Rows())*v.scale+0.5)
	out := gocv.NewMat()
	defer out.Close()
	gocv.Resize(m, &out, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	if v.mirror {
		gocv.Flip(out, &out, 1)
	}
	out.ConvertToWithParams(&out, gocv.MatTypeCV8UC3, float32(v.gain), float32(v.bias))
	if !gocv.IMWriteWithParams(dst, out, []int{gocv.IMWriteJpegQuality, 90}) {
		return 0, 0, 0, 0, fmt.Errorf("cannot write %s", dst)
	}
	return w, h, float64(m.Cols()), float64(m.Rows()), nil
}

// box moves a box of the photo (pixels) onto the image, width imgW.
func (v variant) box(x, y, w, h, imgW float64) [4]float64 {
	x, y, w, h = x*v.scale, y*v.scale, w*v.scale, h*v.scale
	if v.mirror {
		x = imgW - x - w
	}
	return [4]float64{x, y, w, h}
}
