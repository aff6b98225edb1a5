package cli

// Issue 19, items 13 and 17: hostile and damaged images through the public
// commands. One image OpenCV would throw on, or that would take gigabytes,
// must cost its own line only: every other input is still answered.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/internal/imagefile/imagetest"
)

// childArgsEnv carries the command line of runChild's child process.
const childArgsEnv = "SIGHTLINE_TEST_CHILD_ARGS"

// TestChildCommand is the child of runChild; it does nothing in a test run.
func TestChildCommand(t *testing.T) {
	raw := os.Getenv(childArgsEnv)
	if raw == "" {
		t.Skip("the child process of runChild")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(Main(args))
}

// runChild runs a command in a child process (this test binary), so that
// a crash, such as a C++ exception aborting the process, fails the test
// with what the command printed instead of ending the test run.
func runChild(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildCommand$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(raw))
	for k, v := range environ {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if exit != nil && !exit.Exited() {
		t.Errorf("the command was killed: %v", exit)
		return -1, out.String(), errb.String()
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// hostileImages writes, to a temp dir, the images of issue 19 item 13 and
// item 17: headers declaring gigapixels, a small file that decodes to
// 1.2 GB, and files cut short.
func hostileImages(t *testing.T) (paths map[string]string) {
	t.Helper()
	dir := t.TempDir()
	messi, err := os.ReadFile(opencvData + "messi5.jpg")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"png50000":  imagetest.PNGDeclaring(t, 50000, 50000),
		"jpeg65000": imagetest.JPEGDeclaring(t, 65000, 65000),
		"bomb":      imagetest.PNGBomb(t, 20000, 20000),
		"cutJPEG":   imagetest.Cut(messi, 0.6),
		"cutPNG":    imagetest.Cut(imagetest.PNG(t, 640, 480), 0.6),
	}
	paths = map[string]string{}
	for name, b := range files {
		ext := ".png"
		if strings.Contains(name, "JPEG") || strings.Contains(name, "jpeg") {
			ext = ".jpg"
		}
		paths[name] = filepath.Join(dir, name+ext)
		if err := os.WriteFile(paths[name], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// TestHostileImages: every command, local and cloud (with privacy the
// cloud path decodes too), answers every input of a batch holding hostile
// images between good ones, exits 1, and gives the good ones the results
// they get alone. A truncated JPEG succeeds with a warning.
func TestHostileImages(t *testing.T) {
	p := hostileImages(t)
	good1, good2 := opencvData+"imageTextN.png", opencvData+"messi5.jpg"
	inputs := []string{good1, p["png50000"], p["jpeg65000"], p["bomb"], p["cutJPEG"], p["cutPNG"], good2}
	// want: the error must say these (nil: success).
	want := [][]string{nil, {"50000×50000 px"}, {"65000×65000 px"}, {"20000×20000 px"}, nil, {"truncated"}, nil}
	srv := azuretest.New(t, azuretest.Lenient())
	privacy := faultCommand{"analyze-privacy", "vision", []string{"analyze", "--backend", "azure", "--privacy", "--features", "tags,objects", "--workers", "2", "--retries", "0"}}
	for _, c := range append([]faultCommand{privacy, cloudCommands[0]}, localCommands...) {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runChild(t, cloudEnv(srv, ""), append(append([]string{}, c.args...), inputs...)...)
			if code != exitFailed {
				t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr[:min(len(stderr), 600)])
			}
			checkLines(t, out, inputs, want)
			lines := jsonLines(t, out)
			if len(lines) != len(inputs) {
				return
			}
			if w, _ := lines[4]["warning"].(string); !strings.Contains(w, "truncated") {
				t.Errorf("the truncated JPEG's line has warning %q, want it said", w)
			}
			if _, ok := lines[0]["warning"]; ok {
				t.Errorf("a good image has a warning: %v", lines[0]["warning"])
			}
			if c.kind == "local" {
				// The good images' results are the ones they get alone.
				_, alone, _ := runCLI(t, nil, append(append([]string{}, c.args...), good1, good2)...)
				ref := jsonLines(t, alone)
				for i, j := range []int{0, 6} {
					got, _ := json.Marshal(lines[j]["data"])
					exp, _ := json.Marshal(ref[i]["data"])
					if !bytes.Equal(got, exp) {
						t.Errorf("%s: data in the batch differs from alone:\n%s\n%s", inputs[j], got, exp)
					}
				}
			}
		})
	}
}
