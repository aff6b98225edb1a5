package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sightline/sightline/internal/deps"
)

// startup times one image from a cold start, as child processes from
// exec to exit: `ocr` of a scanned form and `analyze --features objects`
// of a photo, with ONNX Runtime's graph cache off and warm, and
// `version`, which only starts and exits, as the floor under both.
func startup(ctx context.Context, b *bench) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	form, err := scannedForm()
	if err != nil {
		return err
	}
	photo := filepath.Join(filepath.Dir(deps.DemoVideo), "messi5.jpg") // opencv-doc, as the demo video
	cache, err := os.MkdirTemp("", "sightline-bench-ort-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	runs := min(3, b.cfg.Repeats)
	var floor []float64
	for range runs {
		wall, _, _, err := timeProcess(ctx, []string{exe, "version"})
		if err != nil {
			return err
		}
		floor = append(floor, wall.Seconds())
	}
	b.rep.figure("start-up: `version`, exec to exit (loading the binary and its libraries)", "s", floor)
	for _, c := range []struct{ name, args string }{
		{"`ocr --backend local` of a scanned form (" + filepath.Base(form) + ")", "ocr --backend local " + form},
		{"`analyze --backend local --features objects` of a photo (" + filepath.Base(photo) + ")", "analyze --backend local --features objects " + photo},
	} {
		args := append([]string{exe}, strings.Fields(c.args)...)
		fmt.Fprintf(b.progress, "bench: %s…\n", c.args)
		off, warm, err := coldStarts(ctx, args, cache, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.args, err)
		}
		fo := b.rep.figure("start-up: "+c.name+", exec to exit, ORT cache off", "s", off)
		fw := b.rep.figure("start-up: "+c.name+", exec to exit, ORT cache warm", "s", warm)
		b.rep.ratio("start-up: "+c.name+", cache off / warm", fo.Median/fw.Median, 0, "")
	}
	return nil
}

// coldStarts times args runs times with SIGHTLINE_ORT_CACHE off and with
// cache warm (a first run, not counted, fills it), alternating.
func coldStarts(ctx context.Context, args []string, cache string, runs int) (off, warm []float64, err error) {
	if _, _, _, err := timeProcess(ctx, args, "SIGHTLINE_ORT_CACHE="+cache); err != nil {
		return nil, nil, err
	}
	for range runs {
		for _, side := range []struct {
			cache string
			times *[]float64
		}{{"off", &off}, {cache, &warm}} {
			wall, _, _, err := timeProcess(ctx, args, "SIGHTLINE_ORT_CACHE="+side.cache)
			if err != nil {
				return nil, nil, err
			}
			*side.times = append(*side.times, wall.Seconds())
		}
	}
	return off, warm, nil
}

// scannedForm is the OCR set's scanned form (make bench assembles the
// set), else the same file in the project's shared folder.
func scannedForm() (string, error) {
	const rel = "azure/docintel/samples/rest-api-samples/rest-api/read.png"
	candidates := []string{filepath.Join(deps.Root(), "ocr-set", "read.png")}
	if s := os.Getenv("SIGHTLINE_SHARED"); s != "" {
		candidates = append(candidates, filepath.Join(s, rel))
	}
	if m := os.Getenv("SIGHTLINE_MODELS"); m != "" { // shared/models
		candidates = append(candidates, filepath.Join(filepath.Dir(m), rel))
	}
	candidates = append(candidates, filepath.Join(deps.Root(), "..", "..", "shared", rel))
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no scanned form to read: none of %s (make bench assembles the OCR set)", strings.Join(candidates, ", "))
}
