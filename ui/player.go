package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// analysisThreshold is the confidence the live view asks the models for:
// low, so that lowering the slider reveals boxes from the cached result
// without a new analysis.
const analysisThreshold = 0.05

// player reads the source, keeps the analyzer busy with the newest frame,
// draws the overlay and hands pictures to the window, one at a time.
type player struct {
	cfg       Config
	win       *mainWindow
	threshold atomic.Uint64 // float64 bits; set from the UI thread
	// pending is set while a picture waits for the UI thread: frames that
	// arrive meanwhile are not drawn, so the display never queues up.
	pending atomic.Bool
	bufs    [2]*image.RGBA
	back    int
	rgba    gocv.Mat
	state   string
}

func newPlayer(cfg Config, w *mainWindow) *player {
	p := &player{cfg: cfg, win: w}
	p.setThreshold(cfg.Threshold)
	return p
}

func (p *player) setThreshold(v float64) { p.threshold.Store(math.Float64bits(v)) }
func (p *player) filter() overlay.Filter {
	return overlay.Filter{Threshold: math.Float64frombits(p.threshold.Load())}
}

// run plays the source until ctx ends, reopening files at their end (a
// booth demo loops) and retrying sources that fail.
func (p *player) run(ctx context.Context) {
	p.rgba = gocv.NewMat()
	defer p.rgba.Close()
	features := analyzer.Features{analyzer.FeatureObjects, analyzer.FeaturePeople, analyzer.FeatureTags}
	if p.cfg.Cloud != nil {
		features = append(features, analyzer.FeatureCaption)
	}
	sched := analyzer.NewScheduler(ctx, analyzer.SchedulerOptions{
		Local:    p.cfg.Local,
		Cloud:    p.cfg.Cloud,
		Mode:     analyzer.Mode(p.cfg.Backend),
		Features: features,
		Options:  analyzer.Options{Threshold: analysisThreshold},
		LocalFPS: p.cfg.FPSLimit,
	})
	defer sched.Close()
	source := p.cfg.Source
	if source == "" {
		source = defaultSource()
	}
	for ctx.Err() == nil {
		err := p.play(ctx, source, sched)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, io.EOF) {
			slog.Warn("source failed", "source", source, "err", err)
			p.state = "error: " + err.Error()
			p.present(nil, nil, 0)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}

// play shows one opening of the source to its end.
func (p *player) play(ctx context.Context, source string, sched *analyzer.Scheduler) error {
	src, err := video.Open(ctx, source, video.Options{
		Realtime: true,
		OnStatus: func(s video.Status) {
			if s.State == video.StatePlaying {
				p.state = ""
			} else {
				p.state = string(s.State)
			}
		},
	})
	if err != nil {
		return err
	}
	defer src.Close()
	var fps rate
	for {
		frame, err := src.Next(ctx)
		if err != nil {
			return err
		}
		sched.Offer(frame.Seq, frame.PTS, frame.Mat)
		if !p.pending.Load() {
			fps.tick(time.Now())
			p.present(frame, sched, fps.value())
		}
		frame.Release()
	}
}

// present draws the overlay on frame, converts it into the back buffer and
// swaps it onto the screen through fyne.Do.
func (p *player) present(frame *video.Frame, sched *analyzer.Scheduler, fps float64) {
	var img image.Image
	hud := "no picture"
	if frame != nil {
		merged := sched.Merged()
		if merged.Analysis != nil {
			overlay.Draw(&frame.Mat, merged.Analysis, p.filter())
		}
		gocv.CvtColor(frame.Mat, &p.rgba, gocv.ColorBGRToRGBA)
		buf := p.bufs[p.back]
		if buf == nil || buf.Rect.Dx() != frame.Mat.Cols() || buf.Rect.Dy() != frame.Mat.Rows() {
			buf = image.NewRGBA(image.Rect(0, 0, frame.Mat.Cols(), frame.Mat.Rows()))
			p.bufs[p.back] = buf
		}
		if pix, err := p.rgba.DataPtrUint8(); err == nil {
			copy(buf.Pix, pix)
		}
		p.back ^= 1
		img = buf
		hud = hudText(fps, merged, sched.Stats())
	}
	banner := ""
	if p.state != "" {
		banner = "⚠ source " + p.state
	}
	p.pending.Store(true)
	fyne.Do(func() {
		if img != nil {
			p.win.show(img, hud, banner)
		} else {
			p.win.show(p.win.video.Image, hud, banner)
		}
		p.pending.Store(false)
	})
}

func hudText(fps float64, m *analyzer.Merged, st analyzer.Stats) string {
	s := fmt.Sprintf("display %4.1f fps │ %s", fps, m.Active)
	if m.Analysis == nil {
		return s + " │ analysing…"
	}
	s += fmt.Sprintf(" │ boxes: %s, %3.0f ms old │ latency %3.0f ms (p95 %3.0f)",
		m.Source, msf(m.Age), msf(st.Local.LatencyP50), msf(st.Local.LatencyP95))
	if m.CloudSource != "" {
		s += fmt.Sprintf(" │ cloud: %s, %.1f s old", m.CloudSource, m.CloudAge.Seconds())
	}
	return s
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rate measures events per second over the last second.
type rate struct {
	times [128]time.Time
	n     int
}

func (r *rate) tick(t time.Time) {
	r.times[r.n%len(r.times)] = t
	r.n++
}

func (r *rate) value() float64 {
	if r.n < 2 {
		return 0
	}
	newest := r.times[(r.n-1)%len(r.times)]
	count := 0
	for i := 1; i <= min(r.n, len(r.times)); i++ {
		t := r.times[(r.n-i)%len(r.times)]
		if newest.Sub(t) > time.Second {
			break
		}
		count++
	}
	if count < 2 {
		return 0
	}
	oldest := r.times[(r.n-count)%len(r.times)]
	return float64(count-1) / newest.Sub(oldest).Seconds()
}
