package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DisplayReport is what `gui --report` writes when the app exits: how
// closely the screen followed the source, for unattended checks of a
// booth machine and for `sightline bench`.
type DisplayReport struct {
	Source          string  `json:"source"`
	FirstFrameMS    float64 `json:"first_frame_ms"` // launch to first frame on screen
	Seconds         float64 `json:"seconds"`        // measured, after a warm-up
	SourceFPS       float64 `json:"source_fps"`
	ShownFPS        float64 `json:"shown_fps"`
	Ratio           float64 `json:"ratio"`         // shown / source over the whole measure
	RatioP50        float64 `json:"ratio_p50"`     // over one-second windows
	RatioP5         float64 `json:"ratio_p5"`      // the worst seconds
	UIThreadCPU     float64 `json:"ui_thread_cpu"` // percent of one core
	ProcessCPU      float64 `json:"process_cpu"`   // percent of one core
	AnalysesPerSec  float64 `json:"analyses_per_sec"`
	AnalysisLatency float64 `json:"analysis_latency_ms_p50"`
	// Tiles are each camera's own report, on a wall of several.
	Tiles []DisplayReport `json:"tiles,omitempty"`
}

// reportWarmup is skipped before measuring: models load, buffers size.
const reportWarmup = 5 * time.Second

// meterSample is one reading of the counters behind a DisplayReport.
type meterSample struct {
	at                 time.Time
	read, shown        int64
	uiTicks, procTicks int64
	analyses           int64
}

func (w *mainWindow) meter() meterSample {
	st := w.p.Stats()
	return meterSample{at: time.Now(), read: st.FramesRead, shown: w.p.display.shown.Load(),
		uiTicks: cpuTicks(fmt.Sprintf("/proc/self/task/%d/stat", os.Getpid())), procTicks: cpuTicks("/proc/self/stat"),
		analyses: st.Schedule.Local.Calls + st.Schedule.Cloud.Calls}
}

// measure samples the counters once a second from the first frame on and,
// after the warm-up and runFor, writes the report to path and quits.
func (w *mainWindow) measure(launched time.Time, runFor time.Duration, path string, quit func()) {
	w.waitFirstFrame()
	first := time.Since(launched)
	var samples []meterSample
	end := time.Now().Add(reportWarmup + runFor)
	for t := range time.Tick(time.Second) {
		samples = append(samples, w.meter())
		if t.After(end) {
			break
		}
	}
	rep := w.report(samples, first)
	if path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
		}
	}
	quit()
}

// waitFirstFrame returns once a picture has reached the screen.
func (w *mainWindow) waitFirstFrame() {
	for w.p.display.shown.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *mainWindow) report(samples []meterSample, first time.Duration) DisplayReport {
	rep := DisplayReport{Source: w.p.Source(), FirstFrameMS: float64(first.Milliseconds())}
	skip := int(reportWarmup / time.Second)
	if len(samples) < skip+2 {
		return rep
	}
	a, b := samples[skip], samples[len(samples)-1]
	secs := b.at.Sub(a.at).Seconds()
	const hz = 100 // USER_HZ: /proc's clock ticks a second
	rep.Seconds = secs
	rep.SourceFPS = float64(b.read-a.read) / secs
	rep.ShownFPS = float64(b.shown-a.shown) / secs
	rep.Ratio = rep.ShownFPS / rep.SourceFPS
	rep.UIThreadCPU = 100 * float64(b.uiTicks-a.uiTicks) / hz / secs
	rep.ProcessCPU = 100 * float64(b.procTicks-a.procTicks) / hz / secs
	rep.AnalysesPerSec = float64(b.analyses-a.analyses) / secs
	var ratios []float64
	for i := skip + 1; i < len(samples); i++ {
		if read := samples[i].read - samples[i-1].read; read > 0 {
			ratios = append(ratios, float64(samples[i].shown-samples[i-1].shown)/float64(read))
		}
	}
	slices.Sort(ratios)
	if len(ratios) > 0 {
		rep.RatioP50, rep.RatioP5 = ratios[len(ratios)/2], ratios[len(ratios)*5/100]
	}
	rep.AnalysisLatency = float64(w.p.Stats().Schedule.Local.LatencyP50) / float64(time.Millisecond)
	return rep
}

// cpuTicks is utime+stime of a /proc stat file, in clock ticks.
func cpuTicks(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}
