package ui

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/sightline/sightline/internal/meter"
)

// DisplayReport is what `gui --report` writes when the app exits: how
// closely the screen followed the source, for unattended checks of a
// booth machine and for `sightline bench`. "Painted" is when Fyne drew
// the picture, before it swapped the window's buffers.
type DisplayReport struct {
	Source string `json:"source"`
	Width  int    `json:"width"` // the source's frames
	Height int    `json:"height"`
	// Launch is the process's start: the first frame and the first
	// results painted, counted from there.
	FirstFrameMS    float64 `json:"first_frame_ms"`
	FirstAnalysisMS float64 `json:"first_analysis_ms"`
	Seconds         float64 `json:"seconds"` // measured, after a warm-up
	SourceFPS       float64 `json:"source_fps"`
	ShownFPS        float64 `json:"shown_fps"`         // frames painted a second
	Ratio           float64 `json:"ratio"`             // shown / source over the whole measure
	RatioP50        float64 `json:"ratio_p50"`         // over one-second windows
	RatioP5         float64 `json:"ratio_p5"`          // the worst seconds
	FrameIntervalMS float64 `json:"frame_interval_ms"` // the source's, nominal
	// The age of each new frame when painted: from its arrival from the
	// source (its presentation time, for a file played at its rate).
	FrameAgeP50 float64 `json:"frame_age_ms_p50"`
	FrameAgeP95 float64 `json:"frame_age_ms_p95"`
	UIThreadCPU float64 `json:"ui_thread_cpu"` // percent of one core
	ProcessCPU  float64 `json:"process_cpu"`   // percent of one core
	// CPUPerFrame is the process's CPU time a frame painted.
	CPUPerFrame     float64 `json:"cpu_ms_per_frame"`
	AnalysesPerSec  float64 `json:"analyses_per_sec"`
	AnalysisLatency float64 `json:"analysis_latency_ms_p50"`
	// The threshold slider moved while playing and while paused, after
	// the measure: from each change to the paint of a frame drawn with it.
	RedrawPlaying RedrawTimes `json:"redraw_playing"`
	RedrawPaused  RedrawTimes `json:"redraw_paused"`
	// Tiles are each camera's own report, on a wall of several.
	Tiles []DisplayReport `json:"tiles,omitempty"`
}

// RedrawTimes are the threshold changes of a sweep and how long they took
// to reach the screen.
type RedrawTimes struct {
	Changes int     `json:"changes"`
	Painted int     `json:"painted"` // changes seen on screen
	P50     float64 `json:"ms_p50"`
	P95     float64 `json:"ms_p95"`
}

// reportWarmup is skipped before measuring: models load, buffers size.
const reportWarmup = 5 * time.Second

// The threshold sweep after the measure: changes a phase, each made once
// the one before is on screen or after sweepTimeout, then sweepSettle and
// a few ms more, so that changes fall at every point of a frame interval.
const (
	sweepChanges = 20
	sweepTimeout = 2 * time.Second
	sweepSettle  = 100 * time.Millisecond
)

// maxTimings bounds the display's timing lists between two reads.
const maxTimings = 1 << 14

// displayTiming is what the display measures for the report, under its
// lock.
type displayTiming struct {
	firstPaint, firstAnalysis time.Time
	ages                      []time.Duration  // arrival to paint, each new frame
	change                    *thresholdChange // the newest one not painted yet
	redraws                   []time.Duration  // change to paint
}

// thresholdChange is a move of the threshold slider.
type thresholdChange struct {
	value float64
	at    time.Time
}

// paintedPicture notes that pic was painted at now.
func (t *displayTiming) paintedPicture(pic *picture, now time.Time) {
	if t.firstPaint.IsZero() {
		t.firstPaint = now
	}
	if pic.analysed && t.firstAnalysis.IsZero() {
		t.firstAnalysis = now
	}
	if !pic.arrived.IsZero() && len(t.ages) < maxTimings {
		t.ages = append(t.ages, now.Sub(pic.arrived))
	}
	if c := t.change; c != nil && pic.threshold == c.value && !pic.drawnAt.Before(c.at) {
		if len(t.redraws) < maxTimings {
			t.redraws = append(t.redraws, now.Sub(c.at))
		}
		t.change = nil
	}
}

// takeAges returns the frame ages measured since the last call.
func (d *display) takeAges() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.timing.ages
	d.timing.ages = nil
	return a
}

// takeRedraws returns the redraw times measured since the last call and
// forgets a change not yet painted.
func (d *display) takeRedraws() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.timing.redraws
	d.timing.redraws, d.timing.change = nil, nil
	return r
}

// redrawsTimed is how many redraws were timed since takeRedraws.
func (d *display) redrawsTimed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.timing.redraws)
}

// firsts are when the first picture, and the first with results, were
// painted (zero: not yet).
func (d *display) firsts() (frame, analysis time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.timing.firstPaint, d.timing.firstAnalysis
}

// meterSample is one reading of the counters behind a DisplayReport.
type meterSample struct {
	at                 time.Time
	read, shown        int64 // shown: painted, as the live view's probe sees
	handed             int64 // pictures handed to the screen
	uiTicks, procTicks int64
	analyses           int64
}

func (w *mainWindow) meter() meterSample {
	st := w.p.Stats()
	return meterSample{at: time.Now(), read: st.FramesRead, shown: w.p.display.painted.Load(),
		handed:  w.p.display.shown.Load(),
		uiTicks: cpuTicks(fmt.Sprintf("/proc/self/task/%d/stat", os.Getpid())), procTicks: cpuTicks("/proc/self/stat"),
		analyses: st.Schedule.Local.Calls + st.Schedule.Cloud.Calls}
}

// measure samples the counters once a second from the first frame on and,
// after the warm-up and runFor, sweeps the threshold, writes the report to
// path and quits.
func (w *mainWindow) measure(launched time.Time, runFor time.Duration, path string, quit func()) {
	launched = processStart(launched)
	w.waitFirstFrame()
	skip := int(reportWarmup / time.Second)
	var samples []meterSample
	end := time.Now().Add(reportWarmup + runFor)
	tick := time.NewTicker(time.Second)
	for t := range tick.C {
		samples = append(samples, w.meter())
		if len(samples) == skip+1 {
			w.p.display.takeAges() // the warm-up's
		}
		if t.After(end) {
			break
		}
	}
	tick.Stop()
	rep := w.report(samples, w.p.display.takeAges())
	rep.FirstFrameMS, rep.FirstAnalysisMS = sinceLaunch(launched, w.p.display)
	rep.RedrawPlaying, rep.RedrawPaused = w.sweepRedraws(sweepChanges)
	if path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
		}
	}
	quit()
}

// sinceLaunch is how long after launch the first frame, and the first
// results, were painted, in ms (0: not yet).
func sinceLaunch(launched time.Time, d *display) (frame, analysis float64) {
	f, a := d.firsts()
	ms := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.Sub(launched).Microseconds()) / 1000
	}
	return ms(f), ms(a)
}

// waitFirstFrame returns once a picture has reached the screen.
func (w *mainWindow) waitFirstFrame() {
	for w.p.display.shown.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *mainWindow) report(samples []meterSample, ages []time.Duration) DisplayReport {
	info := w.p.Info()
	rep := DisplayReport{Source: w.p.Source(), Width: info.Width, Height: info.Height}
	if info.FPS > 0 {
		rep.FrameIntervalMS = 1000 / info.FPS
	}
	rep.FrameAgeP50, rep.FrameAgeP95 = millis(ages, 50), millis(ages, 95)
	skip := int(reportWarmup / time.Second)
	if len(samples) < skip+2 {
		return rep
	}
	samples = paintedOrHanded(samples[skip:])
	a, b := samples[0], samples[len(samples)-1]
	secs := b.at.Sub(a.at).Seconds()
	const hz = 100 // USER_HZ: /proc's clock ticks a second
	rep.Seconds = secs
	rep.SourceFPS = float64(b.read-a.read) / secs
	rep.ShownFPS = float64(b.shown-a.shown) / secs
	rep.Ratio = rep.ShownFPS / rep.SourceFPS
	rep.UIThreadCPU = 100 * float64(b.uiTicks-a.uiTicks) / hz / secs
	rep.ProcessCPU = 100 * float64(b.procTicks-a.procTicks) / hz / secs
	if shown := b.shown - a.shown; shown > 0 {
		rep.CPUPerFrame = 1000 * float64(b.procTicks-a.procTicks) / hz / float64(shown)
	}
	rep.AnalysesPerSec = float64(b.analyses-a.analyses) / secs
	var ratios []float64
	for i := 1; i < len(samples); i++ {
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

// paintedOrHanded counts the pictures painted, or, when none was (a
// wall's tiles, whose paints the live view's probe does not see), those
// handed to the screen.
func paintedOrHanded(samples []meterSample) []meterSample {
	if samples[0].shown != samples[len(samples)-1].shown {
		return samples
	}
	handed := slices.Clone(samples)
	for i := range handed {
		handed[i].shown = handed[i].handed
	}
	return handed
}

// millis is the p-th percentile of ds in ms.
func millis(ds []time.Duration, p float64) float64 {
	return float64(meter.Percentile(ds, p).Microseconds()) / 1000
}

// sweepRedraws moves the threshold slider n times while playing, then n
// times paused, and times each change to the screen. The video plays on
// and the threshold is as before afterwards.
func (w *mainWindow) sweepRedraws(n int) (playing, paused RedrawTimes) {
	var before float64
	fyne.DoAndWait(func() { before = w.controls.thresh.Value })
	playing = w.sweepThreshold(n)
	fyne.DoAndWait(func() {
		if !w.p.Paused() {
			w.togglePause()
		}
	})
	time.Sleep(sweepSettle)
	paused = w.sweepThreshold(n)
	fyne.DoAndWait(func() {
		w.togglePause()
		w.controls.thresh.SetValue(before)
	})
	return playing, paused
}

// sweepThreshold makes n threshold changes, each to a value not used
// before in the sweep, and times them.
func (w *mainWindow) sweepThreshold(n int) RedrawTimes {
	d := w.p.display
	d.takeRedraws()
	for i := range n {
		// Boxes appear and disappear: 0.20, 0.61, 0.21, 0.62, …
		v := 0.20 + 0.41*float64(i%2) + 0.01*float64(i/2%20)
		timed := d.redrawsTimed()
		onRepaintTick(func() { w.controls.thresh.SetValue(v) })
		for deadline := time.Now().Add(sweepTimeout); d.redrawsTimed() == timed && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(sweepSettle + time.Duration(i%7)*7*time.Millisecond)
	}
	r := d.takeRedraws()
	return RedrawTimes{Changes: n, Painted: len(r), P50: millis(r, 50), P95: millis(r, 95)}
}

// onRepaintTick runs f on the UI thread in Fyne's next repaint tick, just
// before the paint, where it hands over mouse and key events: a change
// made there waits for the next tick's paint, as a drag's does.
func onRepaintTick(f func()) {
	done := make(chan struct{})
	var once sync.Once
	fyne.NewAnimation(time.Millisecond, func(float32) {
		once.Do(func() {
			f()
			close(done)
		})
	}).Start()
	<-done
}

// processStart is when this process started, to the 10 ms of /proc's
// clock; fallback when /proc cannot say.
func processStart(fallback time.Time) time.Time {
	f := statFields("/proc/self/stat")
	up, err := os.ReadFile("/proc/uptime")
	if len(f) < 20 || err != nil {
		return fallback
	}
	uptime, err1 := strconv.ParseFloat(strings.Fields(string(up) + " 0")[0], 64)
	startTicks, err2 := strconv.ParseInt(f[19], 10, 64) // starttime, the 22nd field
	if err1 != nil || err2 != nil {
		return fallback
	}
	const hz = 100 // USER_HZ
	age := time.Duration((uptime - float64(startTicks)/hz) * float64(time.Second))
	return time.Now().Add(-age)
}

// cpuTicks is utime+stime of a /proc stat file, in clock ticks.
func cpuTicks(path string) int64 {
	f := statFields(path)
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// statFields are the fields of a /proc stat file after the command's
// name (the third field on); nil when it cannot be read.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil
	}
	return strings.Fields(s[i+2:])
}
