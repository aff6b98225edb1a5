package scene

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
)

// crowd is a scene with 50 people standing on a 10×5 grid, swaying a few
// pixels, two lines and two zones placed so that nobody crosses or enters
// anything: the steady state, in which no event happens.
type crowd struct {
	scene  *Scene
	objs   []analyzer.Object
	frame  int64
	events []event.Event
}

func newCrowd(tb testing.TB) *crowd {
	cfg := Config{
		Lines: []Line{
			{Name: "a", Points: []Point{{0, 0.02}, {1, 0.02}}},
			{Name: "b", Points: []Point{{0.99, 0}, {0.99, 1}}, Classes: []string{"person"}},
		},
		Zones: []Zone{
			{Name: "left", Polygon: []Point{{0, 0}, {0.5, 0}, {0.5, 1}, {0, 1}}}, // holds the left half
			{Name: "corner", Polygon: []Point{{0.95, 0.95}, {1, 0.95}, {1, 1}}},
		},
		Rules: []Rule{
			{Name: "crowded", When: WhenOccupancyAbove, Zone: "left", Count: 100},
			{Name: "stopped", When: WhenCrossingsBelow, Line: "a", Count: 1, Seconds: 3600},
		},
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	c := &crowd{scene: s, objs: make([]analyzer.Object, 50)}
	for i := 0; i < 60; i++ { // confirm every track, enter the zone
		c.step()
	}
	return c
}

// step analyses one frame at 30 fps.
func (c *crowd) step() {
	sway := int(c.frame % 4)
	for i := range c.objs {
		col, row := i%10, i/10
		x := 30 + col*120 + sway
		if col >= 5 {
			x += 20 // clear of the left zone's edge
		}
		c.objs[i] = analyzer.Object{Name: "person", Confidence: 0.9,
			BoundingBox: analyzer.BoundingBox{X: x, Y: 60 + row*140, W: 40, H: 100}}
	}
	t := time.Duration(c.frame) * time.Second / 30
	c.events = c.scene.Update(Frame{At: event.AtFrame(c.frame, t), T: t, Width: 1280, Height: 760, Objects: c.objs}, c.events[:0])
	c.frame++
}

// The steady state allocates nothing, and View copies without allocating.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	c := newCrowd(t)
	if n := len(c.scene.tracker.Tracks()); n != 50 {
		t.Fatalf("%d tracks, want 50", n)
	}
	if allocs := testing.AllocsPerRun(100, c.step); allocs != 0 {
		t.Errorf("Update allocates %v times a frame", allocs)
	}
	if len(c.events) != 0 {
		t.Errorf("events in the steady state: %q", short(c.events))
	}
	var v View
	c.scene.View(&v)
	if allocs := testing.AllocsPerRun(100, func() { c.scene.View(&v) }); allocs != 0 {
		t.Errorf("View allocates %v times", allocs)
	}
	if len(v.Tracks) != 50 || v.Zones[0].Occupancy != 25 || v.Tracks[0].N != TrailLen {
		t.Errorf("view: %d tracks, left zone occupancy %d, trail %d", len(v.Tracks), v.Zones[0].Occupancy, v.Tracks[0].N)
	}
}

// BenchmarkUpdate50 is the tracker, two lines and two zones on 50 boxes
// a frame. Besides the wall time it reports the thread's CPU time an
// update, which a machine shared with other work does not inflate.
func BenchmarkUpdate50(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := newCrowd(b)
	b.ReportAllocs()
	cpu0 := threadCPU()
	for b.Loop() {
		c.step()
	}
	b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// threadCPU is the calling OS thread's CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
