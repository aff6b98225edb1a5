package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/text"
)

// Camera is one camera of the wall, in the shape of `run --cameras`'s
// cameras.json: its name (on its tile, in its events and MQTT topics),
// its source, and optionally its scene file and backend (local, azure or
// auto; default the app's).
type Camera struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Scene   string `json:"scene,omitempty"`
	Backend string `json:"backend,omitempty"`
}

// MaxCameras is the most cameras a wall shows.
const MaxCameras = 16

// ParseCameras reads a cameras.json and checks it.
func ParseCameras(b []byte) ([]Camera, error) {
	var cams []Camera
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cams); err != nil {
		return nil, fmt.Errorf("not a camera list: %w (want [{\"name\": …, \"source\": …}, …])", err)
	}
	if len(cams) == 0 {
		return nil, errors.New("no camera in the list")
	}
	return cams, checkCameras(cams)
}

// checkCameras says what is wrong with a camera list, naming the camera.
func checkCameras(cams []Camera) error {
	if len(cams) > MaxCameras {
		return fmt.Errorf("%d cameras: a wall shows at most %d", len(cams), MaxCameras)
	}
	seen := map[string]bool{}
	for i, c := range cams {
		switch {
		case strings.TrimSpace(c.Name) == "":
			return fmt.Errorf("camera %d has no name", i+1)
		case strings.ContainsAny(c.Name, "/+#") || strings.IndexFunc(c.Name, func(r rune) bool { return r < ' ' }) >= 0:
			return fmt.Errorf("camera %q: a name cannot hold /, +, # or control characters (it is an MQTT topic level)", c.Name)
		case seen[c.Name]:
			return fmt.Errorf("two cameras are called %q", c.Name)
		case strings.TrimSpace(c.Source) == "":
			return fmt.Errorf("camera %q has no source", c.Name)
		}
		if c.Backend != "" {
			if _, err := schedule.ParseMode(c.Backend); err != nil {
				return fmt.Errorf("camera %q: %w", c.Name, err)
			}
		}
		seen[c.Name] = true
	}
	return nil
}

// decodeCameras reads the saved list; a damaged one is forgotten, nothing
// else.
func decodeCameras(s string) []Camera {
	var cams []Camera
	if s == "" || json.Unmarshal([]byte(s), &cams) != nil || checkCameras(cams) != nil {
		return nil
	}
	return cams
}

func encodeCameras(cams []Camera) string {
	if len(cams) == 0 {
		return ""
	}
	b, _ := json.Marshal(cams) // strings only: it always marshals
	return string(b)
}

// title is what a tile and the window call the camera.
func (c Camera) title() string {
	if c.Name != "" {
		return c.Name
	}
	return filepath.Base(c.Source)
}

// backendLabels are the choices of a camera's backend, "" the app's.
var backendLabels = []string{"App's choice", "Local", "Azure", "Auto"}

func backendLabel(b string) string {
	for _, c := range backendChoices {
		if string(c.mode) == b {
			return c.label
		}
	}
	return backendLabels[0]
}

func backendOf(label string) string {
	for _, c := range backendChoices {
		if c.label == label {
			return string(c.mode)
		}
	}
	return ""
}

// camerasPanel is a camera's Cameras tab (and the wall's Cameras dialog):
// the saved cameras, edited in place, and the ways to the wall, the Fleet
// page and booth mode.
type camerasPanel struct {
	content fyne.CanvasObject
	s       *shell
	rows    *fyne.Container
	wall    *widget.Button
}

func newCamerasPanel(s *shell) *camerasPanel {
	p := &camerasPanel{s: s, rows: container.NewVBox()}
	note := lowLabel("Each camera plays on its own, with its own scene and counters; the cameras share the local models. " +
		"With none listed, the app shows one source.")
	add := widget.NewButtonWithIcon("Add camera", theme.ContentAddIcon(), func() {
		p.edit(-1, Camera{Source: s.currentSource()}, "")
	})
	open := widget.NewButtonWithIcon("Open cameras.json…", theme.FolderOpenIcon(), p.openFile)
	p.wall = widget.NewButtonWithIcon("Camera wall", theme.GridIcon(), s.showWall)
	fleet := widget.NewButtonWithIcon("Fleet", theme.ComputerIcon(), s.showFleet)
	booth := widget.NewButtonWithIcon("Booth mode (B)", theme.ViewFullScreenIcon(), func() { s.setBooth(true) })
	p.content = container.NewVScroll(container.NewVBox(heading("Cameras"), note, p.rows,
		container.NewHBox(add, open), widget.NewSeparator(), container.NewGridWithColumns(2, p.wall, fleet), booth))
	p.refresh()
	return p
}

// refresh lists the saved cameras; UI thread.
func (p *camerasPanel) refresh() {
	cams := p.s.listed()
	p.rows.RemoveAll()
	if len(cams) == 0 {
		p.rows.Add(lowLabel("No cameras listed."))
	}
	for i, c := range cams {
		name := widget.NewLabel(c.Name)
		name.TextStyle = fyne.TextStyle{Bold: true}
		detail := []string{c.Source, backendLabel(c.Backend)}
		if c.Scene != "" {
			detail = append(detail, "scene "+filepath.Base(c.Scene))
		}
		what := widget.NewLabel(text.OneLine(strings.Join(detail, " · "), 60))
		what.Truncation = fyne.TextTruncateEllipsis
		what.Importance = widget.LowImportance
		edit := widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), func() { p.edit(i, c, "") })
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			p.apply(slices.Delete(slices.Clone(cams), i, i+1))
		})
		p.rows.Add(container.NewBorder(nil, nil, name, container.NewHBox(edit, remove), what))
	}
	if len(p.s.cams) > 1 {
		p.wall.Enable()
	} else {
		p.wall.Disable()
	}
}

// apply saves and plays a new camera list, saying what is wrong with it.
func (p *camerasPanel) apply(cams []Camera) {
	if err := p.s.setCameras(cams); err != nil {
		dialog.ShowError(err, p.s.win)
	}
}

// edit asks for camera i's fields (-1: a new one); a problem reopens the
// form with what was typed and why, so nothing is lost.
func (p *camerasPanel) edit(i int, c Camera, problem string) {
	name, source, sceneFile := entry(c.Name, "line-1"), entry(c.Source, "rtsp://camera/stream, a file or webcam:0"), entry(c.Scene, "optional: scene.json")
	backend := widget.NewSelect(backendLabels, nil)
	backend.SetSelected(backendLabel(c.Backend))
	browse := widget.NewButton("…", func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err == nil && r != nil {
				sceneFile.SetText(r.URI().Path())
				r.Close()
			}
		}, p.s.win)
	})
	items := []*widget.FormItem{widget.NewFormItem("Name", name), widget.NewFormItem("Source", source),
		widget.NewFormItem("Backend", backend), widget.NewFormItem("Scene", container.NewBorder(nil, nil, nil, browse, sceneFile))}
	if problem != "" {
		why := widget.NewLabel(problem)
		why.Importance = widget.DangerImportance
		why.Wrapping = fyne.TextWrapWord
		items = append(items, widget.NewFormItem("", why))
	}
	d := dialog.NewForm("Camera", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		got := Camera{Name: strings.TrimSpace(name.Text), Source: strings.TrimSpace(source.Text),
			Scene: strings.TrimSpace(sceneFile.Text), Backend: backendOf(backend.Selected)}
		cams := slices.Clone(p.s.listed())
		if i < 0 {
			cams = append(cams, got)
		} else {
			cams[i] = got
		}
		if err := p.s.setCameras(cams); err != nil {
			p.edit(i, got, err.Error())
		}
	}, p.s.win)
	d.Resize(fyne.NewSize(560, 0))
	d.Show()
}

// openFile takes the cameras of a cameras.json, as `run --cameras` reads it.
func (p *camerasPanel) openFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		b, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			dialog.ShowError(err, p.s.win)
			return
		}
		cams, err := ParseCameras(b)
		if err != nil {
			dialog.ShowError(err, p.s.win)
			return
		}
		p.apply(cams)
	}, p.s.win)
}
