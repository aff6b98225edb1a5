package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/media"
	"github.com/sightline/sightline/ui"
)

// repaintMS is Fyne's repaint interval: it paints at most 60 times a
// second, so a change waits up to this long for its paint.
const repaintMS = 1000.0 / 60

// guiDisplay runs the app under Xvfb with local detection on, on the
// bench's source and on the demo video made 1080p30, a few times each, and
// reads its display reports: the screen against the source, the age of
// the frame on screen, the start-up and the threshold slider's redraws.
func guiDisplay(ctx context.Context, b *bench) error {
	hd, err := hdClip()
	if err != nil {
		return err
	}
	for _, src := range []struct{ label, path string }{{"source", b.cfg.Source}, {"1080p30", hd}} {
		var reps []*ui.DisplayReport
		for i := range min(3, b.cfg.Repeats) {
			fmt.Fprintf(b.progress, "bench: the app on %s, run %d…\n", filepath.Base(src.path), i+1)
			r, err := guiReport(ctx, src.path)
			if err != nil {
				return err
			}
			reps = append(reps, r)
		}
		guiFigures(b.rep, src.label, reps)
	}
	return nil
}

// guiFigures adds the figures and goals of one source's app runs.
func guiFigures(rep *Report, label string, reps []*ui.DisplayReport) {
	r0 := reps[0]
	name := func(what string) string {
		return fmt.Sprintf("GUI %s (%d×%d, %.0f fps): %s", label, r0.Width, r0.Height, 1000/r0.FrameIntervalMS, what)
	}
	each := func(f func(*ui.DisplayReport) float64) []float64 {
		xs := make([]float64, len(reps))
		for i, r := range reps {
			xs[i] = f(r)
		}
		return xs
	}
	shown := rep.figure(name("displayed/source fps"), "ratio", each(func(r *ui.DisplayReport) float64 { return r.Ratio }))
	rep.figure(name("displayed/source, 5th-percentile second"), "ratio", each(func(r *ui.DisplayReport) float64 { return r.RatioP5 }))
	rep.figure(name("age of the frame on screen, p50"), "ms", each(func(r *ui.DisplayReport) float64 { return r.FrameAgeP50 }))
	age := rep.figure(name("age of the frame on screen, p95"), "ms", each(func(r *ui.DisplayReport) float64 { return r.FrameAgeP95 }))
	rep.figure(name("CPU a frame shown, whole process"), "core-ms", each(func(r *ui.DisplayReport) float64 { return r.CPUPerFrame }))
	rep.figure(name("UI-thread CPU"), "%", each(func(r *ui.DisplayReport) float64 { return r.UIThreadCPU }))
	rep.figure(name("launch to first frame on screen"), "ms", each(func(r *ui.DisplayReport) float64 { return r.FirstFrameMS }))
	rep.figure(name("launch to first analysis on screen"), "ms", each(func(r *ui.DisplayReport) float64 { return r.FirstAnalysisMS }))
	var redraws [2]Figure
	for i, phase := range []struct {
		what  string
		times func(*ui.DisplayReport) ui.RedrawTimes
	}{
		{"playing", func(r *ui.DisplayReport) ui.RedrawTimes { return r.RedrawPlaying }},
		{"paused", func(r *ui.DisplayReport) ui.RedrawTimes { return r.RedrawPaused }},
	} {
		rep.figure(name("threshold change to redraw on screen, "+phase.what+", p50"), "ms",
			each(func(r *ui.DisplayReport) float64 { return phase.times(r).P50 }))
		redraws[i] = rep.figure(name("threshold change to redraw on screen, "+phase.what+", p95"), "ms",
			each(func(r *ui.DisplayReport) float64 { return phase.times(r).P95 }))
		rep.figure(name("threshold changes seen on screen, "+phase.what), "%",
			each(func(r *ui.DisplayReport) float64 {
				return 100 * float64(phase.times(r).Painted) / float64(max(1, phase.times(r).Changes))
			}))
	}
	interval := r0.FrameIntervalMS
	rep.ratio(name("displayed / source fps"), shown.Median, 0.95, "≥ 0.95")
	rep.ratioAtMost(name(fmt.Sprintf("age of the frame on screen p95 / frame interval (%.1f ms)", interval)), age.Median/interval, 1, "< 1")
	rep.ratioAtMost(name("threshold redraw p95 / frame interval, playing"), redraws[0].Median/interval, 1, "< 1")
	rep.ratioAtMost(name("threshold redraw p95 / frame interval, paused"), redraws[1].Median/interval, 1, "< 1")
	rep.ratio(name(fmt.Sprintf("threshold redraw p95, paused, in Fyne repaints (%.1f ms)", repaintMS)), redraws[1].Median/repaintMS, 0, "")
}

// hdClip is the demo video at 1920×1080 and 30 fps (each of its 10 fps
// frames three times), a minute of H.264 made once into the user's cache.
func hdClip() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return media.Make(filepath.Join(dir, "sightline", "bench"), "vtest-1920x1080-30fps-v1.mp4", "-i", deps.DemoVideo,
		"-vf", "scale=1920:1080,fps=30", "-t", "60", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-movflags", "+faststart")
}

// guiReport runs this binary's GUI on source under a private Xvfb and
// reads the report it writes on exit.
func guiReport(ctx context.Context, source string) (*ui.DisplayReport, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sightline-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.json")
	cmd := exec.CommandContext(ctx, "xvfb-run", "-a", "-s", "-screen 0 1280x900x24",
		exe, "gui", "--source", source, "--backend", "local", "--exit-after", "20s", "--report", path)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir) // not the user's saved settings
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLine(out))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r ui.DisplayReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
