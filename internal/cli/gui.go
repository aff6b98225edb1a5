package cli

import (
	"context"
	"flag"
	"os"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/ui"
)

func cmdGUI(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("gui", flag.ContinueOnError)
	cfg := ui.Config{Version: Version}
	var mode string
	fs.StringVar(&cfg.Source, "source", "", "file, rtsp://…, http(s)://… or webcam:N (default: a webcam if one opens, else the demo video)")
	fs.StringVar(&mode, "backend", "auto", "local, azure or auto")
	fs.Float64Var(&cfg.Threshold, "threshold", 0.25, "confidence threshold drawn")
	fs.Float64Var(&cfg.FPSLimit, "fps-limit", 0, "analyses per second at most")
	fs.DurationVar(&cfg.ExitAfter, "exit-after", 0, "measure the display this long (after 5 s of warm-up), then quit (unattended checks, bench)")
	fs.StringVar(&cfg.Report, "report", "", "with --exit-after: write the display report (JSON) here")
	device := deviceFlag(fs)
	scenePath := fs.String("scene", "", "scene file (JSON): tracks, counting lines, zones and alert rules on the live view")
	camerasPath := fs.String("cameras", "", "cameras file (JSON, as run --cameras reads it): show these cameras on a wall")
	fs.BoolVar(&cfg.Booth, "booth", false, "booth mode: the wall full screen, large counters and captions, the pointer hidden when still (B or Esc leaves)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if cfg.Mode, err = schedule.ParseMode(mode); err != nil {
		return usagef("%v", err)
	}
	if cfg.Device, err = parseDevice(*device); err != nil {
		return err
	}
	if cfg.Scene, err = sceneFlags(*scenePath, false); err != nil {
		return err
	}
	if *camerasPath != "" {
		b, err := os.ReadFile(*camerasPath)
		if err != nil {
			return usagef("%v", err)
		}
		if cfg.Cameras, err = ui.ParseCameras(b); err != nil {
			return usagef("%s: %v", *camerasPath, err)
		}
	}
	// The environment comes before the app's saved settings.
	if cfg.Vision, err = visionFromEnv(e, 0); err != nil {
		return err
	}
	return ui.Run(ctx, cfg)
}
