package cli

import (
	"context"
	"encoding/json"
	"flag"
	"os"

	"github.com/sightline/sightline/internal/bench"
	"github.com/sightline/sightline/internal/deps"
)

func cmdBench(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg bench.Config
	fs.StringVar(&cfg.Source, "source", deps.DemoVideo, "video file to measure on")
	fs.IntVar(&cfg.Frames, "frames", 300, "frames a run")
	fs.IntVar(&cfg.Repeats, "repeats", 5, "runs a figure (medians and p95 over them)")
	jsonPath := fs.String("json", "bench.json", "write the report as JSON here too (empty: don't)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	rep, err := bench.Run(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	rep.Print(e.stdout)
	if *jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
