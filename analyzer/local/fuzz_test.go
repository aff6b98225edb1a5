package local

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/deps"
)

// labelSeeds are the real class-name files plus the shapes users produce
// by hand: Windows line ends, blank lines, a missing last newline, a BOM.
func labelSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		[]byte("hemlock\r\nJapaneseCherry\r\n"),
		[]byte("\n\n person \n\tcar\t\n"),
		[]byte("\ufeffcat\ndog"),
		[]byte(`["person","bicycle"]`),
		[]byte("only-one-label"),
		{},
	}
	for _, rel := range []string{"customvision-classifier-sample/labels.txt", "yolox-nano/coco_classes.json", "ppocr-v4/ppocr_keys_v1.txt"} {
		path, err := deps.Model(rel)
		if err != nil {
			continue // the sample lives only under SIGHTLINE_MODELS
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzSplitLabels: labels.txt comes from users' Custom Vision exports.
func FuzzSplitLabels(f *testing.F) {
	for _, s := range labelSeeds(f) {
		f.Add(string(s))
	}
	f.Fuzz(func(t *testing.T, s string) {
		names := splitLabels(s)
		if len(names) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d names from %d lines", len(names), strings.Count(s, "\n")+1)
		}
		for _, n := range names {
			if n == "" || n != strings.TrimSpace(n) || strings.Contains(n, "\n") {
				t.Fatalf("name %q is blank, padded or spans lines", n)
			}
		}
		// Writing the names back one per line, with either line end, reads
		// the same names: what the app shows is what the file says.
		for _, sep := range []string{"\n", "\r\n"} {
			if again := splitLabels(strings.Join(names, sep)); !slices.Equal(again, names) {
				t.Fatalf("round trip with %q: %q became %q", sep, names, again)
			}
		}
	})
}

// FuzzLoadLabels feeds the same bytes as coco_classes.json, as labels.txt
// beside a YOLOX model, and as a Custom Vision labels.txt.
func FuzzLoadLabels(f *testing.F) {
	for _, s := range labelSeeds(f) {
		for kind := range uint8(3) {
			f.Add(kind, s)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		dir := t.TempDir()
		var names []string
		var err error
		var file string
		switch kind % 3 {
		case 0:
			file = filepath.Join(dir, "coco_classes.json")
			writeFile(t, file, data)
			names, err = loadLabels(dir)
			var want []string
			// Both must fail or succeed together; encoding/json leaves partial
			// results behind on failure, so names are compared on success only.
			if jerr := json.Unmarshal(data, &want); (jerr == nil) != (err == nil) || (err == nil && !slices.Equal(names, want)) {
				t.Fatalf("loadLabels = %q, %v; encoding/json says %q, %v", names, err, want, jerr)
			}
		case 1:
			file = filepath.Join(dir, "labels.txt")
			writeFile(t, file, data)
			names, err = loadLabels(dir)
			if err != nil || !slices.Equal(names, splitLabels(string(data))) {
				t.Fatalf("loadLabels(labels.txt) = %q, %v", names, err)
			}
		case 2:
			file = filepath.Join(dir, "labels.txt")
			writeFile(t, file, data)
			names, err = readLabels(file)
			if (err == nil) != (len(names) > 0) {
				t.Fatalf("readLabels = %q, %v: an export needs at least one label", names, err)
			}
		}
		if err != nil && (!strings.Contains(err.Error(), file) || strings.ContainsAny(err.Error(), "\r\n")) {
			t.Fatalf("error %q does not name %s on one line", err, file)
		}
	})
}
