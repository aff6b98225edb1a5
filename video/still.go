package video

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/internal/imagefile"
)

// isPicture reports whether path starts like an image file Sightline
// decodes itself (JPEG, PNG, BMP, WEBP, TIFF, PNM): those open as stills
// through the same decoder, size limits and EXIF orientation as `analyze`.
// GIFs go to FFmpeg, which plays an animated one.
func isPicture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false // Open's file reader says why
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	format, ok := imagefile.Sniff(head[:n])
	return ok && format.Decodable()
}

// stillSource is a picture file: one frame, then io.EOF.
type stillSource struct {
	info  Info
	opts  Options
	frame *Frame // until delivered
	read  atomic.Int64
	done  bool
}

func openStill(path string, opts Options) (*stillSource, error) {
	b, err := imagefile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	m, h, err := imagefile.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	s := &stillSource{
		info:  Info{URI: path, Width: m.Cols(), Height: m.Rows(), Still: true},
		opts:  opts,
		frame: &Frame{Mat: m, Arrived: time.Now()},
	}
	report(opts.OnStatus, StatePlaying, fmt.Sprintf("%s (%dx%d still image)", path, m.Cols(), m.Rows()))
	if h.Truncated {
		report(opts.OnStatus, StatePlaying, fmt.Sprintf("damaged input: image is truncated: the %s ends before its image data; decoded what was there", h.Format))
	}
	return s, nil
}

func (s *stillSource) Info() Info   { return s.info }
func (s *stillSource) Stats() Stats { return Stats{Read: s.read.Load()} }

// Next delivers the picture once, then io.EOF.
func (s *stillSource) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f := s.frame; f != nil {
		s.frame = nil
		s.read.Store(1)
		return f, nil
	}
	if !s.done {
		s.done = true
		report(s.opts.OnStatus, StateEOF, "still image: 1 frame")
	}
	return nil, io.EOF
}

func (s *stillSource) Close() error {
	s.frame.Release()
	s.frame = nil
	return nil
}
