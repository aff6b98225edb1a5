package ui

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video/videotest"
)

// camerasEnv names the cameras of a wall scenario, as a cameras.json.
const camerasEnv = "SIGHTLINE_TEST_CAMERAS"

// wallState is what a wall scenario reads off the real app's screen.
type wallState struct {
	Page          string // wall, camera or fleet
	Focused       string
	Booth         bool
	FullScreen    bool
	PointerHidden bool
	Tiles         []tileShot
	Fleet         string // the Fleet page's connection line
	Cards         []cardShot
}

type tileShot struct {
	Name, Chip, Reason, Message string
	Counts                      []string
	Alert                       string
	Picture, Alarm              bool
	Shown, Read                 int64
	X, Y                        int // the centre, in screen pixels
}

type cardShot struct {
	Name, Chip, Seen, Source, Counts, Alerts string
	Snapshot                                 bool
}

// state reads what the window shows; any goroutine.
func (s *shell) state() wallState {
	var st wallState
	fyne.DoAndWait(func() {
		st = wallState{Page: "wall", Booth: s.booth, FullScreen: s.win.FullScreen(), Fleet: s.fleet.state.Text}
		switch {
		case s.focused != nil:
			st.Page, st.Focused = "camera", s.focused.spec.title()
		case s.onFleet:
			st.Page = "fleet"
		}
		st.PointerHidden, _ = pointerHidden(s.win)
		scale := s.win.Canvas().Scale()
		for _, c := range s.cams {
			t := c.tile
			pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(t)
			shot := tileShot{Name: t.full[t.name], Chip: t.full[t.chip], Reason: t.full[t.reason], Picture: t.picture,
				Alarm: t.alarm, Alert: t.full[t.alert],
				X: int((pos.X + t.Size().Width/2) * scale), Y: int((pos.Y + t.Size().Height/2) * scale)}
			if t.msg.Visible() {
				shot.Message = t.full[t.msg]
			}
			for _, l := range t.counts {
				if t.full[l] != "" {
					shot.Counts = append(shot.Counts, t.full[l])
				}
			}
			st.Tiles = append(st.Tiles, shot)
		}
		for _, name := range slices.Sorted(maps.Keys(s.fleet.byName)) {
			c := s.fleet.byName[name]
			st.Cards = append(st.Cards, cardShot{Name: name, Chip: c.chip.Text, Seen: c.seen.Text, Source: c.source.Text,
				Counts: c.counts.Text, Alerts: c.alerts.Text, Snapshot: c.snap.Visible()})
		}
	})
	for i, c := range s.cams {
		st.Tiles[i].Shown, st.Tiles[i].Read = c.w.p.display.shown.Load(), c.w.p.Stats().FramesRead
	}
	return st
}

// await polls the state until cond holds or within passes, and returns it.
func (s *shell) await(within time.Duration, cond func(wallState) bool) wallState {
	deadline := time.Now().Add(within)
	for {
		st := s.state()
		if cond(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *shell) report(name string, st wallState) {
	b, _ := json.Marshal(st)
	fmt.Printf("SCENARIO %s %s\n", name, b)
}

// playing: every tile but the dead one shows moving pictures, which says
// NO SIGNAL, and the alarmed one is red with an alert.
func playing(dead, alarmed string) func(wallState) bool {
	return func(st wallState) bool {
		for _, t := range st.Tiles {
			switch {
			case t.Name == dead && !strings.Contains(t.Chip, "NO SIGNAL"):
				return false
			case t.Name != dead && (!strings.Contains(t.Chip, "LIVE") || t.Shown < 20):
				return false
			case t.Name == alarmed && (!t.Alarm || t.Alert == ""):
				return false
			}
		}
		return len(st.Tiles) > 0
	}
}

// shellScenarios drive a wall or the Fleet page of the real app, as a user
// would; the test clicks and types through X between the steps.
var shellScenarios = map[string]func(*shell){
	"wall": func(s *shell) {
		s.await(60*time.Second, playing("dock", "street"))
		time.Sleep(2 * time.Second) // the counters of a second reading
		s.report("wall", s.state())
		s.report("focused", s.await(30*time.Second, func(st wallState) bool { return st.Focused != "" }))
		s.report("back", s.await(30*time.Second, func(st wallState) bool { return st.Page == "wall" }))
		s.await(30*time.Second, func(st wallState) bool { return st.Booth })
		time.Sleep(boothIdle + 1500*time.Millisecond)
		s.report("booth", s.state())
		s.report("moved", s.await(30*time.Second, func(st wallState) bool { return !st.PointerHidden }))
	},
	"fleet": func(s *shell) {
		fyne.DoAndWait(func() {
			w := s.cams[0].w
			w.settings.connections.broker.SetText(os.Getenv("SIGHTLINE_TEST_BROKER"))
			w.applySettings(w.settings.read(*w.st)) // as Save and apply does
			s.showFleet()
		})
		st := s.await(90*time.Second, func(st wallState) bool {
			on := 0
			for _, c := range st.Cards {
				if strings.Contains(c.Chip, "ONLINE") && !strings.Contains(c.Counts, "no counts") && strings.Contains(c.Alerts, "⚠") && c.Snapshot {
					on++
				}
			}
			return on == 2
		})
		time.Sleep(1500 * time.Millisecond) // painted
		s.report("fleet", st)
		s.report("offline", s.await(60*time.Second, func(st wallState) bool {
			return len(st.Cards) == 3 && strings.Contains(st.Cards[1].Chip, "OFFLINE")
		}))
	},
}

// states reads the scenario's reports from the app's log.
func states(logPath string) map[string]wallState {
	got := map[string]wallState{}
	b, _ := os.ReadFile(logPath)
	for _, line := range strings.Split(string(b), "\n") {
		name, js, ok := strings.Cut(strings.TrimPrefix(line, "SCENARIO "), " ")
		var st wallState
		if ok && strings.HasPrefix(line, "SCENARIO ") && json.Unmarshal([]byte(js), &st) == nil {
			got[name] = st
		}
	}
	return got
}

// awaitWall waits for the wall scenario's report called name.
func awaitWall(t *testing.T, exited chan error, logPath, name string, within time.Duration) wallState {
	t.Helper()
	var st wallState
	pollApp(t, exited, logPath, within, func() (bool, string) {
		var ok bool
		st, ok = states(logPath)[name]
		return ok, "waiting for the scenario's " + name
	})
	return st
}

// xdo sends the X server a mouse or keyboard action, as a user would.
func xdo(t *testing.T, display string, args ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s (scripts/setup.sh installs xdotool)", args, err, out)
	}
}

// wallCameras are four cameras: the demo video with a scene whose rule
// fires, two generated 25 fps clips, and a stream that never opens.
func wallCameras(t *testing.T) string {
	sceneFile := filepath.Join(t.TempDir(), "street.json")
	if err := os.WriteFile(sceneFile, []byte(fleetScene), 0o644); err != nil {
		t.Fatal(err)
	}
	pattern := videotest.Make(t, "wall-testsrc-1280x720-25.mp4", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=60",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	bars := videotest.Make(t, "wall-bars-640x360-25.mp4", "-f", "lavfi", "-i", "smptehdbars=s=640x360:r=25:d=60",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	b, _ := json.Marshal([]Camera{{Name: "street", Source: deps.DemoVideo, Scene: sceneFile}, {Name: "pattern", Source: pattern},
		{Name: "bars", Source: bars}, {Name: "dock", Source: "rtsp://127.0.0.1:9/dock"}})
	return string(b)
}

// Issue 15 in the app: a wall of four cameras plays three and says NO
// SIGNAL, with the reason, on the one whose stream never opens; a click
// on a tile opens that camera's view, Esc comes back, B is booth mode
// (full screen, no toolbar) whose pointer hides when still and comes back
// when the mouse moves. docs/screenshot-wall.png with
// SIGHTLINE_SCREENSHOT_DIR.
func TestAppWall(t *testing.T) {
	display := xDisplay(t)
	logPath, exited := startApp(t, display, "wall", camerasEnv+"="+wallCameras(t))
	wall := awaitWall(t, exited, logPath, "wall", 90*time.Second)
	out := screenshotPath(t, "screenshot-wall.png")
	img := screenshot(t, display, out)
	t.Logf("screenshot %s", out)
	if n := countColour(img, overlay.PersonColor); n < 300 {
		t.Errorf("%d pixels of people's boxes on the wall", n)
	}
	if len(wall.Tiles) != 4 {
		t.Fatalf("%d tiles", len(wall.Tiles))
	}
	for _, tl := range wall.Tiles[:3] {
		if !strings.Contains(tl.Chip, "LIVE") || !tl.Picture || tl.Shown < 20 || len(tl.Counts) == 0 {
			t.Errorf("tile %s: %+v", tl.Name, tl)
		}
	}
	if dock := wall.Tiles[3]; !strings.Contains(dock.Chip, "NO SIGNAL") || !strings.Contains(dock.Reason, "127.0.0.1:9") || dock.Picture {
		t.Errorf("the dead camera's tile: %+v", dock)
	}
	if street := wall.Tiles[0]; !strings.HasPrefix(street.Counts[0], "walkway  in ") || !strings.HasPrefix(street.Counts[1], "lot  ") ||
		!street.Alarm || !strings.Contains(street.Alert, "lot busy") {
		t.Errorf("the street's counters %q, alarm %v, alert %q", street.Counts, street.Alarm, street.Alert)
	}
	if c := wall.Tiles[1].Counts[0]; c != "0 people · 0 other objects" {
		t.Errorf("the pattern's counter %q", c)
	}

	xdo(t, display, "mousemove", fmt.Sprint(wall.Tiles[1].X), fmt.Sprint(wall.Tiles[1].Y), "click", "1")
	if f := awaitWall(t, exited, logPath, "focused", 40*time.Second); f.Focused != "pattern" || f.Page != "camera" {
		t.Errorf("a click on the pattern's tile opened %+v", f)
	}
	xdo(t, display, "key", "Escape")
	back := awaitWall(t, exited, logPath, "back", 40*time.Second)
	if back.Page != "wall" {
		t.Errorf("Esc went to %q", back.Page)
	}
	// The frames went on meanwhile, the others' included.
	for i, tl := range back.Tiles[:3] {
		if tl.Read <= wall.Tiles[i].Read {
			t.Errorf("tile %s stopped reading while another camera was open", tl.Name)
		}
	}
	xdo(t, display, "key", "b")
	booth := awaitWall(t, exited, logPath, "booth", 60*time.Second)
	grabScreen(t, display, filepath.Join(t.TempDir(), "booth.png"), "1280x900+0+0") // full screen
	if !booth.Booth || !booth.FullScreen || !booth.PointerHidden {
		t.Errorf("booth mode: %+v", booth)
	}
	xdo(t, display, "mousemove", "640", "400")
	if moved := awaitWall(t, exited, logPath, "moved", 40*time.Second); moved.PointerHidden {
		t.Error("the pointer stayed hidden when the mouse moved")
	}
}

// fleetScene counts the demo video's walkway and raises an alert when
// anyone is in the lot.
const fleetScene = `{"lines": [{"name": "walkway", "points": [[0.365, 0.29], [0.365, 0.60]]}],
 "zones": [{"name": "lot", "polygon": [[0, 0.2], [0.35, 0.2], [0.35, 0.6], [0, 0.6]]}],
 "rules": [{"name": "lot busy", "zone": "lot", "when": "occupancy_above", "cooldown_s": 5}]}`

// startRun runs `sightline run` headless (the test binary's command line)
// until the test ends.
func startRun(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), "SIGHTLINE_TEST_CLI_CHILD=1", "XDG_CACHE_HOME="+t.TempDir())
	logs, _ := os.Create(filepath.Join(t.TempDir(), "run.log"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		logs.Close()
	})
	return cmd
}

// Issue 15's fleet: two headless runs publish through a real mosquitto;
// the app's Fleet page, given the broker in Settings › Connections, shows
// both cameras online with their counts, alerts and snapshots (and the
// app's own camera, publishing there too), and the one that stops going
// offline. docs/screenshot-fleet.png with SIGHTLINE_SCREENSHOT_DIR.
func TestAppFleet(t *testing.T) {
	broker := mqtttest.Start(t, mqtttest.Options{})
	sceneFile := filepath.Join(t.TempDir(), "walkway.json")
	if err := os.WriteFile(sceneFile, []byte(fleetScene), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--source", deps.DemoVideo, "--realtime", "--backend", "local", "--fps-limit", "3",
		"--mqtt", broker.URL(), "--scene", sceneFile, "--snapshot-every", "4s", "--health-every", "2s"}
	startRun(t, append([]string{"--camera", "line-1", "--snapshot-dir", t.TempDir()}, common...)...)
	line2 := startRun(t, append([]string{"--camera", "line-2", "--snapshot-dir", t.TempDir()}, common...)...)

	display := xDisplay(t)
	bars := videotest.Make(t, "wall-bars-640x360-25.mp4", "-f", "lavfi", "-i", "smptehdbars=s=640x360:r=25:d=60",
		"-c:v", "libx264", "-pix_fmt", "yuv420p")
	logPath, exited := startApp(t, display, "fleet", "SIGHTLINE_TEST_BROKER="+broker.URL(), "SIGHTLINE_MEASURE_SOURCE="+bars)
	st := awaitWall(t, exited, logPath, "fleet", 120*time.Second)
	out := screenshotPath(t, "screenshot-fleet.png")
	screenshot(t, display, out)
	t.Logf("screenshot %s", out)
	// The app's own camera publishes to the same broker: its card is third.
	if len(st.Cards) != 3 || !strings.HasPrefix(st.Fleet, "Following "+broker.URL()) ||
		st.Cards[2].Name != "wall-bars-640x360-25" || !strings.Contains(st.Cards[2].Chip, "ONLINE") {
		t.Fatalf("the Fleet page: %+v", st)
	}
	for _, c := range st.Cards[:2] {
		if !strings.Contains(c.Chip, "ONLINE") || !strings.Contains(c.Counts, "walkway  in ") || !strings.Contains(c.Alerts, "lot busy") ||
			!c.Snapshot || !strings.HasPrefix(c.Seen, "last seen ") {
			t.Errorf("card %+v", c)
		}
	}
	line2.Process.Signal(syscall.SIGINT) // its last words: offline
	off := awaitWall(t, exited, logPath, "offline", 90*time.Second)
	if !strings.Contains(off.Cards[1].Chip, "OFFLINE") || !strings.Contains(off.Cards[0].Chip, "ONLINE") {
		t.Errorf("after line-2 stopped: %+v", off.Cards)
	}
}

// TestMeasureWall reports the UI thread's CPU and each tile's shown and
// source fps with four tiles of the demo video, through the app's own
// --report. It takes half a minute, so it runs only with
// SIGHTLINE_MEASURE=1 (SIGHTLINE_MEASURE_SOURCE picks another video).
func TestMeasureWall(t *testing.T) {
	if os.Getenv("SIGHTLINE_MEASURE") == "" {
		t.Skip("set SIGHTLINE_MEASURE=1 to measure")
	}
	src := deps.DemoVideo
	if m := os.Getenv("SIGHTLINE_MEASURE_SOURCE"); m != "" {
		src = m
	}
	var cams []Camera
	for _, name := range []string{"a", "b", "c", "d"} {
		cams = append(cams, Camera{Name: name, Source: src})
	}
	js, _ := json.Marshal(cams)
	display := xDisplay(t)
	report := filepath.Join(t.TempDir(), "report.json")
	logPath, exited := startApp(t, display, "report:20s:"+report, camerasEnv+"="+string(js))
	select {
	case err := <-exited:
		exited <- err
	case <-time.After(120 * time.Second):
		t.Fatal("the app did not finish its measure")
	}
	b, err := os.ReadFile(report)
	if err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("no report: %v\n%s", err, log)
	}
	var rep DisplayReport
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Tiles) != 4 {
		t.Fatalf("report %s: %v", b, err)
	}
	t.Logf("UI thread %.0f %% of a core, process %.0f %%", rep.UIThreadCPU, rep.ProcessCPU)
	for i, tl := range rep.Tiles {
		t.Logf("tile %d: %.1f fps shown / %.1f source (%.2f; worst seconds %.2f), %.1f analyses/s", i, tl.ShownFPS, tl.SourceFPS, tl.Ratio, tl.RatioP5, tl.AnalysesPerSec)
	}
}
