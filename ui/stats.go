package ui

import (
	"fmt"
	"image"
	"image/color"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/schedule"
)

// historyLen is how many one-second samples the plots show: two minutes.
const historyLen = 120

// plot is a small live line chart with a title and the latest value.
type plot struct {
	content fyne.CanvasObject
	value   *widget.Label
	raster  *canvas.Raster
	series  []float64
	colour  color.NRGBA
	unit    string
	fixed   float64 // fixed top of the scale; 0: from the data
}

func newPlot(title, unit string, c color.NRGBA, fixed float64) *plot {
	p := &plot{colour: c, unit: unit, fixed: fixed}
	p.value = widget.NewLabel("—")
	p.value.TextStyle = fyne.TextStyle{Monospace: true}
	p.raster = canvas.NewRaster(p.draw)
	p.raster.SetMinSize(fyne.NewSize(160, 56))
	t := widget.NewLabel(title)
	t.TextStyle = fyne.TextStyle{Bold: true}
	p.content = container.NewBorder(container.NewHBox(t, layout.NewSpacer(), p.value), nil, nil, nil, p.raster)
	return p
}

// push adds a sample; UI thread.
func (p *plot) push(v float64) {
	p.series = append(p.series, v)
	if len(p.series) > historyLen {
		p.series = p.series[len(p.series)-historyLen:]
	}
	p.value.SetText(fmt.Sprintf("%.1f %s", v, p.unit))
	p.raster.Refresh()
}

var plotBG = color.NRGBA{0x16, 0x1a, 0x21, 0xff}

// draw renders the series as a filled line chart of w×h pixels. It runs
// on the paint thread, as push does, so series needs no lock.
func (p *plot) draw(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = plotBG.R, plotBG.G, plotBG.B, plotBG.A
	}
	grid := color.NRGBA{0x2a, 0x30, 0x3a, 0xff}
	for _, f := range []float64{0.25, 0.5, 0.75} {
		y := int(float64(h) * f)
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, grid)
		}
	}
	if len(p.series) == 0 || w < 2 || h < 2 {
		return img
	}
	top := p.fixed
	if top == 0 {
		top = slices.Max(p.series) * 1.2
	}
	if top <= 0 {
		top = 1
	}
	fill := color.NRGBA{p.colour.R, p.colour.G, p.colour.B, 0x48}
	yOf := func(v float64) int { return h - 1 - int(min(max(v/top, 0), 1)*float64(h-2)) }
	prevY := -1
	for x := 0; x < w; x++ {
		// The newest sample is at the right edge; one sample per column
		// span, historyLen samples across the width.
		i := len(p.series) - historyLen + x*historyLen/w
		if i < 0 {
			continue
		}
		y := yOf(p.series[i])
		for yy := y; yy < h; yy++ {
			img.SetNRGBA(x, yy, fill)
		}
		lo, hi := y, y
		if prevY >= 0 {
			lo, hi = min(y, prevY), max(y, prevY)
		}
		for yy := lo; yy <= hi; yy++ {
			img.SetNRGBA(x, yy, p.colour)
			if yy+1 < h {
				img.SetNRGBA(x, yy+1, p.colour)
			}
		}
		prevY = y
	}
	return img
}

// statsPanel shows the meters over time and the cloud cost.
type statsPanel struct {
	content                            fyne.CanvasObject
	latency, fps, analyses, cloud, hit *plot
	counters, cost                     *widget.Label
	// documents is what Document Intelligence cost this session; nil: none.
	documents func() (pages int, usd float64)
}

func newStatsPanel() *statsPanel {
	s := &statsPanel{
		latency:  newPlot("Local latency (p50)", "ms", color.NRGBA{0x29, 0xb6, 0xf6, 0xff}, 0),
		fps:      newPlot("Display", "fps", color.NRGBA{0x00, 0xe6, 0x76, 0xff}, 0),
		analyses: newPlot("Analyses", "/s", color.NRGBA{0xab, 0x47, 0xbc, 0xff}, 0),
		cloud:    newPlot("Cloud calls", "/min", color.NRGBA{0xff, 0xb3, 0x00, 0xff}, 0),
		hit:      newPlot("Cache hit rate", "%", color.NRGBA{0x26, 0xc6, 0xda, 0xff}, 100),
	}
	s.counters = widget.NewLabel("")
	s.counters.TextStyle = fyne.TextStyle{Monospace: true}
	s.counters.Wrapping = fyne.TextWrapWord // its lines would widen the window past 800 px
	s.cost = widget.NewLabel("")
	s.cost.Wrapping = fyne.TextWrapWord
	s.content = container.NewVScroll(container.NewVBox(
		s.fps.content, s.analyses.content, s.latency.content, s.cloud.content, s.hit.content,
		heading("Cost"), s.cost, heading("Totals"), s.counters))
	return s
}

// update adds one second of meters; UI thread.
func (s *statsPanel) update(m meters, st schedule.Stats) {
	s.latency.push(msf(m.localLat))
	s.fps.push(m.displayFPS)
	s.analyses.push(m.localFPS + m.cloudFPS)
	s.cloud.push(m.cloudPerMin)
	s.hit.push(100 * st.HitRate())
	cost := costText(m, st)
	if s.documents != nil {
		if pages, usd := s.documents(); pages > 0 {
			cost += fmt.Sprintf("\nDocuments: %s, $%.4f. Total $%.4f.", plural(pages, "page"), usd, st.CostUSD+usd)
		}
	}
	s.cost.SetText(cost)
	s.counters.SetText(fmt.Sprintf("frames offered %d · analysed %d\nlocal  %d calls, %d errors, p95 %.0f ms\nazure  %d calls, %d errors, %d cache hits, p95 %.0f ms",
		st.FramesOffered, st.FramesAnalyzed,
		st.Local.Calls, st.Local.Errors, msf(st.Local.LatencyP95),
		st.Cloud.Calls, st.Cloud.Errors, st.Cloud.CacheHits, msf(st.Cloud.LatencyP95)))
}

// costText is the cloud cost so far and at the current rate.
func costText(m meters, st schedule.Stats) string {
	if st.Cloud.Calls == 0 && m.cloudPerMin == 0 {
		return fmt.Sprintf("No cloud calls yet: $0.00. At the configured features a cloud call costs about $%.4f.", st.CostPer1000/1000)
	}
	perHour := m.cloudPerMin * 60 * st.CostPer1000 / 1000
	return fmt.Sprintf("$%.4f so far (%d calls). At the current rate ≈ $%.2f an hour.", st.CostUSD, st.Cloud.Calls, perHour)
}

// captionPanel shows the caption and tags of the merged result.
type captionPanel struct {
	content fyne.CanvasObject
	caption *widget.Label
	from    *widget.Label
	tags    *fyne.Container
	last    string // what is shown, to skip identical updates
}

func newCaptionPanel() *captionPanel {
	s := &captionPanel{caption: widget.NewLabel("Waiting for the first analysis…"), from: widget.NewLabel(""), tags: container.NewVBox()}
	s.caption.Wrapping = fyne.TextWrapWord
	// Bold, not a heading size: a Label sized as a heading wraps to the
	// wrong width and height (Fyne 2.7.1), cutting the caption off.
	s.caption.TextStyle.Bold = true
	s.from.Importance = widget.LowImportance
	s.content = container.NewVScroll(container.NewVBox(heading("Caption"), s.caption, s.from, heading("Tags"), s.tags))
	return s
}

// update shows m's caption and tags; UI thread.
// cloudProblem, when not "", is why the cloud has not answered.
func (s *captionPanel) update(m *analyzer.Merged, cloud bool, cloudProblem string, threshold float64) {
	if m == nil || m.Analysis == nil {
		return
	}
	var tags []analyzer.Tag
	for _, t := range m.Tags {
		if t.Confidence >= threshold {
			tags = append(tags, t)
		}
	}
	key := fmt.Sprint(m.Caption, tags, cloud, cloudProblem)
	if key == s.last {
		return
	}
	s.last = key
	switch {
	case m.Caption != nil:
		s.caption.SetText(fmt.Sprintf("%s (%.2f)", m.Caption.Text, m.Caption.Confidence))
	case cloud && cloudProblem != "":
		s.caption.SetText("No caption: captions come from Azure, which is failing — " + cloudProblem)
	case cloud:
		s.caption.SetText("No caption yet: captions come from Azure, asked at its budget's pace.")
	default:
		s.caption.SetText("Captions come from Azure AI Vision; local models give tags only.")
	}
	s.from.SetText(fmt.Sprintf("from %s", sourceOf(m)))
	s.tags.RemoveAll()
	for _, t := range tags {
		bar := widget.NewProgressBar()
		conf := t.Confidence
		bar.TextFormatter = func() string { return fmt.Sprintf("%.2f", conf) }
		bar.SetValue(t.Confidence)
		s.tags.Add(container.NewGridWithColumns(2, widget.NewLabel(t.Name), bar))
	}
	if len(tags) == 0 {
		s.tags.Add(widget.NewLabel("No tags above the confidence threshold."))
	}
}

func sourceOf(m *analyzer.Merged) string {
	if m.CloudSource != "" {
		return m.CloudSource
	}
	return m.Source
}
