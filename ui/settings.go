package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/schedule"
)

// settings are what the app remembers between runs (Fyne preferences).
// Keys are not here: they live in the keyStore.
type settings struct {
	VisionEndpoint string
	CVEndpoint     string
	CVProject      string
	CVPublished    string
	CVModelDir     string
	// Document Intelligence, for the OCR panel's Document mode.
	DocEndpoint    string
	DocFreeTier    bool
	CloudPerMinute float64
	CloudPerDay    int
	CacheTTL       time.Duration
	ModelDir       string
	BlurFaces      bool
	SnapshotDir    string
	Keywords       []string
	Recent         []string
	// Scenes are the scene of each source (JSON scene files by source), so
	// a source comes back with its lines and zones.
	Scenes map[string]string
	// The plant's systems (Settings › Connections); the broker's password
	// is in the key store.
	MQTTURL, MQTTUser, MQTTCA, Camera string
	MetricsAddr, OTLPEndpoint         string
	// Cameras are the wall's cameras; none: the app shows one source.
	Cameras []Camera
}

// defaultKeywords are highlighted in OCR results until the user changes them.
var defaultKeywords = []string{"total", "amount", "invoice"}

const maxRecent = 8

func loadSettings(p fyne.Preferences) settings {
	home, _ := os.UserHomeDir()
	return settings{
		VisionEndpoint: p.String("visionEndpoint"),
		CVEndpoint:     p.String("cvEndpoint"),
		CVProject:      p.String("cvProject"),
		CVPublished:    p.String("cvPublished"),
		CVModelDir:     p.String("cvModelDir"),
		DocEndpoint:    p.String("docEndpoint"),
		DocFreeTier:    p.Bool("docFreeTier"),
		CloudPerMinute: p.FloatWithFallback("cloudPerMinute", 20),
		CloudPerDay:    p.Int("cloudPerDay"),
		CacheTTL:       time.Duration(p.FloatWithFallback("cacheTTLSeconds", 60) * float64(time.Second)),
		ModelDir:       p.String("modelDir"),
		BlurFaces:      p.Bool("blurFaces"),
		SnapshotDir:    p.StringWithFallback("snapshotDir", filepath.Join(home, "Pictures", "Sightline")),
		Keywords:       p.StringListWithFallback("keywords", defaultKeywords),
		Recent:         p.StringList("recentSources"),
		Scenes:         decodeScenes(p.String("scenes")),
		MQTTURL:        p.String("mqttURL"),
		MQTTUser:       p.String("mqttUser"),
		MQTTCA:         p.String("mqttCA"),
		Camera:         p.String("camera"),
		MetricsAddr:    p.String("metricsAddr"),
		OTLPEndpoint:   p.String("otlpEndpoint"),
		Cameras:        decodeCameras(p.String("cameras")),
	}
}

func decodeScenes(s string) map[string]string {
	m := map[string]string{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m) // a damaged entry forgets the scenes, nothing else
	}
	return m
}

func (s settings) save(p fyne.Preferences) {
	p.SetString("visionEndpoint", s.VisionEndpoint)
	p.SetString("cvEndpoint", s.CVEndpoint)
	p.SetString("cvProject", s.CVProject)
	p.SetString("cvPublished", s.CVPublished)
	p.SetString("cvModelDir", s.CVModelDir)
	p.SetString("docEndpoint", s.DocEndpoint)
	p.SetBool("docFreeTier", s.DocFreeTier)
	p.SetFloat("cloudPerMinute", s.CloudPerMinute)
	p.SetInt("cloudPerDay", s.CloudPerDay)
	p.SetFloat("cacheTTLSeconds", s.CacheTTL.Seconds())
	p.SetString("modelDir", s.ModelDir)
	p.SetBool("blurFaces", s.BlurFaces)
	p.SetString("snapshotDir", s.SnapshotDir)
	p.SetStringList("keywords", s.Keywords)
	p.SetStringList("recentSources", s.Recent)
	b, _ := json.Marshal(s.Scenes)
	p.SetString("scenes", string(b))
	p.SetString("mqttURL", s.MQTTURL)
	p.SetString("mqttUser", s.MQTTUser)
	p.SetString("mqttCA", s.MQTTCA)
	p.SetString("camera", s.Camera)
	p.SetString("metricsAddr", s.MetricsAddr)
	p.SetString("otlpEndpoint", s.OTLPEndpoint)
	p.SetString("cameras", encodeCameras(s.Cameras))
}

// addRecent puts uri first in the recent sources, without duplicates.
func addRecent(recent []string, uri string) []string {
	out := append([]string{uri}, slices.DeleteFunc(slices.Clone(recent), func(s string) bool { return s == uri })...)
	return out[:min(len(out), maxRecent)]
}

// settingsPanel edits the settings and the keys. onApply receives the new
// settings after they are saved.
type settingsPanel struct {
	content fyne.CanvasObject
	keys    *keyStore
	// base is the settings the form edits, the newest of every camera's
	// (nil: those it was made with).
	base func() settings
	// applied is the settings last applied; onApply takes new ones.
	applied settings
	onApply func(settings)

	visionEndpoint, visionKey, cvEndpoint, cvKey *widget.Entry
	perMinute, perDay, cacheTTL, modelDir, snaps *widget.Entry
	blur                                         *widget.Check
	docEndpoint, docKey                          *widget.Entry
	docFree                                      *widget.Check
	connections                                  *connections
	save                                         *widget.Button
	note, keyState, cloudState, problem          *widget.Label
}

func newSettingsPanel(win fyne.Window, s settings, keys *keyStore, onApply func(settings)) *settingsPanel {
	p := &settingsPanel{keys: keys, applied: s, onApply: onApply}
	p.visionEndpoint = entry(s.VisionEndpoint, "https://<resource>.cognitiveservices.azure.com")
	p.cvEndpoint = entry(s.CVEndpoint, "https://<resource>.cognitiveservices.azure.com")
	p.visionKey = widget.NewPasswordEntry()
	p.cvKey = widget.NewPasswordEntry()
	p.docEndpoint = entry(s.DocEndpoint, "https://<resource>.cognitiveservices.azure.com")
	p.docKey = widget.NewPasswordEntry()
	p.docFree = widget.NewCheck("Free tier (F0)", nil)
	p.docFree.SetChecked(s.DocFreeTier)
	p.perMinute = entry(strconv.FormatFloat(s.CloudPerMinute, 'g', -1, 64), "20")
	p.perDay = entry(strconv.Itoa(s.CloudPerDay), "0 = unlimited")
	p.cacheTTL = entry(strconv.FormatFloat(s.CacheTTL.Seconds(), 'g', -1, 64), "60")
	p.modelDir = entry(s.ModelDir, "default: $SIGHTLINE_MODELS, then deps/models")
	p.snaps = entry(s.SnapshotDir, "")
	p.blur = widget.NewCheck("Blur faces (privacy)", nil)
	p.blur.SetChecked(s.BlurFaces)
	p.note = widget.NewLabel(keys.Note())
	p.note.Wrapping = fyne.TextWrapWord
	p.note.Importance = widget.WarningImportance
	if keys.unavailable == "" {
		p.note.Importance = widget.LowImportance
	}
	p.keyState = widget.NewLabel("")
	p.keyState.Wrapping = fyne.TextWrapWord
	p.keyState.Importance = widget.LowImportance
	p.cloudState = widget.NewLabel("")
	p.cloudState.Wrapping = fyne.TextWrapWord
	p.refreshKeyState()

	form, docForm := p.forms(win)
	p.connections = newConnections(s)
	p.problem = widget.NewLabel("")
	p.problem.Importance = widget.DangerImportance
	p.problem.Wrapping = fyne.TextWrapWord
	p.problem.Hide()
	p.save = widget.NewButton("Save and apply", p.saveAndApply)
	p.save.Importance = widget.HighImportance
	modelNote := widget.NewLabel("The model folder applies at the next start. Privacy pixelates faces before a frame goes to the cloud, and in the view, snapshots and recordings.")
	modelNote.Importance = widget.LowImportance
	modelNote.Wrapping = fyne.TextWrapWord
	p.content = container.NewVScroll(container.NewVBox(
		heading("Azure"), form, heading("Document Intelligence"), docForm, p.keyState, p.cloudState, p.note, modelNote, p.blur,
		p.connections.content, p.problem, container.NewHBox(p.save)))
	return p
}

// saveAndApply checks the form, keeps the keys typed in the key store
// (and clears them from the form) and applies the settings.
func (p *settingsPanel) saveAndApply() {
	s := p.applied
	if p.base != nil {
		s = p.base()
	}
	ns := p.read(s)
	if err := errors.Join(checkEndpoint("Vision endpoint", ns.VisionEndpoint), checkEndpoint("Custom Vision endpoint", ns.CVEndpoint),
		checkEndpoint("Document Intelligence endpoint", ns.DocEndpoint)); err != nil {
		p.problem.SetText(err.Error())
		p.problem.Show()
		return
	}
	p.problem.Hide()
	for name, e := range map[string]*widget.Entry{keyVision: p.visionKey, keyPrediction: p.cvKey, keyDocument: p.docKey,
		keyMQTT: p.connections.password} {
		if e.Text != "" {
			_ = p.keys.Set(name, e.Text) // Set falls back to memory; it never fails
			e.SetText("")
		}
	}
	p.note.SetText(p.keys.Note())
	p.refreshKeyState()
	p.applied = ns
	p.onApply(ns)
}

// forms are the Azure and the Document Intelligence sections.
func (p *settingsPanel) forms(win fyne.Window) (form, docForm *widget.Form) {
	browse := func(e *widget.Entry) *widget.Button {
		return widget.NewButton("…", func() {
			dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
				if err == nil && u != nil {
					e.SetText(u.Path())
				}
			}, win)
		})
	}
	hinted := func(label string, e fyne.CanvasObject, hint string) *widget.FormItem {
		it := widget.NewFormItem(label, e)
		it.HintText = hint
		return it
	}
	// Document Intelligence has a section of its own: its labels would
	// widen the form past an 800×600 screen's side panel.
	docForm = widget.NewForm(
		widget.NewFormItem("Endpoint", p.docEndpoint),
		widget.NewFormItem("Key", p.docKey),
		hinted("Tier", p.docFree, "F0: 4 MB, 2 pages, 500 a month"),
	)
	form = widget.NewForm(
		widget.NewFormItem("Vision endpoint", p.visionEndpoint),
		widget.NewFormItem("Vision key", p.visionKey),
		widget.NewFormItem("Custom Vision endpoint", p.cvEndpoint),
		widget.NewFormItem("Custom Vision key", p.cvKey),
		widget.NewFormItem("Cloud calls / minute", p.perMinute),
		hinted("Cloud calls / day", p.perDay, "0 = unlimited"),
		hinted("Cache TTL (s)", p.cacheTTL, "0 = no cache"),
		widget.NewFormItem("Model folder", container.NewBorder(nil, nil, nil, browse(p.modelDir), p.modelDir)),
		widget.NewFormItem("Snapshot folder", container.NewBorder(nil, nil, nil, browse(p.snaps), p.snaps)),
	)
	return form, docForm
}

// read parses the form, keeping the old value of a field that does not parse.
func (p *settingsPanel) read(old settings) settings {
	s := old
	s.VisionEndpoint = strings.TrimSpace(p.visionEndpoint.Text)
	s.CVEndpoint = strings.TrimSpace(p.cvEndpoint.Text)
	s.DocEndpoint = strings.TrimSpace(p.docEndpoint.Text)
	s.DocFreeTier = p.docFree.Checked
	if v, err := strconv.ParseFloat(p.perMinute.Text, 64); err == nil && v > 0 {
		s.CloudPerMinute = v
	}
	if v, err := strconv.Atoi(p.perDay.Text); err == nil && v >= 0 {
		s.CloudPerDay = v
	}
	if v, err := strconv.ParseFloat(p.cacheTTL.Text, 64); err == nil {
		s.CacheTTL = time.Duration(v * float64(time.Second))
	}
	s.ModelDir = strings.TrimSpace(p.modelDir.Text)
	s.SnapshotDir = strings.TrimSpace(p.snaps.Text)
	s.BlurFaces = p.blur.Checked
	p.connections.read(&s)
	return s
}

// load shows s in the form, as saved elsewhere (another camera's panel).
func (p *settingsPanel) load(s settings) {
	p.visionEndpoint.SetText(s.VisionEndpoint)
	p.cvEndpoint.SetText(s.CVEndpoint)
	p.docEndpoint.SetText(s.DocEndpoint)
	p.docFree.SetChecked(s.DocFreeTier)
	p.perMinute.SetText(strconv.FormatFloat(s.CloudPerMinute, 'g', -1, 64))
	p.perDay.SetText(strconv.Itoa(s.CloudPerDay))
	p.cacheTTL.SetText(strconv.FormatFloat(s.CacheTTL.Seconds(), 'g', -1, 64))
	p.modelDir.SetText(s.ModelDir)
	p.snaps.SetText(s.SnapshotDir)
	p.blur.SetChecked(s.BlurFaces)
	p.connections.load(s)
	p.note.SetText(p.keys.Note())
	p.refreshKeyState()
}

// setCloud says whether the cloud answers, and when it last failed, why;
// UI thread.
func (p *settingsPanel) setCloud(st schedule.Stats, configured bool) {
	text, imp := "Azure Vision: not configured (captions, dense captions and cloud reading need it).", widget.LowImportance
	switch {
	case st.Cloud.LastError != nil:
		text = fmt.Sprintf("Azure Vision: failing since %s — %s", st.Cloud.LastErrorAt.Format("15:04:05"), azure.Reason(st.Cloud.LastError))
		imp = widget.DangerImportance
	case configured && st.Cloud.Calls > 0:
		text = fmt.Sprintf("Azure Vision: answering (%d calls, $%.4f).", st.Cloud.Calls, st.CostUSD)
	case configured:
		text = "Azure Vision: configured, no call yet."
	}
	if p.cloudState.Text != text || p.cloudState.Importance != imp {
		p.cloudState.Importance = imp
		p.cloudState.SetText(text)
	}
}

// checkEndpoint refuses what cannot be an Azure endpoint: anything but an
// https:// URL with a host (http:// only to this machine, for tests and
// proxies). Empty is fine: no cloud.
func checkEndpoint(name, endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("%s %q is not a URL: it looks like https://<resource>.cognitiveservices.azure.com", name, endpoint)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback()):
		return nil
	}
	return fmt.Errorf("%s %q must start with https://", name, endpoint)
}

// refreshKeyState says which keys are set and where from, never the keys.
func (p *settingsPanel) refreshKeyState() {
	var parts []string
	for _, k := range []struct{ name, label string }{{keyVision, "Vision key"}, {keyPrediction, "Custom Vision key"}, {keyDocument, "Document Intelligence key"}, {keyMQTT, "MQTT password"}} {
		if _, from := p.keys.Get(k.name); from != "" {
			parts = append(parts, k.label+": set ("+from+")")
		} else {
			parts = append(parts, k.label+": not set")
		}
	}
	p.keyState.SetText(strings.Join(parts, " · "))
}

func entry(text, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(text)
	e.SetPlaceHolder(placeholder)
	return e
}

func heading(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle = fyne.TextStyle{Bold: true}
	return l
}
