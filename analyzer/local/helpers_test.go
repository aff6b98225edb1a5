package local

import (
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var colorBlack = color.RGBA{}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// truncatedCopy writes the first third of a model into dir.
func truncatedCopy(t testing.TB, path, dir string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Join(dir, "truncated_"+filepath.Base(path)), b[:len(b)/3])
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
