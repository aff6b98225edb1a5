package video

import (
	"sync"

	"gocv.io/x/gocv"
)

// matPool recycles the Mats frames are decoded into, so a source in steady
// state allocates no pixels. Frames return their Mat on Release, possibly
// from another goroutine, and possibly after the source closed.
type matPool struct {
	mu     sync.Mutex
	free   []gocv.Mat
	closed bool
}

// poolMax bounds the idle Mats: one in the live slot, one being decoded and
// a couple held by the consumer cover every steady state.
const poolMax = 4

// get returns a continuous 8UC3 Mat of the given size.
func (p *matPool) get(rows, cols int) gocv.Mat {
	p.mu.Lock()
	for len(p.free) > 0 {
		m := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		if m.Rows() == rows && m.Cols() == cols {
			p.mu.Unlock()
			return m
		}
		m.Close() // the stream changed size
	}
	p.mu.Unlock()
	return gocv.NewMatWithSize(rows, cols, gocv.MatTypeCV8UC3)
}

func (p *matPool) put(m gocv.Mat) {
	if m.Ptr() == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.free) >= poolMax || m.Empty() || m.Type() != gocv.MatTypeCV8UC3 {
		m.Close()
		return
	}
	p.free = append(p.free, m)
}

// close frees the idle Mats; Mats returned later are freed at once.
func (p *matPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, m := range p.free {
		m.Close()
	}
	p.free = nil
}
