package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local/onnxtest"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/backend"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/overlay"
)

// guiChildEnv makes the test binary run the real app instead of the tests:
// GLFW must own the main thread, which only TestMain has.
const guiChildEnv = "SIGHTLINE_TEST_GUI_CHILD"

func TestMain(m *testing.M) {
	if src := os.Getenv(guiChildEnv); src != "" {
		scenario := os.Getenv(guiScenarioEnv)
		testHook, shellHook = scenarios[scenario], shellScenarios[scenario]
		if m := os.Getenv("SIGHTLINE_MEASURE_SOURCE"); m != "" {
			src = m
		}
		cfg := Config{Source: src, Mode: schedule.ModeLocal, Threshold: 0.25}
		// A wall's scenario names its cameras, as gui --cameras does.
		if js := os.Getenv(camerasEnv); js != "" {
			cams, err := ParseCameras([]byte(js))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			cfg.Source, cfg.Cameras = "", cams
		}
		// A scenario with a cloud gets it from the environment, as the
		// command line does.
		if e := os.Getenv("VISION_ENDPOINT"); e != "" {
			cfg.Mode, cfg.Vision = schedule.ModeAuto, backend.Azure{Endpoint: e, Key: os.Getenv("VISION_KEY")}
		}
		// "report:D:PATH" measures for D and writes the report to PATH.
		if spec, ok := strings.CutPrefix(scenario, "report:"); ok {
			d, path, _ := strings.Cut(spec, ":")
			cfg.ExitAfter, _ = time.ParseDuration(d)
			cfg.Report = path
		}
		if err := Run(context.Background(), cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(onnxtest.RunWithPrivateCache(m)) // the app's children share it
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

// screenshot grabs the window, 1280×800 at the top left of a 1280×900
// screen, as a PNG with ImageMagick.
func screenshot(t *testing.T, display, path string) image.Image {
	t.Helper()
	return grabScreen(t, display, path, "1280x800+0+0")
}

// grabScreen takes the crop geometry of the X screen as a PNG.
func grabScreen(t *testing.T, display, path, crop string) image.Image {
	t.Helper()
	if err := importScreen(display, path, crop); err != nil {
		t.Fatal(err)
	}
	return readPNG(t, path)
}

// importScreen writes the crop of display's screen to path ("": this
// process's display).
func importScreen(display, path, crop string) error {
	cmd := exec.Command("import", "-window", "root", "-crop", crop, "+repage", path)
	if display != "" {
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("import: %v: %s", err, out)
	}
	return nil
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

// startApp runs the real app on the demo video under X with a scenario
// hook and returns its log file and a channel that reports its exit.
func startApp(t *testing.T, display, scenario string, env ...string) (logPath string, exited chan error) {
	t.Helper()
	if _, err := os.Stat(deps.DemoVideo); err != nil {
		t.Fatalf("demo video missing (scripts/setup.sh installs opencv-doc): %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), guiChildEnv+"="+deps.DemoVideo, guiScenarioEnv+"="+scenario, "DISPLAY="+display,
		// The child's preferences and MQTT spool stay out of the user's.
		"XDG_CONFIG_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	logPath = filepath.Join(t.TempDir(), "app.log")
	logs, _ := os.Create(logPath)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			// Under -race the app's own races are in its log.
			b, _ := os.ReadFile(logPath)
			if i := bytes.Index(b, []byte("WARNING: DATA RACE")); i >= 0 {
				t.Errorf("the app has a data race:\n%s", b[i:min(len(b), i+6000)])
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Signal(syscall.SIGQUIT) // its goroutines' stacks, to the log
			time.Sleep(time.Second)
			cmd.Process.Kill()
			b, _ := os.ReadFile(logPath)
			t.Errorf("the app did not stop within 5 s of SIGINT; its log ends:\n%s", b[max(0, len(b)-12000):])
		}
		logs.Close()
	})
	return logPath, exited
}

// screenshotPath is where a screenshot is kept: $SIGHTLINE_SCREENSHOT_DIR
// (make screenshots sets docs/), else the test's temporary folder.
func screenshotPath(t *testing.T, name string) string {
	if dir := os.Getenv("SIGHTLINE_SCREENSHOT_DIR"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(t.TempDir(), name)
}

// The real app under X plays the demo video with people boxed in their
// colour, the HUD above and the panels beside. The screenshot is kept for
// a person to look at.
func TestAppShowsBoxesOnDemoVideo(t *testing.T) {
	display := xDisplay(t)
	logPath, exited := startApp(t, display, "")
	out := screenshotPath(t, "screenshot-gui.png")
	var people int
	pollApp(t, exited, logPath, 40*time.Second, func() (bool, string) {
		img := screenshot(t, display, out)
		people = countColour(img, overlay.PersonColor)
		// The HUD's dark strip and the LIVE chip show the HUD is up.
		hud := countColour(img, color.RGBA{0x16, 0x1a, 0x21, 255})
		return people > 500 && hud > 5000, fmt.Sprintf("%d pixels in the people colour, %d of the HUD", people, hud)
	})
	if os.Getenv("SIGHTLINE_SCREENSHOT_DIR") != "" {
		// For the README: the HUD's rates once they have settled.
		time.Sleep(6 * time.Second)
		screenshot(t, display, out)
	}
	t.Logf("screenshot %s", out)
}

// pollApp checks every 2 s until check passes, failing when the app exits
// or within runs out; check's note says what it saw.
func pollApp(t *testing.T, exited <-chan error, logPath string, within time.Duration, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the app exited: %v\n%s", err, b)
		case <-time.After(2 * time.Second):
		}
		ok, note := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("not on screen after %v: %s\napp log:\n%s", within, note, b)
		}
	}
}

// guiScenarioEnv picks what the child app does besides playing.
const guiScenarioEnv = "SIGHTLINE_TEST_GUI_SCENARIO"

// ocrTestImage is a real document-like image with known text.
const ocrTestImage = "/usr/share/doc/opencv-doc/examples/data/imageTextN.png"

// scenarios drive the child app from inside, as a user would.
var scenarios = map[string]func(*mainWindow){
	// ocr reads a text image in the OCR panel with the local backend.
	"ocr": func(w *mainWindow) {
		w.waitFirstFrame()
		m := gocv.IMRead(ocrTestImage, gocv.IMReadColor)
		if m.Empty() {
			fmt.Println("SCENARIO cannot read", ocrTestImage)
			return
		}
		res, err := w.panel.Analyze(context.Background(), analyzer.Image{Mat: m}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}})
		if err != nil {
			m.Close()
			fmt.Println("SCENARIO read failed:", err)
			return
		}
		fyne.Do(func() {
			w.tabs.SelectIndex(1)
			w.ocr.show(m, image.Point{}, res.ReadResult, "local", filepath.Base(ocrTestImage))
			w.ocr.keywords.SetText("total, amount, invoice, projects")
			w.ocr.list.Select(0)
			fmt.Println("SCENARIO ocr shown")
		})
	},
	// meters prints the display and source frame counts and the CPU time of
	// the UI (main) thread and the whole process once a second.
}

// The OCR panel of the real app shows a read document: polygons on the
// picture (yellow, keyword lines orange) beside the list of lines.
func TestAppOCRPanel(t *testing.T) {
	display := xDisplay(t)
	logPath, exited := startApp(t, display, "ocr")
	out := screenshotPath(t, "screenshot-ocr.png")
	pollApp(t, exited, logPath, 60*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(logPath)
		switch {
		case strings.Contains(string(b), "SCENARIO ocr shown"):
		case strings.Contains(string(b), "SCENARIO"):
			t.Fatalf("the OCR scenario failed:\n%s", b)
		default:
			return false, "the OCR scenario did not finish"
		}
		time.Sleep(1500 * time.Millisecond) // a frame or two to paint
		img := screenshot(t, display, out)
		n := countColour(img, overlay.TextColor) + countColour(img, overlay.HighlightColor)
		return n >= 200, fmt.Sprintf("%d pixels of OCR polygons; see %s", n, out)
	})
	t.Logf("screenshot %s", out)
}

// TestMeasureDisplayRate reports displayed fps / source fps, the UI
// thread's CPU use and the time to the first frame, through the app's own
// --report. It takes half a minute, so it runs only with SIGHTLINE_MEASURE=1
// (SIGHTLINE_MEASURE_SOURCE picks another video).
func TestMeasureDisplayRate(t *testing.T) {
	if os.Getenv("SIGHTLINE_MEASURE") == "" {
		t.Skip("set SIGHTLINE_MEASURE=1 to measure")
	}
	_, b := appReport(t, 20*time.Second)
	t.Logf("%s", b)
}

// The app measures its own display and quits when asked to
// (gui --exit-after --report): the report is there and plausible.
func TestAppWritesDisplayReport(t *testing.T) {
	rep, b := appReport(t, 2*time.Second)
	if rep.SourceFPS < 5 || rep.ShownFPS <= 0 || rep.Ratio <= 0 || rep.FirstFrameMS <= 0 || rep.Source != deps.DemoVideo {
		t.Errorf("implausible report %s", b)
	}
}

// appReport runs the app measuring for d and returns its report.
func appReport(t *testing.T, d time.Duration) (DisplayReport, []byte) {
	t.Helper()
	display := xDisplay(t)
	report := filepath.Join(t.TempDir(), "report.json")
	logPath, exited := startApp(t, display, "report:"+d.String()+":"+report)
	select {
	case err := <-exited:
		exited <- err // for startApp's clean-up, which waits for the exit too
	case <-time.After(d + 60*time.Second):
		t.Fatalf("the app did not finish its %v measure", d)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("no report: %v\n%s", err, log)
	}
	var rep DisplayReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report %s: %v", b, err)
	}
	return rep, b
}
