package cli

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"

	"github.com/sightline/sightline/internal/bench"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/text"
)

func cmdBench(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg bench.Config
	fs.StringVar(&cfg.Source, "source", deps.DemoVideo, "video file to measure on")
	fs.IntVar(&cfg.Frames, "frames", 300, "frames a run")
	fs.IntVar(&cfg.Repeats, "repeats", 5, "runs a figure (medians and p95 over them)")
	jsonPath := fs.String("json", "bench.json", "write the report as JSON here too (empty: don't)")
	only := fs.String("only", "", "run only these sections, comma-separated: "+strings.Join(bench.SectionIDs(), ", "))
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	cfg.Only = text.SplitList(*only)
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
