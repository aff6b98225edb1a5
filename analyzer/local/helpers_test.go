package local

import (
	"os"
	"testing"
)

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
