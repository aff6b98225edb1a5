package clip

import (
	"errors"
	"time"

	"github.com/sightline/sightline/internal/pipeline"
	"github.com/sightline/sightline/video"
)

// Output attaches clips to a pipeline: p.Attach("clips", c.Output(annotated)).
// The pipeline closes its outputs at the end of a run, before the
// summary, so every clip is finalised and its event published first, on
// Ctrl-C too; a clip that failed during the run makes the run's summary
// list "clips" among its output errors.
//
// Plain clips copy the source's packets: set video.Options.Packets to c
// as well, and WriteFrame does nothing. Annotated clips (annotated true;
// leave video.Options.Packets unset) are the frames as drawn, overlay and
// all, encoded once more as they are shown (every frame shown: the frame
// loop waits for the encoder when it is behind, as it does for a
// recording): that costs drawing every frame and an H.264 encoder running
// all the time, hence off by default.
func (c *Clips) Output(annotated bool) pipeline.FrameOutput {
	return &output{c: c, annotated: annotated}
}

type output struct {
	c         *Clips
	annotated bool
	enc       *video.PacketEncoder // annotated: started at the first frame, at its rate
}

func (o *output) WriteFrame(f *pipeline.Frame) error {
	if !o.annotated || f.Repeat {
		return nil
	}
	if o.enc == nil {
		o.enc = video.NewPacketEncoder(o.c, f.FPS)
	}
	o.enc.EncodeWait(f.Drawn(), f.PTS)
	return nil
}

// Close ends the annotated stream, finalises the clips and returns the
// last clip failure.
func (o *output) Close() error {
	var err error
	if o.enc != nil {
		err = o.enc.Close()
	}
	return errors.Join(err, o.c.Close())
}

// ClipFor asks for a clip around at for an alert and returns its file, for
// the alert event's "clip" field ("" when none can be written; the
// output_error says why).
func (o *output) ClipFor(reason string, at time.Duration) string {
	file, _ := o.c.Trigger(reason, at)
	return file
}
