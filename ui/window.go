package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// mainWindow is the live view: the video with its overlay, the HUD above
// it and the threshold slider below.
type mainWindow struct {
	cfg    Config
	win    fyne.Window
	video  *canvas.Image
	hud    *widget.Label
	banner *canvas.Text
	thresh *widget.Slider
	p      *player
	wg     sync.WaitGroup
}

func newMainWindow(a fyne.App, cfg Config) *mainWindow {
	w := &mainWindow{cfg: cfg, win: a.NewWindow("Sightline")}
	w.video = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9)))
	w.video.FillMode = canvas.ImageFillContain
	w.video.ScaleMode = canvas.ImageScaleFastest
	w.hud = widget.NewLabel("opening…")
	w.hud.TextStyle = fyne.TextStyle{Monospace: true}
	w.banner = canvas.NewText("", color.RGBA{255, 82, 82, 255})
	w.banner.TextStyle = fyne.TextStyle{Bold: true}
	w.p = newPlayer(cfg, w)

	w.thresh = widget.NewSlider(0.05, 0.95)
	w.thresh.Step = 0.01
	w.thresh.SetValue(cfg.Threshold)
	label := widget.NewLabel(thresholdText(cfg.Threshold))
	w.thresh.OnChanged = func(v float64) {
		label.SetText(thresholdText(v))
		w.p.setThreshold(v)
	}
	controls := container.NewBorder(nil, nil, label, nil, w.thresh)
	top := container.NewVBox(w.hud, w.banner)
	w.win.SetContent(container.NewBorder(top, controls, nil, nil, w.video))
	w.win.Resize(fyne.NewSize(960, 720))
	return w
}

func thresholdText(v float64) string { return fmt.Sprintf("confidence ≥ %.2f", v) }

func (w *mainWindow) start(ctx context.Context) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.p.run(ctx)
	}()
}

func (w *mainWindow) stop() { w.wg.Wait() }

// show puts a new picture and HUD text on screen; it runs on the UI thread.
func (w *mainWindow) show(img image.Image, hud, banner string) {
	w.video.Image = img
	w.video.Refresh()
	w.hud.SetText(hud)
	if w.banner.Text != banner {
		w.banner.Text = banner
		w.banner.Refresh()
	}
}
