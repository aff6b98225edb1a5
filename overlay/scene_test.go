package overlay

import (
	"image"
	"image/color"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	scenes "github.com/sightline/sightline/internal/scene"
)

// sceneView is a fixed view with every kind of thing DrawScene draws: a
// zone in alarm, a quiet one, a line in alarm, a quiet diagonal one, two
// tracks with trails, and the alert.
func sceneView() *scenes.View {
	trail := func(x, y, dx, dy int) (t [scenes.TrailLen]image.Point) {
		for k := range t {
			t[k] = image.Pt(x+k*dx, y+k*dy)
		}
		return t
	}
	return &scenes.View{Width: 640, Height: 360,
		Zones: []scenes.ZoneView{
			{Name: "station", Polygon: []image.Point{{40, 200}, {250, 190}, {270, 340}, {30, 330}}, Occupancy: 1},
			{Name: "guarded", Polygon: []image.Point{{420, 150}, {620, 150}, {620, 340}}, Occupancy: 2, Alarm: true},
		},
		Lines: []scenes.LineView{
			{Name: "gate", A: image.Pt(20, 120), B: image.Pt(620, 120), In: 12, Out: 7, Alarm: true},
			{Name: "door", A: image.Pt(330, 340), B: image.Pt(400, 160), In: 3},
		},
		Tracks: []scenes.TrackView{
			{ID: 7, Name: "person", Box: image.Rect(120, 170, 160, 270), Trail: trail(140, 150, 0, 8), N: 16},
			{ID: 12, Name: "car", Box: image.Rect(480, 40, 600, 100), Trail: trail(400, 100, 12, 0), N: 9},
		},
		Alerts: []scenes.AlertView{{Rule: "guarded area", Detail: "2 in guarded (more than 0)", Since: time.Second}},
	}
}

func TestDrawSceneGolden(t *testing.T) {
	tests := []struct {
		name string
		opts SceneOptions
	}{
		{"scene", SceneOptions{}},
		{"scene-no-tracks", SceneOptions{HideIDs: true, HideTrails: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := testFrame(t)
			DrawScene(&img, sceneView(), tt.opts)
			assertGolden(t, img, filepath.Join("testdata", tt.name+".png"))
		})
	}
}

// blend is what zoneAlpha makes of background b under colour c.
func blend(b, c uint8) uint8 { return uint8(int(b) + (int(c)-int(b))*zoneAlpha>>8) }

func TestDrawSceneColours(t *testing.T) {
	img := testFrame(t)
	before := pixel(img, 100, 300)
	beforeAlarm := pixel(img, 600, 300)
	beforeOutside := pixel(img, 300, 60)
	DrawScene(&img, sceneView(), SceneOptions{})
	if got, want := pixel(img, 100, 300), blend3(before, ZoneColor); got != want {
		t.Errorf("inside the zone %v, want the background under %v: %v", got, ZoneColor, want)
	}
	if got, want := pixel(img, 600, 300), blend3(beforeAlarm, AlarmColor); got != want {
		t.Errorf("inside the zone in alarm %v, want %v", got, want)
	}
	if got := pixel(img, 300, 60); got != beforeOutside {
		t.Errorf("outside every zone the picture changed: %v, was %v", got, beforeOutside)
	}
	if got := pixel(img, 200, 120); got != AlarmColor {
		t.Errorf("the line in alarm is %v, want red", got)
	}
	// door runs from (330,340) up to (400,160): its "in" side is to the
	// right, (−dy, dx) = (180, 70); the arrow points there.
	if got := pixel(img, 365+14, 250+5); got != LineColor {
		t.Errorf("no arrow on the in side of door: %v", got)
	}
	if got := pixel(img, 365-14, 250-5); got == LineColor {
		t.Error("an arrow on the out side of door")
	}
	if got := pixel(img, 140, 150+8*7); got != PersonColor {
		t.Errorf("the person's trail is %v, want %v", got, PersonColor)
	}
}

func blend3(b, c color.RGBA) color.RGBA {
	return color.RGBA{blend(b.R, c.R), blend(b.G, c.G), blend(b.B, c.B), 255}
}

// DrawScene allocates nothing.
func TestDrawSceneAllocatesNothing(t *testing.T) {
	img := testFrame(t)
	v := sceneView()
	if n := testing.AllocsPerRun(20, func() { DrawScene(&img, v, SceneOptions{}) }); n != 0 {
		t.Errorf("DrawScene allocates %v times", n)
	}
}

// A live scene's view draws where its lines, zones and tracks are.
func TestDrawSceneFromScene(t *testing.T) {
	cfg := scenes.Config{
		Lines: []scenes.Line{{Name: "gate", Points: []scenes.Point{{X: 0.1, Y: 0.5}, {X: 0.9, Y: 0.5}}}},
		Zones: []scenes.Zone{{Name: "bay", Polygon: []scenes.Point{{X: 0.5, Y: 0.6}, {X: 0.9, Y: 0.6}, {X: 0.9, Y: 0.95}, {X: 0.5, Y: 0.95}}}},
	}
	s, err := scenes.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 10 {
		ts := time.Duration(k) * 100 * time.Millisecond
		objs := []analyzer.Object{{Name: "person", Confidence: 0.9, BoundingBox: analyzer.BoundingBox{X: 100 + 10*k, Y: 60, W: 40, H: 100}}}
		s.Update(scenes.Frame{At: event.AtFrame(int64(k), ts), T: ts, Width: 640, Height: 360, Objects: objs}, nil)
	}
	var v scenes.View
	s.View(&v)
	img := testFrame(t)
	DrawScene(&img, &v, SceneOptions{})
	if got := pixel(img, 320, 180); got != LineColor {
		t.Errorf("the line at y=180 is %v, want %v", got, LineColor)
	}
	if len(v.Tracks) != 1 || v.Tracks[0].ID != 1 || v.Tracks[0].Box != image.Rect(190, 60, 230, 160) {
		t.Fatalf("tracks %+v", v.Tracks)
	}
	if got := pixel(img, 210, 160); got != PersonColor {
		t.Errorf("the trail's newest point is %v, want %v", got, PersonColor)
	}
}

// BenchmarkDrawScene draws the fixed view on a 720p frame.
func BenchmarkDrawScene(b *testing.B) {
	img := gocv.NewMatWithSize(720, 1280, gocv.MatTypeCV8UC3)
	defer img.Close()
	v := sceneView()
	for i := range v.Zones { // scale the 640×360 view up to the frame
		for k, p := range v.Zones[i].Polygon {
			v.Zones[i].Polygon[k] = p.Mul(2)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		DrawScene(&img, v, SceneOptions{})
	}
}
