package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/internal/text"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/video"
)

// sample is one reading of the player's and the scheduler's meters.
type sample struct {
	at          time.Time
	read, shown int64
	stats       schedule.Stats
	view        pipeline.View // what is drawn on the newest frame
	// staleAfter is the age past which boxes are no longer being
	// refreshed as the settings promise.
	staleAfter time.Duration
	mode       schedule.Mode
	// totals are the scene's counts so far.
	totals event.Summary
	// recording is whether a recording runs, recorded how long it is.
	recording bool
	recorded  time.Duration
}

// stale reports whether the boxes on screen are older than the analysis
// should let them get: the view must not say LIVE over them.
func (s sample) stale() bool {
	return s.view.Analysis != nil && s.staleAfter > 0 && s.view.Age > s.staleAfter
}

// meters are the rates between two samples, as the HUD and plots show them.
type meters struct {
	displayFPS, sourceFPS float64
	localFPS, cloudFPS    float64 // analyses a second
	cloudPerMin           float64 // cloud calls a minute (cache hits excluded)
	hitRate               float64 // share of cloud requests the cache answered, this interval
	localLat, cloudLat    time.Duration
}

func rates(prev, cur sample) meters {
	dt := cur.at.Sub(prev.at).Seconds()
	if dt <= 0 {
		return meters{}
	}
	// A counter that went down was restarted (the analysis was
	// reconfigured): count from zero.
	per := func(a, b int64) float64 {
		if b < a {
			a = 0
		}
		return float64(b-a) / dt
	}
	m := meters{
		displayFPS:  per(prev.shown, cur.shown),
		sourceFPS:   per(prev.read, cur.read),
		localFPS:    per(prev.stats.Local.Calls, cur.stats.Local.Calls),
		cloudFPS:    per(prev.stats.Cloud.Calls+prev.stats.Cloud.CacheHits, cur.stats.Cloud.Calls+cur.stats.Cloud.CacheHits),
		cloudPerMin: 60 * per(prev.stats.Cloud.Calls, cur.stats.Cloud.Calls),
		localLat:    cur.stats.Local.LatencyP50,
		cloudLat:    cur.stats.Cloud.LatencyP50,
	}
	calls := cur.stats.Cloud.Calls - prev.stats.Cloud.Calls
	hits := cur.stats.Cloud.CacheHits - prev.stats.Cloud.CacheHits
	if calls+hits > 0 {
		m.hitRate = float64(hits) / float64(calls+hits)
	}
	return m
}

// hud is the strip above the video: what is shown, how fast, from where.
type hud struct {
	content                        fyne.CanvasObject
	state, fps, mode, local, cloud *canvas.Text
	drawn, rec                     *canvas.Text
}

var (
	hudBG    = color.NRGBA{0x16, 0x1a, 0x21, 0xff}
	hudText  = color.NRGBA{0xe6, 0xea, 0xf0, 0xff}
	hudDim   = color.NRGBA{0x8b, 0x95, 0xa5, 0xff}
	hudGood  = color.NRGBA{0x00, 0xe6, 0x76, 0xff}
	hudWarn  = color.NRGBA{0xff, 0xb3, 0x00, 0xff}
	hudError = color.NRGBA{0xff, 0x52, 0x52, 0xff}
)

func newHUD() *hud {
	t := func(s string, c color.Color) *canvas.Text {
		x := canvas.NewText(s, c)
		x.TextStyle = fyne.TextStyle{Monospace: true}
		x.TextSize = theme.TextSize() - 1
		return x
	}
	h := &hud{
		state: t("◌ OPENING", hudWarn),
		fps:   t("— fps", hudText),
		mode:  t("", hudText),
		local: t("", hudDim),
		cloud: t("", hudDim),
		drawn: t("", hudDim),
		rec:   t("", hudError),
	}
	h.rec.Hide()
	sep := func() fyne.CanvasObject { return t("│", hudDim) }
	// Two short rows rather than one long one, so the HUD never forces the
	// window wider than a laptop screen.
	row1 := container.NewHBox(h.rec, h.state, sep(), h.fps, sep(), h.drawn, layout.NewSpacer())
	row2 := container.NewHBox(h.mode, sep(), h.local, sep(), h.cloud, layout.NewSpacer())
	bg := canvas.NewRectangle(hudBG)
	// The rows scroll rather than widen the window: their text grows when
	// the first frame arrives, and must not move the split beside it.
	rows := container.NewHScroll(container.New(layout.NewCustomPaddedVBoxLayout(0), row1, row2))
	h.content = container.NewStack(bg, container.NewPadded(rows))
	return h
}

// update shows the latest meters; UI thread only.
func (h *hud) update(m meters, s sample, st video.Status, paused bool, cloud bool) {
	state, c := stateChip(st, paused, s.stale())
	set(h.state, state, c)
	set(h.fps, fmt.Sprintf("%4.1f fps shown / %4.1f source", m.displayFPS, m.sourceFPS), hudText)
	active := "—"
	if s.view.Active != "" {
		active = s.view.Active
	}
	set(h.mode, "backend: "+active, hudText)
	set(h.local, fmt.Sprintf("local %4.1f/s %4.0f ms", m.localFPS, msf(m.localLat)), hudDim)
	text, colour := cloudText(m, s, cloud)
	set(h.cloud, text, colour)
	drawn := hudText
	if s.stale() {
		drawn = hudWarn
	}
	set(h.drawn, drawnText(&s.view.Merged), drawn)
	if !s.recording {
		h.rec.Hide()
		return
	}
	d := s.recorded.Truncate(time.Second)
	set(h.rec, fmt.Sprintf("● REC %02d:%02d", int(d.Minutes()), int(d.Seconds())%60), hudError)
	h.rec.Show()
}

// cloudText says what the cloud is doing, and when it fails, why, in
// words a user can act on.
func cloudText(m meters, s sample, cloud bool) (string, color.Color) {
	switch {
	case !cloud:
		return "azure not configured", hudDim
	case s.stats.CloudDown && s.mode == schedule.ModeAuto:
		return "Azure offline – running locally: " + azure.Reason(s.stats.Cloud.LastError), hudWarn
	case s.stats.CloudDown:
		return "Azure failing: " + azure.Reason(s.stats.Cloud.LastError), hudError
	}
	return fmt.Sprintf("azure %3.1f/s %4.0f ms · cache %2.0f%%", m.cloudFPS, msf(m.cloudLat), 100*s.stats.HitRate()), hudDim
}

// drawnText says which backend produced the boxes on screen and how old
// they are, so the view never passes stale boxes off as live.
func drawnText(m *analyzer.Merged) string {
	if m == nil || m.Analysis == nil {
		return "boxes: analysing…"
	}
	s := fmt.Sprintf("boxes: %s, %s old", m.Source, age(m.Age))
	if m.CloudSource != "" && m.CloudSource != m.Source {
		s += fmt.Sprintf(" · tags: %s, %s old", m.CloudSource, age(m.CloudAge))
	}
	return s
}

func age(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", msf(d))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func stateChip(st video.Status, paused, stale bool) (string, color.Color) {
	switch {
	case paused:
		return "❚❚ PAUSED", hudWarn
	case st.State == video.StatePlaying && stale:
		return "◌ STALE BOXES", hudWarn
	case st.State == video.StatePlaying:
		return "● LIVE", hudGood
	case st.State == video.StateError:
		return "✕ ERROR", hudError
	case st.State == "" || st.State == video.StateOpening:
		return "◌ OPENING", hudWarn
	}
	return "◌ " + upper(string(st.State)), hudWarn
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func set(t *canvas.Text, s string, c color.Color) {
	if t.Text == s && t.Color == c {
		return
	}
	t.Text, t.Color = s, c
	t.Refresh()
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// noSignal reports whether st says the source cannot be opened: an error,
// or an opening that is retrying after a failure (its detail is a reason,
// not just the source's name).
func noSignal(st video.Status) bool {
	return st.State == video.StateError || (st.State == video.StateOpening && strings.Contains(st.Detail, "retrying"))
}

// bannerText is the warning over the video when the source is not
// delivering, "" while it plays.
func bannerText(st video.Status) string {
	detail := ""
	if st.Detail != "" {
		detail = ": " + text.OneLine(st.Detail, 90)
	}
	switch {
	case st.State == video.StateOpening && noSignal(st):
		return "✕ No signal, retrying" + detail
	}
	switch st.State {
	case video.StateStalled:
		return "⚠ Source stalled — the picture is frozen" + detail
	case video.StateReconnecting:
		return "⚠ Reconnecting to the source — the picture is frozen" + detail
	case video.StateError:
		return "✕ Source error, retrying" + detail
	}
	return ""
}

// banner is a coloured strip shown over the top of the video: the
// source's trouble, or for a few seconds an alert.
type banner struct {
	content fyne.CanvasObject
	bg      *canvas.Rectangle
	text    *canvas.Text
	// source is the source's trouble, shown again when an alert's time
	// is up; alarmUntil ends the alert.
	source      string
	sourceState video.State
	alarmUntil  time.Time
}

func newBanner() *banner {
	b := &banner{bg: canvas.NewRectangle(color.NRGBA{0xc6, 0x28, 0x28, 0xe6}), text: canvas.NewText("", color.White)}
	b.text.TextStyle = fyne.TextStyle{Bold: true}
	b.content = container.NewVBox(container.NewStack(b.bg, container.NewPadded(b.text)))
	b.content.Hide()
	return b
}

// alarm shows an alert in red for d, over the source's state; UI thread.
func (b *banner) alarm(msg string, d time.Duration) {
	b.alarmUntil = time.Now().Add(d)
	b.show(msg, color.NRGBA{0xc6, 0x28, 0x28, 0xf0})
	time.AfterFunc(d, func() {
		onUI(func() {
			if !time.Now().Before(b.alarmUntil) {
				b.alarmUntil = time.Time{}
				b.set(b.source, b.sourceState)
			}
		})
	})
}

// set shows the source's trouble msg, or hides the banner when msg is "";
// UI thread only. A running alert stays until its time is up.
func (b *banner) set(msg string, st video.State) {
	b.source, b.sourceState = msg, st
	if time.Now().Before(b.alarmUntil) {
		return
	}
	if msg == "" {
		b.content.Hide()
		return
	}
	c := color.NRGBA{0xe6, 0x7e, 0x00, 0xe6} // amber: stalled/reconnecting
	if st == video.StateError {
		c = color.NRGBA{0xc6, 0x28, 0x28, 0xe6}
	}
	b.show(msg, c)
}

func (b *banner) show(msg string, c color.Color) {
	b.bg.FillColor = c
	b.text.Text = msg
	b.bg.Refresh()
	b.text.Refresh()
	b.content.Show()
}
