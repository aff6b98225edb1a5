package ui

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer/local"
	"github.com/sightline/sightline/overlay"
)

// guiChildEnv makes the test binary run the real app instead of the tests:
// GLFW must own the main thread, which only TestMain has.
const guiChildEnv = "SIGHTLINE_TEST_GUI_CHILD"

func TestMain(m *testing.M) {
	if src := os.Getenv(guiChildEnv); src != "" {
		b := local.New(local.Options{})
		defer b.Close()
		if err := Run(context.Background(), Config{Source: src, Backend: "local", Threshold: 0.25, Local: b}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// xDisplay returns a display to draw on: $DISPLAY (make test runs under
// xvfb-run), else a private Xvfb started for the test.
func xDisplay(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("DISPLAY"); d != "" {
		return d
	}
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("no DISPLAY and no Xvfb (scripts/setup.sh installs xvfb)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not start: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// screenshot grabs the whole X screen as a PNG with ImageMagick.
func screenshot(t *testing.T, display, path string) image.Image {
	t.Helper()
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v: %s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// countColour counts pixels within a small distance of c.
func countColour(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			if near(uint8(r>>8), c.R) && near(uint8(g>>8), c.G) && near(uint8(bb>>8), c.B) {
				n++
			}
		}
	}
	return n
}

func near(a, b uint8) bool { return a >= b-8 && a <= b+8 || (b < 8 && a < 16) || (b > 247 && a > 239) }

// The real app under X plays the demo video with people boxed in their
// colour. The screenshot is kept for a person to look at.
func TestAppShowsBoxesOnDemoVideo(t *testing.T) {
	if _, err := os.Stat(DemoVideo); err != nil {
		t.Fatalf("demo video missing (scripts/setup.sh installs opencv-doc): %v", err)
	}
	display := xDisplay(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), guiChildEnv+"="+DemoVideo, "DISPLAY="+display)
	logs, _ := os.Create(filepath.Join(t.TempDir(), "app.log"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Error("the app did not stop within 5 s of SIGINT")
		}
	}()

	out := os.Getenv("SIGHTLINE_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "gui.png")
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logs.Name())
			t.Fatalf("the app exited: %v\n%s", err, b)
		case <-time.After(2 * time.Second):
		}
		img := screenshot(t, display, out)
		people := countColour(img, overlay.PersonColor)
		if people > 500 {
			t.Logf("screenshot %s: %d pixels in the people colour", out, people)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no people boxes on screen after 40 s (%d pixels in the people colour); see %s", people, out)
		}
	}
}
