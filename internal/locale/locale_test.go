package locale

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestFix(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env, want map[string]string
	}{
		{"nothing set", map[string]string{}, map[string]string{"LANG": Fallback}},
		{"LANG=C", map[string]string{"LANG": "C"}, map[string]string{"LANG": Fallback}},
		{"C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, map[string]string{"LANG": Fallback}},
		{"LC_ALL=POSIX wins over LANG", map[string]string{"LC_ALL": "POSIX", "LANG": "de_DE.UTF-8"}, map[string]string{"LC_ALL": Fallback, "LANG": "de_DE.UTF-8"}},
		{"a language is kept", map[string]string{"LANG": "fr_FR.UTF-8"}, map[string]string{"LANG": "fr_FR.UTF-8"}},
		{"LC_MESSAGES before LANG", map[string]string{"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "C"}, map[string]string{"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(tc.env)
			fix(func(k string) string { return env[k] }, func(k, v string) error { env[k] = v; return nil })
			if !maps.Equal(env, tc.want) {
				t.Errorf("env %v, want %v", env, tc.want)
			}
		})
	}
}

// The built program, started with LANG=C.UTF-8, says nothing on stderr.
func TestProgramQuietUnderCLocale(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sightline")
	build := exec.Command("go", "build", "-o", bin, "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc([]string{"LANG=", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE="}, func(p string) bool { return len(kv) >= len(p) && kv[:len(p)] == p }) {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(env, "LANG=C.UTF-8") // Debian's and most containers' default
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("sightline version under LANG=C.UTF-8: %v, stderr %q", err, stderr.String())
	}
}
