// Package mats recycles gocv Mats: decoded frames and the scheduler's frame
// copies reuse their pixels instead of asking the C allocator for a few
// megabytes a frame, which fragments the heap of a process that runs for a
// shift.
package mats

import (
	"image"
	"sync"

	"gocv.io/x/gocv"
)

// Pool recycles 8-bit BGR Mats, so a steady state allocates no pixels.
// Mats come back with Put, possibly from another goroutine and possibly
// after Close. The zero value is ready to use.
type Pool struct {
	mu     sync.Mutex
	free   []gocv.Mat
	closed bool
}

// poolMax bounds the idle Mats: one in the live slot, one being decoded and
// a couple held by the consumer or being analysed cover every steady state.
const poolMax = 4

// Get returns a continuous 8UC3 Mat of the given size.
func (p *Pool) Get(rows, cols int) gocv.Mat {
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

// Copy returns a copy of src in a recycled Mat (a plain clone when src is
// not 8-bit BGR).
func (p *Pool) Copy(src gocv.Mat) gocv.Mat {
	if src.Type() != gocv.MatTypeCV8UC3 {
		return src.Clone()
	}
	m := p.Get(src.Rows(), src.Cols())
	src.CopyTo(&m)
	return m
}

// Put gives m back; past poolMax idle Mats, or after Close, it is freed.
func (p *Pool) Put(m gocv.Mat) {
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

// Close frees the idle Mats; Mats returned later are freed at once.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, m := range p.free {
		m.Close()
	}
	p.free = nil
}

// Crop returns a copy of m, or of the part of it inside r when r is not
// empty (a region smaller than 8×8 counts as empty). The caller closes it.
func Crop(m gocv.Mat, r image.Rectangle) gocv.Mat {
	r = r.Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if r.Dx() < 8 || r.Dy() < 8 {
		return m.Clone()
	}
	roi := m.Region(r)
	defer roi.Close()
	return roi.Clone()
}
