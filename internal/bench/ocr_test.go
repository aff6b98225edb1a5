package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestOCRWords(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Sub-Total $ 11.70", []string{"sub-total", "11.70"}},
		{"INVOICE: INV-100\n(Sometimes", []string{"invoice", "inv-100", "sometimes"}},
		{"English 中文", []string{"english", "中", "文"}},
		{"ab中c", []string{"ab", "中", "c"}},
		{" -- ", nil},
	}
	for _, tt := range tests {
		if got := ocrWords(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("ocrWords(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// Words count as a bag: each reference word is found once per use.
func TestScoreCountsWordsOnce(t *testing.T) {
	imgs := []ocrImage{
		{name: "a", path: "/a.png", ref: ocrWords("the cat the hat")},
		{name: "b", path: "/b.png", ref: ocrWords("no parking")},
		{name: "c", path: "/c.png"}, // no reference: timed, not scored
		{name: "d", path: "/d.png", ref: ocrWords("lost")},
	}
	var s OCRSide
	s.score(imgs, map[string][]string{
		"/a.png": {"The the", "cat"},
		"/b.png": {"NO PARKING", "extra"},
		"/c.png": {"anything"},
	})
	// Found: the, the, cat, no, parking = 5 of 7 reference words; 7 words read.
	if s.Recall != 5.0/7 || s.Precision != 5.0/6 || s.Failed != 1 {
		t.Errorf("recall %v precision %v failed %d", s.Recall, s.Precision, s.Failed)
	}
	if s.PerImage["a"] != 0.75 || s.PerImage["d"] != 0 {
		t.Errorf("per image %v", s.PerImage)
	}
}

func TestParseOutputs(t *testing.T) {
	sl, err := parseSightlineOCR([]byte(`{"input":"/a.png","success":true,"data":{"full_text":"x\ny","structured_data":[{"text":"x"},{"text":"y"}]}}
{"input":"/b.png","success":false,"error":"not a readable image"}
`))
	if err != nil || !slices.Equal(sl["/a.png"], []string{"x", "y"}) || sl["/b.png"] != nil {
		t.Errorf("sightline: %v %v", sl, err)
	}
	pe, err := parsePeerOCR([]byte("{\"input\":\"/a.png\",\"ms\":3,\"lines\":[\"x y\"]}\n{\"input\":\"/b.png\",\"error\":\"boom\"}\n"))
	if err != nil || !slices.Equal(pe["/a.png"], []string{"x y"}) || pe["/b.png"] != nil {
		t.Errorf("peer: %v %v", pe, err)
	}
	if _, err := parsePeerOCR([]byte("not json\n")); err == nil {
		t.Error("garbage parsed")
	}
}

// Every reference belongs to an image of the manifest, and the set is the
// ~50 images the comparison promises.
func TestOCRSetManifest(t *testing.T) {
	m, _ := ocrSet.ReadFile("ocrset/manifest.tsv")
	names := map[string]bool{}
	for _, l := range strings.Split(string(m), "\n") {
		if f := strings.Split(l, "\t"); len(f) == 3 && !strings.HasPrefix(l, "#") {
			names[f[0]] = true
		}
	}
	if len(names) != 50 {
		t.Errorf("%d images in the manifest, want 50", len(names))
	}
	refs, _ := ocrSet.ReadDir("ocrset/refs")
	if len(refs) < 20 {
		t.Errorf("only %d reference texts", len(refs))
	}
	for _, r := range refs {
		if n := strings.TrimSuffix(r.Name(), ".txt"); !names[n] {
			t.Errorf("reference %s names no image of the manifest", r.Name())
		}
	}
}

// TestOCRVersusPeer is the comparison itself (minutes): scripts/ocr-bench.sh
// sets it up and runs it.
func TestOCRVersusPeer(t *testing.T) {
	if os.Getenv("SIGHTLINE_OCR_COMPARE") == "" {
		t.Skip("set SIGHTLINE_OCR_COMPARE=1 (scripts/ocr-bench.sh)")
	}
	env := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Fatalf("%s is not set (scripts/ocr-bench.sh sets it)", k)
		}
		return v
	}
	cfg := OCRPeerConfig{
		Sightline:  append([]string{env("SIGHTLINE_BIN")}, strings.Fields(os.Getenv("SIGHTLINE_OCR_ARGS"))...),
		PeerDir:    env("OCR_PEER_DIR"),
		PeerScript: env("OCR_PEER_SCRIPT"),
		ModelsDir:  env("OCR_MODELS_DIR"),
		SetDir:     env("OCR_SET_DIR"),
	}
	cfg.Runs, _ = strconv.Atoi(os.Getenv("OCR_RUNS")) // default 1
	if len(cfg.Sightline) == 1 {
		cfg.Sightline = append(cfg.Sightline, "ocr", "--backend", "local")
	}
	c, err := CompareOCR(context.Background(), cfg, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	figs, ratios := OCRFigures(c)
	for _, f := range figs {
		t.Logf("%-70s %8.2f %s", f.Name, f.Median, f.Unit)
	}
	for _, r := range ratios {
		t.Logf("%-70s %8.3f (goal %s, met %v)", r.Name, r.Value, r.Goal, *r.Met)
	}
	if out := os.Getenv("OCR_COMPARE_JSON"); out != "" {
		b, _ := json.MarshalIndent(c, "", "  ")
		if err := os.WriteFile(filepath.Clean(out), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
