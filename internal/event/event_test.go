package event

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/clock"
)

func TestBusStampsAndKeepsOrder(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	bus := NewBus(clk, "line-3")
	var got []Event
	bus.Attach(SinkFunc(func(e Event) { got = append(got, e) }))
	for i := range 100 {
		clk.Advance(time.Millisecond)
		bus.Publish(&Status{Header: Header{Type: TypeStatus}, State: "playing", Detail: string(rune('a' + i%26))})
	}
	bus.Close()
	bus.Publish(&Status{Header: Header{Type: TypeStatus}}) // after Close: dropped, no panic
	if len(got) != 100 {
		t.Fatalf("delivered %d events, want 100", len(got))
	}
	for i, e := range got {
		h := e.Head()
		if want := float64(i + 1); h.TMS != want || h.Camera != "line-3" {
			t.Fatalf("event %d: t_ms %v camera %q, want %v line-3", i, h.TMS, h.Camera, want)
		}
	}
}

// A sink that blocks must not hold up Publish.
func TestBusPublishDoesNotWaitForSinks(t *testing.T) {
	bus := NewBus(clock.Real{}, "")
	release := make(chan struct{})
	bus.Attach(SinkFunc(func(Event) { <-release }))
	done := make(chan struct{})
	go func() {
		for range 1000 {
			bus.Publish(&Backend{Header: Header{Type: TypeBackend}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a slow sink")
	}
	close(release)
	bus.Close()
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("no space left on device")
	}
	f.n--
	return len(p), nil
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, TypeSummary)
	w.Publish(&Status{Header: Header{Type: TypeStatus}})
	w.Publish(&Summary{Header: Header{Type: TypeSummary, TMS: 12.5}, FramesRead: 3})
	if s := buf.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, `"type":"summary","t_ms":12.5`) || !strings.Contains(s, `"frames_read":3`) {
		t.Fatalf("filtered writer wrote %q", s)
	}
	fw := NewWriter(&failingWriter{n: 1})
	fw.Publish(&Status{Header: Header{Type: TypeStatus}})
	if fw.Err() != nil {
		t.Fatal("error before any failure")
	}
	fw.Publish(&Status{Header: Header{Type: TypeStatus}})
	if err := fw.Err(); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("Err() = %v, want the write's error", err)
	}
}

// A camera's bus names the camera on every event and delivers through the
// run's, in one order.
func TestCameraBus(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	bus := NewBus(clk, "")
	var got []Event
	bus.Attach(SinkFunc(func(e Event) { got = append(got, e) }))
	a, b := bus.Camera("line-1"), bus.Camera("line-2")
	a.Publish(&Status{Header: Header{Type: TypeStatus}})
	clk.Advance(time.Second)
	b.Publish(&Status{Header: Header{Type: TypeStatus}})
	a.Close() // nothing: the run's bus ends the run
	bus.Publish(&Summary{Header: Header{Type: TypeSummary}})
	bus.Close()
	want := []struct {
		camera string
		tms    float64
	}{{"line-1", 0}, {"line-2", 1000}, {"", 1000}}
	if len(got) != len(want) {
		t.Fatalf("%d events", len(got))
	}
	for i, w := range want {
		if h := got[i].Head(); h.Camera != w.camera || h.TMS != w.tms {
			t.Errorf("event %d: camera %q t_ms %v, want %q %v", i, h.Camera, h.TMS, w.camera, w.tms)
		}
	}
}

// A detached sink hears nothing more; the others go on, and detaching
// twice (or through a camera's bus) is harmless. A sink on a camera's bus
// hears that camera only.
func TestBusDetach(t *testing.T) {
	bus := NewBus(clock.Real{}, "")
	var kept, gone int
	heard := make(chan struct{}, 1)
	bus.Attach(SinkFunc(func(Event) { kept++ }))
	detach := bus.Camera("a").Attach(SinkFunc(func(Event) {
		gone++
		heard <- struct{}{}
	}))
	bus.Camera("b").Publish(&Status{Header: Header{Type: TypeStatus}})
	bus.Camera("a").Publish(&Status{Header: Header{Type: TypeStatus}})
	<-heard
	detach()
	detach()
	bus.Publish(&Status{Header: Header{Type: TypeStatus}})
	bus.Close()
	if kept != 3 || gone != 1 {
		t.Fatalf("the run's sink heard %d events, camera a's (detached) %d; want 3 and 1", kept, gone)
	}
}
