package ui

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/fleet"
	"github.com/sightline/sightline/internal/mqtt"
	"github.com/sightline/sightline/internal/text"
)

// fleetCardSize is a camera's card on the Fleet page: three a row on a
// 1280-pixel screen.
var fleetCardSize = fyne.NewSize(410, 250)

// recentAlert is how long an alert shows in red on its card.
const recentAlert = time.Minute

// fleetPage shows every camera that publishes to the plant's broker: its
// state, when it was last heard from, its counts, its latest alerts and
// snapshot. It follows the broker in Settings, live, reconnecting.
type fleetPage struct {
	s       *shell
	content fyne.CanvasObject
	state   *widget.Label // the connection
	empty   *widget.Label
	cards   *fyne.Container
	byName  map[string]*fleetCard
	now     func() time.Time

	mu      sync.Mutex
	watcher *fleet.Watcher
	broker  mqtt.Config // what the watcher follows
	// pending: a refresh is scheduled on the UI thread.
	pending atomic.Bool
	wg      sync.WaitGroup
}

func newFleetPage(s *shell) *fleetPage {
	p := &fleetPage{s: s, state: widget.NewLabel(""), byName: map[string]*fleetCard{}, now: s.clock.Now,
		cards: container.NewGridWrap(fleetCardSize)}
	p.state.Wrapping = fyne.TextWrapWord
	p.empty = lowLabel("No camera has published yet. Each machine publishes with: sightline run --mqtt URL --camera NAME …")
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), s.leaveFleet)
	title := widget.NewLabel("Fleet")
	title.TextStyle = fyne.TextStyle{Bold: true}
	header := container.NewBorder(nil, nil, container.NewHBox(back, title), nil, p.state)
	p.content = container.NewBorder(header, nil, nil, nil, container.NewVScroll(container.NewVBox(p.empty, p.cards)))
	return p
}

// start follows the broker and refreshes the page once a second from now
// on; UI thread.
func (p *fleetPage) start() {
	p.configure()
	p.wg.Add(1)
	go p.tick(p.s.ctx)
}

// brokerConfig is the plant's broker (Settings › Connections), the one
// the cameras publish to, with its password from the key store (the
// environment first).
func (p *fleetPage) brokerConfig() mqtt.Config {
	password, _ := p.s.deps.keys.Get(keyMQTT)
	return mqtt.Config{URL: p.s.st.MQTTURL, CAFile: p.s.st.MQTTCA, Username: p.s.st.MQTTUser, Password: mqtt.Secret(password)}
}

// configure follows the broker in Settings, reconnecting when it or its
// credentials changed; UI thread.
func (p *fleetPage) configure() {
	cfg := p.brokerConfig()
	p.mu.Lock()
	was := p.broker
	old, same := p.watcher, was.URL == cfg.URL && was.Username == cfg.Username && was.Password == cfg.Password && was.CAFile == cfg.CAFile &&
		(p.watcher != nil || cfg.URL == "")
	p.mu.Unlock()
	if same {
		return
	}
	var w *fleet.Watcher
	var err error
	if cfg.URL != "" {
		w, err = fleet.Watch(fleet.Config{Broker: cfg, OnChange: p.changed})
	}
	p.mu.Lock()
	p.watcher, p.broker = w, cfg
	p.mu.Unlock()
	p.closeWatcher(old)
	p.clearCards()
	if err != nil {
		p.say("Fleet broker: "+text.OneLine(err.Error(), 120), widget.DangerImportance)
		return
	}
	p.refresh()
}

// closeWatcher disconnects in the background: a broker that is away must
// not hold up the window.
func (p *fleetPage) closeWatcher(w *fleet.Watcher) {
	if w == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = w.Close(ctx)
	}()
}

// close disconnects and waits for the page's goroutines; the shell's
// context has ended.
func (p *fleetPage) close() {
	p.mu.Lock()
	w := p.watcher
	p.watcher = nil
	p.mu.Unlock()
	p.closeWatcher(w)
	p.wg.Wait()
}

// changed is the watcher's news: one refresh is scheduled however many
// messages come meanwhile.
func (p *fleetPage) changed() {
	if p.pending.CompareAndSwap(false, true) {
		onUI(func() {
			p.pending.Store(false)
			if p.s.onFleet {
				p.refresh()
			}
		})
	}
}

// tick refreshes the page once a second while it is shown, for the ages.
func (p *fleetPage) tick(ctx context.Context) {
	defer p.wg.Done()
	everySecond(ctx, p.changed)
}

func (p *fleetPage) say(msg string, imp widget.Importance) {
	if p.state.Text != msg || p.state.Importance != imp {
		p.state.Importance = imp
		p.state.SetText(msg)
	}
}

func (p *fleetPage) clearCards() {
	p.byName = map[string]*fleetCard{}
	p.cards.RemoveAll()
}

// refresh shows what the watcher knows; UI thread.
func (p *fleetPage) refresh() {
	p.mu.Lock()
	w, url := p.watcher, p.broker.URL
	p.mu.Unlock()
	if w == nil {
		if url == "" {
			p.say("No broker: set the MQTT broker in Settings › Connections.", widget.MediumImportance)
		}
		return
	}
	st, cams := w.State(), w.Cameras()
	switch {
	case st.Connected && st.LastError != "":
		p.say(fmt.Sprintf("Following %s · %d cameras · %s", url, len(cams), text.OneLine(st.LastError, 90)), widget.WarningImportance)
	case st.Connected:
		p.say(fmt.Sprintf("Following %s · %d cameras", url, len(cams)), widget.SuccessImportance)
	case st.LastError != "":
		p.say("Reconnecting to "+url+" — "+text.OneLine(st.LastError, 90), widget.DangerImportance)
	default:
		p.say("Connecting to "+url+" …", widget.WarningImportance)
	}
	p.empty.Hidden = len(cams) > 0
	now := p.now()
	added := false
	for _, c := range cams {
		card := p.byName[c.Name]
		if card == nil {
			card, added = newFleetCard(), true
			p.byName[c.Name] = card
		}
		card.update(c, now)
	}
	if added { // the cards in the cameras' order, by name
		p.cards.Objects = nil
		for _, c := range cams {
			p.cards.Objects = append(p.cards.Objects, p.byName[c.Name].content)
		}
		p.cards.Refresh()
	}
}

// fleetCard is one camera on the Fleet page.
type fleetCard struct {
	content                      fyne.CanvasObject
	name, chip                   *canvas.Text
	seen, source, counts, alerts *widget.Label
	snap                         *canvas.Image
	snapPath                     string // the snapshot shown
}

func newFleetCard() *fleetCard {
	c := &fleetCard{name: canvas.NewText("", hudText), chip: canvas.NewText("", hudDim),
		seen: widget.NewLabel(""), source: widget.NewLabel(""), counts: widget.NewLabel(""), alerts: widget.NewLabel("")}
	c.name.TextStyle = fyne.TextStyle{Bold: true}
	c.name.TextSize = theme.TextSize() + 3
	c.chip.TextStyle = fyne.TextStyle{Bold: true}
	for _, l := range []*widget.Label{c.seen, c.source, c.counts, c.alerts} {
		l.Truncation = fyne.TextTruncateEllipsis
	}
	c.seen.Importance, c.source.Importance = widget.LowImportance, widget.LowImportance
	c.counts.TextStyle = fyne.TextStyle{Monospace: true}
	c.snap = canvas.NewImageFromResource(nil)
	c.snap.FillMode = canvas.ImageFillContain
	c.snap.SetMinSize(fyne.NewSize(144, 108))
	c.snap.Hide()
	header := container.NewHBox(c.name, layout.NewSpacer(), c.chip)
	body := container.NewBorder(nil, nil, nil, c.snap, container.NewVBox(c.seen, c.source, c.counts))
	bg := canvas.NewRectangle(color.NRGBA{0x16, 0x1a, 0x21, 0xff})
	bg.CornerRadius = 6
	c.content = container.NewStack(bg, container.NewPadded(container.NewPadded(container.NewBorder(header, c.alerts, nil, nil, body))))
	return c
}

// update shows what the fleet knows of the camera; UI thread.
func (c *fleetCard) update(cam fleet.Camera, now time.Time) {
	set(c.name, cam.Name, hudText)
	chip, colour := fleetChip(cam.Status)
	set(c.chip, chip, colour)
	setText(c.seen, lastSeen(cam, now))
	setText(c.source, sourceLine(cam))
	c.source.Hidden = c.source.Text == ""
	counts := countLines(event.Summary{Lines: cam.Counts.Lines, Zones: cam.Counts.Zones, Inspections: cam.Counts.Inspections}, nil)
	if len(counts) == 0 {
		counts = []string{"no counts yet"}
	}
	setText(c.counts, strings.Join(counts, "\n"))
	c.showAlerts(cam, now)
	c.showSnapshot(cam.Snapshot)
}

func fleetChip(status string) (string, color.Color) {
	switch status {
	case mqtt.Online:
		return "● ONLINE", hudGood
	case mqtt.Offline:
		return "✕ OFFLINE", hudError
	}
	return "◌ UNKNOWN", hudWarn
}

// lastSeen says when the camera was last heard from.
func lastSeen(c fleet.Camera, now time.Time) string {
	if c.LastSeen.IsZero() {
		return "last seen before this page connected"
	}
	ago := now.Sub(c.LastSeen)
	switch {
	case ago < 2*time.Second:
		return "last seen " + c.LastSeen.Format("15:04:05") + ", just now"
	case ago < 2*time.Minute:
		return fmt.Sprintf("last seen %s, %d s ago", c.LastSeen.Format("15:04:05"), int(ago.Seconds()))
	}
	return fmt.Sprintf("last seen %s, %d min ago", c.LastSeen.Format("15:04:05"), int(ago.Minutes()))
}

// sourceLine is the camera's source's state, "" until one is heard of.
func sourceLine(c fleet.Camera) string {
	if c.Source == "" {
		return ""
	}
	line := "source " + c.Source
	if c.Source != "playing" && c.SourceDetail != "" {
		line += ": " + c.SourceDetail
	}
	return text.OneLine(line, 90)
}

// showAlerts lists the latest alerts, in red while the newest is recent.
func (c *fleetCard) showAlerts(cam fleet.Camera, now time.Time) {
	if len(cam.Alerts) == 0 {
		setText(c.alerts, "no alerts")
		c.alerts.Importance = widget.LowImportance
		return
	}
	var lines []string
	for _, a := range cam.Alerts[:min(3, len(cam.Alerts))] {
		lines = append(lines, text.OneLine(a.At.Format("15:04:05")+" ⚠ "+a.Rule+": "+a.Detail, 70))
	}
	imp := widget.MediumImportance
	if now.Sub(cam.Alerts[0].At) < recentAlert {
		imp = widget.DangerImportance
	}
	if c.alerts.Importance != imp {
		c.alerts.Importance = imp
		c.alerts.Refresh()
	}
	setText(c.alerts, strings.Join(lines, "\n"))
}

// showSnapshot shows the camera's last snapshot when its file can be read
// here (the same machine, a shared folder); an alert's may appear a frame
// after the alert, so a missing one is looked for again.
func (c *fleetCard) showSnapshot(path string) {
	if path == c.snapPath {
		return
	}
	if _, err := os.Stat(path); path == "" || err != nil {
		return
	}
	c.snapPath = path
	c.snap.File = path
	c.snap.Show()
	c.snap.Refresh()
}
