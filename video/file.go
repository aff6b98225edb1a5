package video

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"gocv.io/x/gocv"
)

// fileSource reads a video file with OpenCV, every frame in order.
type fileSource struct {
	cap   *gocv.VideoCapture
	info  Info
	opts  Options
	stats Stats
	start time.Time
	eof   bool
}

func openFile(path string, opts Options) (*fileSource, error) {
	st, err := os.Stat(path)
	if err != nil {
		report(opts.OnStatus, StateError, err.Error())
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("opening %s: is a directory", path)
	}
	c, err := gocv.OpenVideoCaptureWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil || !c.IsOpened() {
		if c != nil {
			c.Close()
		}
		report(opts.OnStatus, StateError, "not a readable video")
		return nil, fmt.Errorf("opening %s: not a video file FFmpeg can read", path)
	}
	s := &fileSource{cap: c, opts: opts, info: Info{
		URI:    path,
		Width:  int(c.Get(gocv.VideoCaptureFrameWidth)),
		Height: int(c.Get(gocv.VideoCaptureFrameHeight)),
		FPS:    c.Get(gocv.VideoCaptureFPS),
	}}
	return s, nil
}

func (s *fileSource) Info() Info   { return s.info }
func (s *fileSource) Stats() Stats { return s.stats }

func (s *fileSource) Next(ctx context.Context) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.eof {
		return nil, io.EOF
	}
	m := gocv.NewMat()
	if !s.cap.Read(&m) || m.Empty() {
		m.Close()
		s.eof = true
		if s.stats.Read == 0 {
			report(s.opts.OnStatus, StateError, "no frame could be decoded")
			return nil, fmt.Errorf("%s: no frame could be decoded", s.info.URI)
		}
		report(s.opts.OnStatus, StateEOF, fmt.Sprintf("%d frames", s.stats.Read))
		return nil, io.EOF
	}
	f := &Frame{Seq: s.stats.Read, Mat: m, Arrived: time.Now()}
	f.PTS = time.Duration(s.cap.Get(gocv.VideoCapturePosMsec) * float64(time.Millisecond))
	if s.stats.Read == 0 {
		s.start = f.Arrived
		report(s.opts.OnStatus, StatePlaying, s.info.URI)
	}
	s.stats.Read++
	if s.opts.Realtime && s.info.FPS > 0 {
		due := s.start.Add(time.Duration(float64(f.Seq) / s.info.FPS * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				m.Close()
				return nil, ctx.Err()
			}
		}
	}
	return f, nil
}

func (s *fileSource) Close() error { return s.cap.Close() }
