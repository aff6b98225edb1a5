package ui

import (
	"cmp"
	"context"
	"fmt"
	"image/color"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/clip"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/plant"
	"github.com/sightline/sightline/internal/text"
)

// keyMQTT is the broker password's name in the key store (and the
// environment variable the command line reads).
const keyMQTT = mqtt.EnvPassword

// connections is Settings' Connections section: the plant's broker,
// metrics endpoint and OpenTelemetry collector, each with a dot that says
// whether it works.
type connections struct {
	content                          fyne.CanvasObject
	broker, user, camera, metrics    *widget.Entry
	otlp, password, ca               *widget.Entry
	brokerDot, metricsDot, otlpDot   *canvas.Circle
	brokerNote, metricsNote, otlpNot *widget.Label
}

// The dots speak the HUD's colours.
var (
	dotOff  = hudDim
	dotGood = hudGood
	dotBad  = hudError
)

func newConnections(s settings) *connections {
	c := &connections{
		broker:   entry(s.MQTTURL, "mqtt://broker:1883 (empty: none)"),
		user:     entry(s.MQTTUser, "user (if the broker wants one)"),
		password: widget.NewPasswordEntry(),
		ca:       entry(s.MQTTCA, "site CA (PEM file) for mqtts://, if needed"),
		camera:   entry(s.Camera, "this camera's name in topics (default: the source's)"),
		metrics:  entry(s.MetricsAddr, "127.0.0.1:9464 (empty: none)"),
		otlp:     entry(s.OTLPEndpoint, "http://collector:4318 (empty: none)"),
	}
	dot := func() *canvas.Circle {
		d := canvas.NewCircle(dotOff)
		d.Resize(fyne.NewSize(12, 12))
		return d
	}
	note := func() *widget.Label {
		l := widget.NewLabel("off")
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.LowImportance
		return l
	}
	c.brokerDot, c.metricsDot, c.otlpDot = dot(), dot(), dot()
	c.brokerNote, c.metricsNote, c.otlpNot = note(), note(), note()
	row := func(d *canvas.Circle, l *widget.Label) fyne.CanvasObject {
		return container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(14, 14), d), nil, l)
	}
	form := widget.NewForm(
		widget.NewFormItem("MQTT broker", c.broker), widget.NewFormItem("User", c.user),
		widget.NewFormItem("Password", c.password), widget.NewFormItem("CA file", c.ca), widget.NewFormItem("Camera", c.camera),
		widget.NewFormItem("Metrics", c.metrics), widget.NewFormItem("OTLP", c.otlp))
	c.content = container.NewVBox(heading("Connections"), form,
		row(c.brokerDot, c.brokerNote), row(c.metricsDot, c.metricsNote), row(c.otlpDot, c.otlpNot))
	return c
}

// read takes the section's values into s (the password goes with the
// other keys to the key store).
func (c *connections) read(s *settings) {
	s.MQTTURL, s.MQTTUser, s.MQTTCA = strings.TrimSpace(c.broker.Text), strings.TrimSpace(c.user.Text), strings.TrimSpace(c.ca.Text)
	s.Camera, s.MetricsAddr, s.OTLPEndpoint = strings.TrimSpace(c.camera.Text), strings.TrimSpace(c.metrics.Text), strings.TrimSpace(c.otlp.Text)
}

// load shows s in the section, as saved elsewhere (another camera's view).
func (c *connections) load(s settings) {
	c.broker.SetText(s.MQTTURL)
	c.user.SetText(s.MQTTUser)
	c.ca.SetText(s.MQTTCA)
	c.camera.SetText(s.Camera)
	c.metrics.SetText(s.MetricsAddr)
	c.otlp.SetText(s.OTLPEndpoint)
}

// show puts each output's state on its dot; UI thread.
func (c *connections) show(st plant.Status, s settings, startErr error) {
	set := func(d *canvas.Circle, l *widget.Label, col color.Color, msg string) {
		if d.FillColor != col {
			d.FillColor = col
			d.Refresh()
		}
		setText(l, msg)
	}
	switch {
	case s.MQTTURL == "":
		set(c.brokerDot, c.brokerNote, dotOff, "MQTT: off")
	case startErr != nil && len(st.MQTT) == 0:
		set(c.brokerDot, c.brokerNote, dotBad, "MQTT: "+text.OneLine(startErr.Error(), 120))
	case len(st.MQTT) > 0 && st.MQTT[0].Connected:
		m := st.MQTT[0]
		set(c.brokerDot, c.brokerNote, dotGood, fmt.Sprintf("MQTT: connected to %s · %d delivered, %d queued", s.MQTTURL, m.Delivered, m.Queued))
	case len(st.MQTT) > 0:
		m := st.MQTT[0]
		set(c.brokerDot, c.brokerNote, dotBad, fmt.Sprintf("MQTT: not connected (%s) · %d queued, kept until it is back", text.OneLine(m.LastError, 90), m.Queued))
	}
	switch {
	case s.MetricsAddr == "":
		set(c.metricsDot, c.metricsNote, dotOff, "Metrics: off")
	case st.MetricsAddr != "":
		set(c.metricsDot, c.metricsNote, dotGood, "Metrics: http://"+st.MetricsAddr+"/metrics")
	default:
		set(c.metricsDot, c.metricsNote, dotBad, "Metrics: not served: "+text.OneLine(fmt.Sprint(startErr), 120))
	}
	switch {
	case s.OTLPEndpoint == "":
		set(c.otlpDot, c.otlpNot, dotOff, "OpenTelemetry: off")
	case st.OTLP == "":
		set(c.otlpDot, c.otlpNot, dotBad, "OpenTelemetry: not started: "+text.OneLine(fmt.Sprint(startErr), 120))
	case st.OTLPError != "":
		set(c.otlpDot, c.otlpNot, dotBad, "OpenTelemetry: "+text.OneLine(st.OTLPError, 120))
	default:
		set(c.otlpDot, c.otlpNot, dotGood, "OpenTelemetry: exporting to "+s.OTLPEndpoint)
	}
}

// plantOutputs are the app's outputs to the plant (Settings ›
// Connections): one set for all its cameras, restarted when the settings
// or the cameras change.
type plantOutputs struct {
	ctx     context.Context
	keys    *keyStore
	version string
	outs    atomic.Pointer[plant.Outputs]
	err     error // why they did not start; UI thread
	gen     int   // the latest start; UI thread
}

// start (re)starts the outputs s asks for, on cams' events; UI thread.
// They start off it, as a broker may take a while to refuse; a start
// overtaken by a newer one stops again.
func (o *plantOutputs) start(s settings, cams []plant.Camera) {
	o.gen++
	gen := o.gen
	old := o.outs.Swap(nil)
	o.err = nil
	if (s.MQTTURL == "" && s.MetricsAddr == "" && s.OTLPEndpoint == "") || len(cams) == 0 {
		go old.Stop()
		return
	}
	pass, _ := o.keys.Get(keyMQTT)
	cfg := plant.Config{MQTT: s.MQTTURL, CAFile: s.MQTTCA, Username: s.MQTTUser, Password: mqtt.Secret(pass),
		MetricsAddr: s.MetricsAddr, OTLPEndpoint: s.OTLPEndpoint, Version: o.version}
	go func() {
		old.Stop() // first: the metrics address may be the same
		outs := &plant.Outputs{}
		err := outs.Start(o.ctx, cfg, cams, nil)
		if err != nil {
			outs = nil
		}
		onUI(func() {
			if gen != o.gen {
				go outs.Stop()
				return
			}
			o.outs.Store(outs)
			o.err = err
		})
	}()
}

// stop stops the outputs for good; UI thread.
func (o *plantOutputs) stop() {
	o.gen++
	o.outs.Swap(nil).Stop()
}

// startPlant starts the outputs for this camera, or for every camera of
// the shell; UI thread.
func (w *mainWindow) startPlant() {
	if w.shell != nil {
		w.shell.startPlant()
		return
	}
	w.plant.start(*w.st, []plant.Camera{w.plantCamera()})
}

// plantCamera is this camera as the outputs name it.
func (w *mainWindow) plantCamera() plant.Camera {
	return plant.Camera{Name: w.cameraName(), P: w.p.Pipeline, Bus: w.bus}
}

// cameraName is the camera's name in topics and clips: the wall's name
// for it, else Connections' (one camera), else the source's.
func (w *mainWindow) cameraName() string {
	switch {
	case w.cfg.Camera != "":
		return w.cfg.Camera
	case w.st.Camera != "" && (w.shell == nil || len(w.shell.cams) <= 1):
		return w.st.Camera
	}
	return plant.CameraName(cmp.Or(w.cfg.Source, defaultSource()))
}

// clipsList is the recent clips, newest first, each with a button that
// opens it.
type clipsList struct {
	content *fyne.Container
	open    func(path string)
	n       int
}

func newClipsList() *clipsList {
	return &clipsList{content: container.NewVBox(lowLabel("No clip yet: C saves one, alerts make one."))}
}

// unavailable says why there are none; UI thread.
func (l *clipsList) unavailable(err error) {
	l.content.Objects = []fyne.CanvasObject{lowLabel("No clips: " + text.OneLine(err.Error(), 120))}
	l.content.Refresh()
}

// add lists a clip just written; UI thread.
func (l *clipsList) add(c *event.Clip, at time.Time) {
	if l.n == 0 {
		l.content.RemoveAll()
	}
	l.n++
	name := fmt.Sprintf("%s · %s · %.0f s", at.Format("15:04:05"), c.Reason, c.PreS+c.PostS)
	b := widget.NewButtonWithIcon("", theme.MediaPlayIcon(), func() {
		if l.open != nil {
			l.open(c.File)
		}
	})
	row := container.NewBorder(nil, nil, nil, b, widget.NewLabel(name))
	l.content.Objects = append([]fyne.CanvasObject{row}, l.content.Objects[:min(len(l.content.Objects), 9)]...)
	l.content.Refresh()
}

// openFile opens path with the desktop's viewer.
func (w *mainWindow) openFile(path string) {
	if err := w.app.OpenURL(&url.URL{Scheme: "file", Path: path}); err != nil {
		w.say("Cannot open " + path + ": " + err.Error())
	}
}

// clipDir is where the app's clips go: beside its snapshots.
func clipDir(s settings) string { return filepath.Join(s.SnapshotDir, "clips") }

// newClips prepares the clips around alerts and C; nil, said, when their
// folder cannot be made.
func (w *mainWindow) newClips() *clip.Clips {
	c, err := clip.New(clip.Config{Dir: clipDir(*w.st), Camera: w.cameraName(), Pre: clip.DefaultPre, Post: clip.DefaultPost, Events: w.bus})
	if err != nil {
		w.clipsErr = err
		return nil
	}
	return c
}

// clipNow asks for a clip around the newest video (C); the clip event
// says where it went.
func (w *mainWindow) clipNow() {
	if w.clips == nil {
		w.say("No clips: " + text.OneLine(w.clipsErr.Error(), 90))
		return
	}
	if _, err := w.clips.TriggerNow("key"); err != nil {
		w.say("No clip: " + text.OneLine(err.Error(), 90))
		return
	}
	w.say(fmt.Sprintf("Clip coming: %v before, %v after…", clip.DefaultPre, clip.DefaultPost))
}
