// Package media makes video files with the ffmpeg command-line tool, once,
// into a cache folder: the tests' H.264 files and the bench's 4K file cost
// seconds to make and never change for a given name.
package media

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var mu sync.Mutex

// Make returns dir/name, making it first with ffmpeg and args (the output
// file is added last) when it is not there yet. A file is complete once it
// has its name: ffmpeg writes beside it and it is renamed at the end.
func Make(dir, name string, args ...string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := p + ".part" + filepath.Ext(p)
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), tmp)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("ffmpeg %s (scripts/setup.sh installs ffmpeg): %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", err
	}
	return p, nil
}
