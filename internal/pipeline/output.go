package pipeline

import (
	"errors"
	"fmt"
	"io"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer/schedule"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/stages"
	"github.com/sightline/sightline/internal/text"
	"github.com/sightline/sightline/overlay"
)

// FrameOutput takes the frames the pipeline shows: the app's display, a
// recording, snapshots, the bench's meters. WriteFrame runs on the
// pipeline's goroutine and should be quick; an error means the output has
// failed: the pipeline detaches it, says so in an output_error event and
// the summary, and goes on.
type FrameOutput interface {
	WriteFrame(f *Frame) error
}

// FrameFunc adapts a function to a FrameOutput.
type FrameFunc func(f *Frame) error

// WriteFrame calls fn.
func (fn FrameFunc) WriteFrame(f *Frame) error { return fn(f) }

// Frame is one frame as the outputs get it. Clean and the Mat Drawn
// returns stay the pipeline's: read them during WriteFrame, copy what you
// keep.
type Frame struct {
	Seq     int64
	PTS     time.Duration
	Arrived time.Time
	Clean   gocv.Mat
	FPS     float64 // the source's nominal rate; 0 when unknown
	View    View
	Filter  overlay.Filter
	// Repeat marks the held frame handed out again (paused and redrawn, a
	// snapshot while paused): not a new picture, so recordings skip it.
	Repeat bool
	// Offered says which backends are analysing this frame: its results
	// come later, as analysis events of this Seq (the capture output waits
	// for them).
	Offered schedule.Offered

	p     *Pipeline
	drawn bool
}

// Drawn returns the frame with the overlay drawn on it. The drawing is
// done on the first call, so frames nobody looks at cost no drawing.
func (f *Frame) Drawn() gocv.Mat {
	p := f.p
	if !f.drawn {
		span := stages.Begin()
		defer span.End(stages.Draw)
		if p.drawn.Ptr() == nil {
			p.drawn = gocv.NewMat()
		}
		f.Clean.CopyTo(&p.drawn)
		overlay.Draw(&p.drawn, f.View.Analysis, f.Filter)
		// Track IDs are in the boxes' labels, placed with them.
		overlay.DrawScene(&p.drawn, f.View.Scene, overlay.SceneOptions{HideIDs: true, HideTrails: f.Filter.HideTrails})
		overlay.DrawInspections(&p.drawn, f.View.Inspect)
		f.drawn = true
	}
	return p.drawn
}

// writeOutputs hands f to every output, detaching the ones that fail.
func (p *Pipeline) writeOutputs(f *Frame) {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	for i := 0; i < len(p.outputs); {
		o := p.outputs[i]
		if err := writeFrame(o.out, f); err != nil {
			p.outputs = append(p.outputs[:i], p.outputs[i+1:]...)
			p.failLocked(o.name, errors.Join(err, closeOutput(o.out)))
			continue
		}
		i++
	}
}

// writeFrame calls the output, turning a panic into its failure.
func writeFrame(out FrameOutput, f *Frame) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("crashed: %v", r)
		}
	}()
	return out.WriteFrame(f)
}

// failLocked records that an output failed and says so.
func (p *Pipeline) failLocked(name string, err error) {
	msg := text.OneLine(err.Error(), 0)
	p.failed[name] = msg
	p.bus.Publish(&event.OutputError{Header: event.Header{Type: event.TypeOutputError}, Output: name, Error: msg})
}

// closeOutputs closes every output at the end of a run.
func (p *Pipeline) closeOutputs() {
	p.outMu.Lock()
	defer p.outMu.Unlock()
	for _, o := range p.outputs {
		if err := closeOutput(o.out); err != nil {
			p.failLocked(o.name, err)
		}
	}
	p.outputs = nil
	if p.drawn.Ptr() != nil {
		p.drawn.Close()
		p.drawn = gocv.Mat{}
	}
}

func closeOutput(out FrameOutput) error {
	if c, ok := out.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
