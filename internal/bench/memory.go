package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/media"
)

// rss4KGoal is issue 18's bound on `run` with a 4K source, in MB.
const rss4KGoal = 600

// memory4K runs `sightline run --backend local` on a 3840×2160 H.264 file
// in a child process, as a user would, and reports its peak RSS (the
// kernel's, from wait4) against rss4KGoal.
func memory4K(ctx context.Context, b *bench) error {
	path, err := file4K()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var rss []float64
	for range b.cfg.Repeats {
		mb, err := peakRSSOf(ctx, exe, "run", "--source", path, "--backend", "local")
		if err != nil {
			return err
		}
		rss = append(rss, mb)
	}
	f := b.rep.figure("`run --backend local` on a 4K H.264 file (3840×2160), peak RSS", "MB", rss)
	b.rep.ratioAtMost(fmt.Sprintf("4K `run` peak RSS / %d MB", rss4KGoal), f.Median/rss4KGoal, 1, "< 1")
	return nil
}

// file4K is the demo video scaled to 3840×2160 H.264 (150 frames, with
// B-frames as encoders make them), made once into the user's cache.
func file4K() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return media.Make(filepath.Join(dir, "sightline", "bench"), "4k-h264-v1.mp4", "-i", deps.DemoVideo,
		"-frames:v", "150", "-vf", "scale=3840:2160", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")
}

// peakRSSOf runs exe with args and returns its peak resident set in MB.
func peakRSSOf(ctx context.Context, exe string, args ...string) (float64, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %v: %s", filepath.Base(exe), err, lastLine(out))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("no resource usage for %s", filepath.Base(exe))
	}
	return float64(ru.Maxrss) * 1024 / 1e6, nil // Maxrss is in KiB
}
