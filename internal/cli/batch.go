package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/sightline/sightline/internal/text"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/imagefile"
)

// line is one JSON line of analyze, ocr and predict.
type line struct {
	Input     string   `json:"input"`
	Success   bool     `json:"success"`
	Source    string   `json:"source,omitempty"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	// Warning says the input was damaged though it was analysed.
	Warning string `json:"warning,omitempty"`
	Data    any    `json:"data,omitempty"`
	Error   string `json:"error,omitempty"`
}

// work computes one input's data and the source that produced it.
type work func(ctx context.Context, input string, img analyzer.Image) (data any, source string, err error)

// batch runs fn on every input with `workers` in parallel and prints one
// JSON line per input in input order, as soon as the lines before it are
// done. Failed inputs get a success:false line; the others still run.
func batch(ctx context.Context, e env, inputs []string, workers int, fn work) error {
	if len(inputs) == 0 {
		return usagef("no inputs (give image files or http(s):// URLs)")
	}
	workers = max(1, min(workers, len(inputs)))
	results := make([]chan line, len(inputs))
	for i := range results {
		results[i] = make(chan line, 1)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] <- process(ctx, inputs[i], fn)
			}
		})
	}
	go func() {
		defer close(next)
		for i := range inputs {
			select {
			case next <- i:
			case <-ctx.Done():
				for j := i; j < len(inputs); j++ {
					results[j] <- line{Input: inputs[j], Error: "interrupted"}
				}
				return
			}
		}
	}()
	failed := 0
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	progress := isTerminal(e.stderr)
	for i := range inputs {
		l := <-results[i]
		if !l.Success {
			failed++
		}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("writing results: %w", err)
		}
		if progress {
			fmt.Fprintf(e.stderr, "\r%d/%d done, %d failed", i+1, len(inputs), failed)
		}
	}
	if progress {
		fmt.Fprintln(e.stderr)
	}
	wg.Wait()
	if failed > 0 {
		return errSomeFailed
	}
	return nil
}

// process runs fn on one input, turning errors and panics into a failed line.
func process(ctx context.Context, input string, fn work) (l line) {
	l.Input = input
	defer func() {
		if r := recover(); r != nil {
			l = line{Input: input, Error: text.OneLine(fmt.Sprintf("internal error: %v", r), 0)}
		}
	}()
	img, err := loadInput(input)
	if err != nil {
		l.Error = text.OneLine(err.Error(), 0)
		return l
	}
	// latency_ms is the input's own time: not the time it waited for a
	// model another input held, which grew with its place in the batch.
	clk := clock.Real{}
	queue := analyzer.NewQueueMeter(clk)
	start := clk.Now()
	data, source, err := fn(analyzer.WithQueueMeter(ctx, queue), input, img)
	if err != nil {
		l.Error = text.OneLine(err.Error(), 0)
		return l
	}
	lat := ms(clk.Now().Sub(start) - queue.Queued())
	l.Success, l.Source, l.Data, l.LatencyMS = true, source, data, &lat
	l.Warning = damage(img)
	return l
}

// damage says what is wrong with an image that was analysed all the same:
// a truncated JPEG decodes to what was there, grey below.
func damage(img analyzer.Image) string {
	if len(img.Bytes) == 0 {
		return ""
	}
	if h, err := imagefile.Inspect(img.Bytes); err == nil && h.Truncated {
		return fmt.Sprintf("image is truncated: the %s ends before its image data; what was there was analysed", h.Format)
	}
	return ""
}

// loadInput reads an image file, or passes an http(s) URL on as a URL.
func loadInput(input string) (analyzer.Image, error) {
	if strings.HasPrefix(input, "http://") || strings.HasPrefix(input, "https://") {
		return analyzer.Image{URL: input}, nil
	}
	b, err := imagefile.ReadFile(input)
	if err != nil {
		return analyzer.Image{}, err
	}
	if len(b) == 0 {
		return analyzer.Image{}, fmt.Errorf("%s: empty file", input)
	}
	return analyzer.Image{Bytes: b}, nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
