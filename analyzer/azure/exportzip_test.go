package azure

import (
	"archive/zip"
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listDir lists the files under dir as slash paths.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestUnpackExport(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    []string
		wantErr string
	}{
		{"model at the top", map[string]string{"model.onnx": "m", "labels.txt": "a\n", "python/predict.py": "x"},
			[]string{"labels.txt", "model.onnx", "python/predict.py"}, ""},
		{"model in one folder", map[string]string{"export/model.onnx": "m", "export/labels.txt": "a\n", "README": "r"},
			[]string{"labels.txt", "model.onnx"}, ""},
		{"no model", map[string]string{"model.pb": "m", "labels.txt": "a\n"}, nil, "has no model.onnx"},
		{"model too deep", map[string]string{"a/b/model.onnx": "m"}, nil, "has no model.onnx"},
		{"escaping name", map[string]string{"model.onnx": "m", "../evil.txt": "x"}, nil, "outside the export folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "model")
			err := unpackExport(zipOf(t, tt.files), dir, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(parent); len(entries) != 0 {
					t.Errorf("left behind: %v", entries)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := listDir(t, dir); !slices.Equal(got, tt.want) {
				t.Errorf("unpacked %v, want %v", got, tt.want)
			}
		})
	}
	if err := unpackExport([]byte("PK not really"), filepath.Join(t.TempDir(), "m"), nil); err == nil || !strings.Contains(err.Error(), "not a zip") {
		t.Errorf("not a zip: %v", err)
	}
}

// TestUnpackExportReplaces: a new export replaces the old folder whole
// (no stale file survives), and a broken one, or one that verify refuses,
// leaves the old model alone.
func TestUnpackExportReplaces(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "model")
	if err := unpackExport(zipOf(t, map[string]string{"model.onnx": "old", "labels.txt": "a\n", "stale.txt": "s"}), dir, nil); err != nil {
		t.Fatal(err)
	}
	if err := unpackExport(zipOf(t, map[string]string{"labels.txt": "only labels"}), dir, nil); err == nil {
		t.Fatal("an export without a model replaced the model")
	}
	refuse := func(d string) error {
		if _, err := os.Stat(filepath.Join(d, "model.onnx")); err != nil {
			t.Errorf("verify did not get the unpacked folder: %v", err)
		}
		return errors.New("not a model")
	}
	err := unpackExport(zipOf(t, map[string]string{"model.onnx": "broken"}), dir, refuse)
	if err == nil || !strings.Contains(err.Error(), "does not load") || !strings.Contains(err.Error(), "not a model") {
		t.Fatalf("a model verify refused: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "model.onnx")); string(b) != "old" {
		t.Errorf("old model %q after a failed unpack", b)
	}
	accept := func(string) error { return nil }
	if err := unpackExport(zipOf(t, map[string]string{"model.onnx": "new", "labels.txt": "b\n"}), dir, accept); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"labels.txt", "model.onnx"}) {
		t.Errorf("after the swap: %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "model.onnx")); string(b) != "new" {
		t.Errorf("model %q, want the new one", b)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("temporary folders left: %v", entries)
	}
}
