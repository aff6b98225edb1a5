package event

import (
	"slices"
	"sync"
	"time"
)

// Sink consumes events, in the order they were published, on the bus's own
// goroutine: a slow sink (a disk, a broker) never holds up the publishers.
type Sink interface {
	Publish(e Event)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

// Publish calls f.
func (f SinkFunc) Publish(e Event) { f(e) }

// Clock tells the time; internal/clock has the real and the fake one.
type Clock interface{ Now() time.Time }

// Bus stamps events with the time since the run started and the camera's
// name, and delivers them to its sinks in publish order. Publish never
// blocks on a sink. Close delivers what is queued and stops.
type Bus struct {
	clock  Clock
	start  time.Time
	camera string
	// parent, for a camera's bus, is the run's: it stamps the time and
	// delivers; this one only names the camera.
	parent *Bus

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []Event
	sinks   []*Sink // pointers, so that Detach finds its own
	closing bool
	done    chan struct{}
}

// NewBus starts a bus for a run that started now; camera is the name every
// event carries ("" for single-camera runs).
func NewBus(clk Clock, camera string) *Bus {
	b := &Bus{clock: clk, start: clk.Now(), camera: camera, done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	go b.deliver()
	return b
}

// Camera is the bus of one camera of a multi-camera run: its events carry
// the camera's name and go out through b, in one order with the others'.
// Its Close does nothing: b's ends the run.
func (b *Bus) Camera(name string) *Bus {
	return &Bus{camera: name, parent: b}
}

// Attach adds a sink; events published from now on reach it, until the
// returned detach is called (outputs the app restarts; most sinks stay
// for the run and ignore it). A camera's bus attaches to the run's a sink
// that hears only that camera's events.
func (b *Bus) Attach(s Sink) (detach func()) {
	if b.parent != nil {
		return b.parent.Attach(SinkFunc(func(e Event) {
			if e.Head().Camera == b.camera {
				s.Publish(e)
			}
		}))
	}
	ref := &s
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sinks = append(b.sinks, ref)
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.sinks = slices.DeleteFunc(slices.Clone(b.sinks), func(r *Sink) bool { return r == ref })
	}
}

// Since is the time since the run started.
func (b *Bus) Since() time.Duration {
	if b.parent != nil {
		return b.parent.Since()
	}
	return b.clock.Now().Sub(b.start)
}

// Publish stamps e and queues it for the sinks. Publishing after Close
// drops the event.
func (b *Bus) Publish(e Event) {
	h := e.Head()
	if h.Camera == "" {
		h.Camera = b.camera
	}
	if b.parent != nil {
		b.parent.Publish(e)
		return
	}
	h.TMS = MS(b.Since())
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return
	}
	b.queue = append(b.queue, e)
	b.cond.Signal()
}

func (b *Bus) deliver() {
	defer close(b.done)
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.closing {
			b.cond.Wait()
		}
		batch, sinks := b.queue, b.sinks
		b.queue = nil
		closing := b.closing
		b.mu.Unlock()
		for _, e := range batch {
			for _, s := range sinks {
				(*s).Publish(e)
			}
		}
		if closing && len(batch) == 0 {
			return
		}
	}
}

// Close delivers the queued events and waits for the sinks to take them.
func (b *Bus) Close() {
	if b.parent != nil {
		return
	}
	b.mu.Lock()
	b.closing = true
	b.cond.Signal()
	b.mu.Unlock()
	<-b.done
}
