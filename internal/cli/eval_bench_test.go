package cli

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/dataset"
)

// augmented writes n images made from the 40 labelled photos (mirrored,
// scaled, brightened or darkened, so that no two are the same) with their
// boxes moved to match, and returns their folder and COCO file. With
// SIGHTLINE_EVAL_SET=DIR they are written there and kept, for timing the
// commands themselves.
func augmented(tb testing.TB, n int) (string, string) {
	tb.Helper()
	src, err := dataset.Read(samplesCOCO)
	if err != nil {
		tb.Fatal(err)
	}
	dir := os.Getenv("SIGHTLINE_EVAL_SET")
	if dir == "" {
		dir = tb.TempDir()
	}
	byImage := src.AnnotationsByImage()
	var out dataset.Dataset
	out.Categories = src.Categories
	for i := range n {
		im := src.Images[i%len(src.Images)]
		v := i / len(src.Images)
		flip, scale, alpha, beta := v%2 == 1, []float64{1, 0.8, 0.6, 1.25}[v/2%4], []float64{1, 1.2, 0.85}[v%3], float64(v%5*8-16)
		name := fmt.Sprintf("aug/%04d.jpg", i)
		w, h := writeVariant(tb, filepath.Join(sampleImages(tb), im.FileName), filepath.Join(dir, name), flip, scale, alpha, beta)
		id := out.AddImage(name, w, h)
		for _, a := range byImage[im.ID] {
			x, y, bw, bh := a.BBox[0]*scale, a.BBox[1]*scale, a.BBox[2]*scale, a.BBox[3]*scale
			if flip {
				x = float64(w) - x - bw
			}
			c := slices.IndexFunc(src.Categories, func(c dataset.Category) bool { return c.ID == a.CategoryID })
			out.AddBox(id, src.Categories[c].Name, [4]float64{x, y, bw, bh})
		}
	}
	coco := filepath.Join(dir, "coco.json")
	if err := out.WriteFile(coco); err != nil {
		tb.Fatal(err)
	}
	return dir, coco
}

// writeVariant writes one transformed photo as JPEG and returns its size.
func writeVariant(tb testing.TB, src, dst string, flip bool, scale, alpha, beta float64) (int, int) {
	tb.Helper()
	m := gocv.IMRead(src, gocv.IMReadColor)
	defer m.Close()
	if m.Empty() {
		tb.Fatalf("cannot read %s", src)
	}
	w, h := int(float64(m.Cols())*scale+0.5), int(float64(m.Rows())*scale+0.5)
	r := gocv.NewMat()
	defer r.Close()
	gocv.Resize(m, &r, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	if flip {
		gocv.Flip(r, &r, 1)
	}
	r.ConvertToWithParams(&r, gocv.MatTypeCV8UC3, float32(alpha), float32(beta))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		tb.Fatal(err)
	}
	if !gocv.IMWriteWithParams(dst, r, []int{gocv.IMWriteJpegQuality, 90}) {
		tb.Fatalf("cannot write %s", dst)
	}
	return w, h
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// detectorAlone is what eval's detection costs without eval: the same
// backend set-up and workers reading and detecting every image (model
// loading included, as in eval), the results thrown away.
func detectorAlone(tb testing.TB, dir string, ds *dataset.Dataset, workers int) {
	opts := local.BatchOptions()
	opts.Detectors = max(1, min(workers, opts.Detectors))
	b := local.New(opts)
	defer b.Close()
	if err := b.Load(analyzer.Features{analyzer.FeatureObjects}); err != nil {
		tb.Fatal(err)
	}
	req := analyzer.Request{Features: analyzer.Features{analyzer.FeatureObjects}, Options: analyzer.Options{Threshold: backend.EvalThreshold}}
	next := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for path := range next {
				data, err := os.ReadFile(path)
				if err == nil {
					_, err = b.Analyze(context.Background(), analyzer.Image{Bytes: data}, req)
				}
				if err != nil {
					tb.Error(err)
				}
			}
		})
	}
	for _, im := range ds.Images {
		next <- filepath.Join(dir, im.FileName)
	}
	close(next)
	wg.Wait()
}

// BenchmarkEval500 times `eval` on 500 images against the detector alone
// on the same images, side by side, alternating, three rounds each;
// medians of wall and CPU time:
//
//	go test ./internal/cli -run '^$' -bench Eval500 -benchtime 1x
func BenchmarkEval500(b *testing.B) {
	dir, coco := augmented(b, 500)
	ds, err := dataset.Read(coco)
	if err != nil {
		b.Fatal(err)
	}
	workers := local.BatchOptions().Detectors // one single-threaded detector a core, as eval runs
	e := env{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv}
	var alone, full, aloneCPU, fullCPU []time.Duration
	for range b.N * 3 {
		start, cpu := time.Now(), cpuTime()
		detectorAlone(b, dir, ds, workers)
		alone, aloneCPU = append(alone, time.Since(start)), append(aloneCPU, cpuTime()-cpu)

		var out bytes.Buffer
		e.stdout = &out
		start, cpu = time.Now(), cpuTime()
		if code := run(context.Background(), e, []string{"eval", "--dataset", coco, "--images", dir, "--workers", fmt.Sprint(workers)}); code != exitOK {
			b.Fatalf("eval exit %d", code)
		}
		full, fullCPU = append(full, time.Since(start)), append(fullCPU, cpuTime()-cpu)
		if b.N == 1 && len(full) == 1 {
			b.Logf("eval on %d images: %s", len(ds.Images), out.String())
		}
	}
	med := func(ds []time.Duration) time.Duration { s := slices.Sorted(slices.Values(ds)); return s[len(s)/2] }
	b.ReportMetric(med(alone).Seconds(), "detector-s")
	b.ReportMetric(med(full).Seconds(), "eval-s")
	b.ReportMetric(float64(med(full))/float64(med(alone)), "eval/detector")
	b.ReportMetric(med(aloneCPU).Seconds(), "detector-cpu-s")
	b.ReportMetric(med(fullCPU).Seconds(), "eval-cpu-s")
	b.ReportMetric(float64(med(fullCPU))/float64(med(aloneCPU)), "eval/detector-cpu")
	b.Logf("wall: detector alone %v, eval %v (rounds %v / %v); CPU: %v / %v", med(alone), med(full), alone, full, med(aloneCPU), med(fullCPU))
}
