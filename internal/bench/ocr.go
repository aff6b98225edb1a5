package bench

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/meter"
)

// ocrSet is the comparison set's manifest and reference texts
// (scripts/ocr-set.sh assembles the images it names).
//
//go:embed ocrset/manifest.tsv ocrset/refs/*.txt
var ocrSet embed.FS

// OCRPeerConfig says how to run Sightline's OCR and the peer's on the set.
type OCRPeerConfig struct {
	// Sightline is the command that reads images with Sightline, the image
	// paths appended: by default this executable's `ocr --backend local`.
	Sightline []string
	// PeerDir is the peer's npm folder (scripts/ocr-peer.sh), PeerScript
	// scripts/ocr-peer.mjs, and ModelsDir the PP-OCRv4 folder both read.
	PeerDir, PeerScript, ModelsDir string
	// SetDir holds the images (scripts/ocr-set.sh).
	SetDir string
	// Runs is how many times each is timed, alternating (default 1).
	Runs int
}

// OCRSide is one reader's figures over the set.
type OCRSide struct {
	Seconds    []float64 `json:"seconds"`     // wall clock of each run, process start to exit
	CPUSeconds []float64 `json:"cpu_seconds"` // user+system CPU of each run
	Failed     int       `json:"failed"`      // images without a result (last run)
	Recall     float64   `json:"word_recall"`
	Precision  float64   `json:"word_precision"`
	// PerImage is each image's word recall (images with a reference).
	PerImage map[string]float64 `json:"per_image_recall"`
}

// OCRComparison is Sightline's OCR against the peer's on the same images.
type OCRComparison struct {
	Images    int     `json:"images"`
	RefImages int     `json:"reference_images"`
	RefWords  int     `json:"reference_words"`
	Sightline OCRSide `json:"sightline"`
	Peer      OCRSide `json:"peer"`
	// Speedup is the peer's median wall clock over Sightline's.
	Speedup float64 `json:"speedup"`
}

// ocrImage is one image of the set and its reference words (nil: none).
type ocrImage struct {
	name, path, kind string
	ref              []string
}

// loadOCRSet lists the set's images in dir, in manifest order.
func loadOCRSet(dir string) ([]ocrImage, error) {
	m, err := ocrSet.ReadFile("ocrset/manifest.tsv")
	if err != nil {
		return nil, err
	}
	var out []ocrImage
	for _, l := range strings.Split(string(m), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 || strings.HasPrefix(l, "#") {
			continue
		}
		img := ocrImage{name: f[0], kind: f[1]}
		ext := filepath.Ext(f[2])
		if ext == ".pdf" {
			ext = ".png" // rendered
		}
		img.path = filepath.Join(dir, f[0]+ext)
		if _, err := os.Stat(img.path); err != nil {
			return nil, fmt.Errorf("OCR set: %w (scripts/ocr-set.sh assembles it)", err)
		}
		if ref, err := ocrSet.ReadFile("ocrset/refs/" + f[0] + ".txt"); err == nil {
			img.ref = ocrWords(string(ref))
		}
		out = append(out, img)
	}
	if len(out) == 0 {
		return nil, errors.New("OCR set: empty manifest")
	}
	return out, nil
}

// CompareOCR times Sightline's OCR and the peer's on the whole set, one
// process each and run after run alternately, and scores both against the
// reference texts.
func CompareOCR(ctx context.Context, cfg OCRPeerConfig, progress io.Writer) (*OCRComparison, error) {
	imgs, err := loadOCRSet(cfg.SetDir)
	if err != nil {
		return nil, err
	}
	if len(cfg.Sightline) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cfg.Sightline = []string{exe, "ocr", "--backend", "local"}
	}
	paths := make([]string, len(imgs))
	for i, im := range imgs {
		paths[i] = im.path
	}
	peer := []string{"node", cfg.PeerScript, cfg.PeerDir, cfg.ModelsDir}
	c := &OCRComparison{Images: len(imgs)}
	var sl, pe map[string][]string
	for run := range max(cfg.Runs, 1) {
		for _, side := range []struct {
			who   string
			cmd   []string
			parse func([]byte) (map[string][]string, error)
			out   *OCRSide
			texts *map[string][]string
		}{
			{"sightline", cfg.Sightline, parseSightlineOCR, &c.Sightline, &sl},
			{"peer", peer, parsePeerOCR, &c.Peer, &pe},
		} {
			fmt.Fprintf(progress, "OCR set, run %d: %s on %d images…\n", run+1, side.who, len(imgs))
			wall, cpu, stdout, err := timeProcess(ctx, append(side.cmd[:len(side.cmd):len(side.cmd)], paths...))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", side.who, err)
			}
			if *side.texts, err = side.parse(stdout); err != nil {
				return nil, fmt.Errorf("%s: %w", side.who, err)
			}
			side.out.Seconds = append(side.out.Seconds, wall.Seconds())
			side.out.CPUSeconds = append(side.out.CPUSeconds, cpu.Seconds())
			fmt.Fprintf(progress, "  %.1f s (CPU %.1f s)\n", wall.Seconds(), cpu.Seconds())
		}
	}
	c.Sightline.score(imgs, sl)
	c.Peer.score(imgs, pe)
	for _, im := range imgs {
		if im.ref != nil {
			c.RefImages++
			c.RefWords += len(im.ref)
		}
	}
	c.Speedup = meter.Percentile(c.Peer.Seconds, 50) / meter.Percentile(c.Sightline.Seconds, 50)
	return c, nil
}

// timeProcess runs args to completion, with env added to the
// environment, and returns its wall clock, CPU time and standard output;
// standard error is kept for the error message.
func timeProcess(ctx context.Context, args []string, env ...string) (wall, cpu time.Duration, stdout []byte, err error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: some inputs failed
		return 0, 0, nil, fmt.Errorf("%v: %s", err, lastLine(errOut.Bytes()))
	}
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return wall, cpu, out.Bytes(), nil
}

// parseSightlineOCR reads `sightline ocr` lines: input → line texts.
func parseSightlineOCR(b []byte) (map[string][]string, error) {
	out := map[string][]string{}
	err := eachJSONLine(b, func(raw []byte) error {
		var l struct {
			Input   string `json:"input"`
			Success bool   `json:"success"`
			Data    struct {
				Lines []struct {
					Text string `json:"text"`
				} `json:"structured_data"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return err
		}
		if l.Success {
			out[l.Input] = []string{}
			for _, x := range l.Data.Lines {
				out[l.Input] = append(out[l.Input], x.Text)
			}
		}
		return nil
	})
	return out, err
}

// parsePeerOCR reads scripts/ocr-peer.mjs's lines: input → line texts.
func parsePeerOCR(b []byte) (map[string][]string, error) {
	out := map[string][]string{}
	err := eachJSONLine(b, func(raw []byte) error {
		var l struct {
			Input string   `json:"input"`
			Lines []string `json:"lines"`
			Error string   `json:"error"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return err
		}
		if l.Error == "" {
			out[l.Input] = append([]string{}, l.Lines...)
		}
		return nil
	})
	return out, err
}

func eachJSONLine(b []byte, fn func([]byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("output line %.80q: %w", sc.Text(), err)
		}
	}
	return sc.Err()
}

// score sets the side's word recall and precision over the images with a
// reference, counting words as a bag: order and line breaks do not matter.
func (s *OCRSide) score(imgs []ocrImage, texts map[string][]string) {
	s.PerImage = map[string]float64{}
	var found, refWords, gotWords int
	for _, im := range imgs {
		lines, ok := texts[im.path]
		if !ok {
			s.Failed++
		}
		if im.ref == nil {
			continue
		}
		got := ocrWords(strings.Join(lines, "\n"))
		n := bagOverlap(im.ref, got)
		found += n
		refWords += len(im.ref)
		gotWords += len(got)
		s.PerImage[im.name] = float64(n) / float64(max(len(im.ref), 1))
	}
	s.Recall = float64(found) / float64(max(refWords, 1))
	s.Precision = float64(found) / float64(max(gotWords, 1))
}

// ocrWords splits text into words for scoring: lower case, punctuation at
// either end dropped, Han characters one word each (Chinese has no spaces).
func ocrWords(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		f = strings.ToLower(strings.TrimFunc(f, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }))
		if f == "" {
			continue
		}
		var latin strings.Builder
		for _, r := range f {
			if unicode.Is(unicode.Han, r) {
				if latin.Len() > 0 {
					out = append(out, latin.String())
					latin.Reset()
				}
				out = append(out, string(r))
				continue
			}
			latin.WriteRune(r)
		}
		if latin.Len() > 0 {
			out = append(out, latin.String())
		}
	}
	return out
}

// bagOverlap counts the words of ref found in got, each use of a word once.
func bagOverlap(ref, got []string) int {
	left := map[string]int{}
	for _, w := range got {
		left[w]++
	}
	n := 0
	for _, w := range ref {
		if left[w] > 0 {
			left[w]--
			n++
		}
	}
	return n
}

// OCRFigures turns a comparison into the bench table's figures and ratios.
func OCRFigures(c *OCRComparison) ([]Figure, []Ratio) {
	fig := func(name, unit string, xs []float64) Figure {
		return Figure{Name: name, Unit: unit, Median: meter.Percentile(xs, 50), P95: meter.Percentile(xs, 95), Runs: len(xs)}
	}
	n := fmt.Sprintf("%d images", c.Images)
	figs := []Figure{
		fig("OCR set ("+n+"), Sightline `ocr --backend local`, one process", "s", c.Sightline.Seconds),
		fig("OCR set ("+n+"), @gutenye/ocr-node, one process", "s", c.Peer.Seconds),
		fig("OCR set, Sightline CPU", "s", c.Sightline.CPUSeconds),
		fig("OCR set, peer CPU", "s", c.Peer.CPUSeconds),
	}
	speedOK := c.Speedup >= 2
	accOK := c.Sightline.Recall >= c.Peer.Recall
	ratios := []Ratio{
		{Name: "OCR, peer wall clock / Sightline's (same images, same models)", Value: c.Speedup, Goal: "≥ 2", Met: &speedOK},
		{Name: fmt.Sprintf("OCR word recall, Sightline / peer (%.3f / %.3f over %d words of %d images)",
			c.Sightline.Recall, c.Peer.Recall, c.RefWords, c.RefImages),
			Value: c.Sightline.Recall / max(c.Peer.Recall, 1e-9), Goal: "≥ 1", Met: &accOK},
	}
	return figs, ratios
}

// ocrVersusPeer is the bench's OCR section: this executable's local OCR
// and the peer's on the 50-image set, alternating (make bench installs
// the peer and assembles the set first: scripts/ocr-peer.sh, ocr-set.sh).
func ocrVersusPeer(ctx context.Context, b *bench) error {
	root := deps.Root()
	models, err := deps.Model("ppocr-v4")
	if err != nil {
		return err
	}
	cfg := OCRPeerConfig{
		PeerDir:    filepath.Join(root, "ocr-peer"),
		PeerScript: filepath.Join(filepath.Dir(root), "scripts", "ocr-peer.mjs"),
		ModelsDir:  models,
		SetDir:     filepath.Join(root, "ocr-set"),
		Runs:       min(3, b.cfg.Repeats),
	}
	for _, p := range []string{cfg.PeerDir, cfg.PeerScript, cfg.SetDir} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (make bench sets the peer and the set up)", err)
		}
	}
	c, err := CompareOCR(ctx, cfg, b.progress)
	if err != nil {
		return err
	}
	figs, ratios := OCRFigures(c)
	b.rep.Figures = append(b.rep.Figures, figs...)
	b.rep.Ratios = append(b.rep.Ratios, ratios...)
	return nil
}
