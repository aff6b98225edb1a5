package video

import (
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/asticode/go-astiav"
)

// FileSink is where FFmpeg's write callback (astiav.AllocIOContext) puts a
// file's bytes: the file, and the first failed write's cause, which
// FFmpeg's error code alone would lose (a full disk's ENOSPC). go-astiav
// keeps every callback for the life of the process, so the callback
// should hold this small value, not its owner; Close lets go of the file.
type FileSink struct {
	file io.WriteCloser
	err  error
}

// NewFileSink writes to file.
func NewFileSink(file io.WriteCloser) *FileSink { return &FileSink{file: file} }

// Write is the write callback. After a failure it fails at once, so a
// muxer stops writing.
func (s *FileSink) Write(b []byte) (int, error) {
	if s.err != nil {
		return 0, astiav.ErrEio
	}
	n, err := s.file.Write(b)
	if err == nil {
		return n, nil
	}
	s.err = err
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return n, astiav.Error(-int(errno)) // AVERROR(errno)
	}
	return n, astiav.ErrEio
}

// Err is the first failed write's cause.
func (s *FileSink) Err() error { return s.err }

// Close syncs a file on disk (what was written is there when Close
// returns) and closes it; closing again does nothing.
func (s *FileSink) Close() error {
	if s.file == nil {
		return nil
	}
	var err error
	if f, ok := s.file.(*os.File); ok {
		err = f.Sync()
	}
	err = errors.Join(err, s.file.Close())
	s.file = nil
	return err
}
