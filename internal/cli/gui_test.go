package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gui --cameras takes a cameras.json as run --cameras does; a file that
// is missing or wrong is a usage error naming it, before any window opens.
func TestGUICamerasFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		file string
		want string
	}{
		{filepath.Join(dir, "missing.json"), "missing.json"},
		{write("twice.json", `[{"name":"a","source":"x.mp4"},{"name":"a","source":"y.mp4"}]`), `twice.json: two cameras are called "a"`},
		{write("broken.json", `{"name":`), "broken.json: not a camera list"},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, "gui", "--cameras", tc.file, "--booth")
			if code != exitUsage || out != "" || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line saying %q", code, out, stderr, tc.want)
			}
		})
	}
}
