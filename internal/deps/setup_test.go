package deps

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A second run of the set-up on a ready machine changes nothing: no
// package, download or file is touched.
func TestSetupRerunIsNoOp(t *testing.T) {
	root := Root()
	if root == "" {
		t.Fatal("no deps folder: run scripts/setup.sh")
	}
	lib := filepath.Join(root, "models", "yolox-nano", "yolox_nano.onnx")
	before, err := os.Stat(lib)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "..", "scripts", "setup.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("setup failed: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "setup: ready" {
		t.Errorf("rerun did work:\n%s", got)
	}
	after, _ := os.Stat(lib)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("rerun rewrote %s", lib)
	}
}

func TestModelLookupOrder(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "yolox-nano"), 0o755)
	os.WriteFile(filepath.Join(dir, "yolox-nano", "yolox_nano.onnx"), []byte("x"), 0o644)
	t.Setenv("SIGHTLINE_MODELS", dir)
	got, err := Model("yolox-nano/yolox_nano.onnx")
	if err != nil || got != filepath.Join(dir, "yolox-nano", "yolox_nano.onnx") {
		t.Errorf("SIGHTLINE_MODELS not searched first: %q %v", got, err)
	}
	// Models missing there come from the set-up's folder.
	got, err = Model("ppocr-v4/ppocr_keys_v1.txt")
	if err != nil || !strings.HasPrefix(got, Root()) {
		t.Errorf("fallback to the set-up's folder: %q %v", got, err)
	}
	if _, err := Model("nothing/here.onnx"); err == nil || !strings.Contains(err.Error(), "nothing/here.onnx") {
		t.Errorf("missing model error %v does not name it", err)
	}
	t.Setenv("SIGHTLINE_MODELS", filepath.Join(dir, "absent"))
	if err := CheckEnv(); err == nil {
		t.Error("a SIGHTLINE_MODELS that does not exist is accepted")
	}
}
