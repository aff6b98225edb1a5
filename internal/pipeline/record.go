package pipeline

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/overlay"
	"github.com/sightline/sightline/video"
)

// Recording writes what is drawn to an MP4 file (`run --out`, the app's
// Record button). Its clock starts at its first frame, whatever the
// source's timestamps. Close finalises the file.
type Recording struct {
	path string

	rec      *video.Recorder
	first    time.Duration
	duration atomic.Int64 // of what is written, for the app's REC timer
}

// NewRecording records to path.
func NewRecording(path string) *Recording { return &Recording{path: path} }

// Path is the file being written.
func (r *Recording) Path() string { return r.path }

// Duration is how much video has been written.
func (r *Recording) Duration() time.Duration { return time.Duration(r.duration.Load()) }

// WriteFrame encodes the drawn frame; redraws of a paused frame are not
// new pictures and are skipped.
func (r *Recording) WriteFrame(f *Frame) error {
	if f.Repeat {
		return nil
	}
	if r.rec == nil {
		// The source's rate times frames without usable timestamps (the
		// recorder takes 25 when it is unknown).
		rec, err := video.NewRecorder(r.path, f.Clean.Cols(), f.Clean.Rows(), f.FPS)
		if err != nil {
			return err
		}
		r.rec, r.first = rec, f.PTS
	}
	pts := max(0, f.PTS-r.first)
	if err := r.rec.Write(f.Drawn(), pts); err != nil {
		return err
	}
	r.duration.Store(int64(pts))
	return nil
}

// Close finalises the recording so that it plays, also after Ctrl-C.
func (r *Recording) Close() error {
	if r.rec == nil {
		return nil
	}
	return r.rec.Close()
}

// Snapshots saves a clean and an annotated PNG of a frame: when asked
// (SIGUSR1, the app's S key) and every Every of video time. With the
// filter's face blurring on, the clean picture is blurred too.
type Snapshots struct {
	dir    string
	every  time.Duration
	bus    *event.Bus
	wanted atomic.Int32

	mu       sync.Mutex
	last     time.Duration
	taken    bool
	reserved []string // names promised to alerts, for the next frame
}

// NewSnapshots saves into dir, every `every` when it is positive; bus
// hears of each snapshot saved.
func NewSnapshots(dir string, every time.Duration, bus *event.Bus) *Snapshots {
	return &Snapshots{dir: dir, every: every, bus: bus}
}

// SetDir changes the folder of the next snapshots.
func (s *Snapshots) SetDir(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir = dir
}

// Request asks for a snapshot of the next frame handed out; a paused
// pipeline must also be asked to Redraw.
func (s *Snapshots) Request() { s.wanted.Add(1) }

// Reserve promises a snapshot of the next frame to an alert and returns
// the annotated picture's path; the files appear when that frame is drawn.
func (s *Snapshots) Reserve(reason string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := "alert-" + time.Now().Format("20060102-150405.000") + "-" + fileSafe(reason)
	s.reserved = append(s.reserved, base)
	return filepath.Join(s.dir, base+"-annotated.png")
}

// WriteFrame saves the frame when a snapshot is due.
func (s *Snapshots) WriteFrame(f *Frame) error {
	s.mu.Lock()
	periodic := !f.Repeat && s.every > 0 && (!s.taken || f.PTS-s.last >= s.every)
	requested := s.wanted.Load() > 0
	reserved := s.reserved
	s.reserved = nil
	if !periodic && !requested && len(reserved) == 0 {
		s.mu.Unlock()
		return nil
	}
	if requested {
		s.wanted.Add(-1)
	}
	if periodic || requested {
		s.taken, s.last = true, f.PTS
	}
	dir := s.dir
	s.mu.Unlock()
	clean := f.Clean
	if f.Filter.BlurFaces && f.View.Analysis != nil {
		clean = f.Clean.Clone()
		defer clean.Close()
		overlay.Draw(&clean, &analyzer.Analysis{Faces: f.View.Faces}, overlay.Filter{BlurFaces: true, HideFaces: true})
	}
	for _, base := range reserved {
		if _, _, err := video.SaveSnapshotAs(dir, base, clean, f.Drawn()); err != nil {
			return err
		}
	}
	if !periodic && !requested {
		return nil
	}
	_, annotated, err := video.SaveSnapshot(dir, f.Seq, clean, f.Drawn())
	if err != nil {
		return err
	}
	s.bus.Publish(&event.Snapshot{Header: event.Header{Type: event.TypeSnapshot}, Frame: f.Seq, Path: annotated})
	return nil
}

// fileSafe keeps letters, digits and dashes of s for a file name.
func fileSafe(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}
