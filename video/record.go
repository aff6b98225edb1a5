package video

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"
)

// Recorder writes Mats to an MP4 file (H.264 through libx264 when FFmpeg
// has it, else MPEG-4 part 2). The MP4 is fragmented: the index comes
// first and every second of video follows as a self-contained fragment
// written out at once, so a process killed mid-recording, or a disk that
// fills, leaves a file that plays up to its last complete fragment. Close
// finishes the file. Its methods may be called from different goroutines.
type Recorder struct {
	mu       sync.Mutex
	path     string
	out      *FileSink // the file
	fc       *astiav.FormatContext
	enc      *astiav.CodecContext
	st       *astiav.Stream
	pb       *astiav.IOContext
	frame    *astiav.Frame
	pkt      *astiav.Packet
	sc       scaler
	tick     time.Duration // encoder time base
	frameDur int64         // one frame, in ticks
	last     int64         // last pts written, in ticks
	offset   time.Duration // shifts input timestamps that went backwards (a reconnect)
	written  int64
	failed   error // returned by every Write after the first failure
	closed   bool
}

// recordTimeBase is the encoder clock: milliseconds keep every codec happy
// (MPEG-4 part 2 needs a denominator under 2^16).
var recordTimeBase = astiav.NewRational(1, 1000)

// fragmentOptions make the MP4 muxer write an empty index first and then
// fragments of at most a second (cut early at keyframes), each complete
// in itself.
var fragmentOptions = map[string]string{
	"movflags":      "+frag_keyframe+empty_moov+default_base_moof",
	"frag_duration": "1000000", // µs
}

// NewRecorder creates path and prepares to encode width×height frames at
// nominal rate fps (used for frames without usable timestamps).
func NewRecorder(path string, width, height int, fps float64) (*Recorder, error) {
	return newRecorder(path, width, height, fps, func(p string) (io.WriteCloser, error) { return os.Create(p) })
}

// newRecorder is NewRecorder writing through create's file, which tests
// make fail as a full disk would.
func newRecorder(path string, width, height int, fps float64, create func(string) (io.WriteCloser, error)) (_ *Recorder, err error) {
	installLog()
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("recording %s: bad size %dx%d", path, width, height)
	}
	if fps <= 0 || math.IsNaN(fps) || fps > 1000 {
		fps = 25
	}
	// Encoders of 4:2:0 video want even sizes.
	width, height = width&^1, height&^1
	r := &Recorder{path: path, tick: time.Millisecond, last: -1}
	r.frameDur = max(1, int64(math.Round(1000/fps)))
	defer func() {
		if err != nil {
			r.free()
			os.Remove(path)
		}
	}()
	format := ""
	if strings.ToLower(filepath.Ext(path)) != ".mp4" {
		format = "mp4"
	}
	if r.fc, err = astiav.AllocOutputFormatContext(nil, format, path); err != nil || r.fc == nil {
		return nil, fmt.Errorf("recording %s: no MP4 muxer: %v", path, err)
	}
	track(1)
	if err := r.openEncoder(width, height, fps); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	if err := r.openOutput(create); err != nil {
		return nil, err
	}
	r.frame, r.pkt = astiav.AllocFrame(), astiav.AllocPacket()
	track(2)
	if err := allocYUV(r.frame, width, height); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	return r, nil
}

// openEncoder opens the video encoder and adds its stream.
func (r *Recorder) openEncoder(width, height int, fps float64) error {
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		codec = astiav.FindEncoder(astiav.CodecIDMpeg4)
	}
	if codec == nil {
		return errors.New("FFmpeg has neither libx264 nor an MPEG-4 encoder")
	}
	if r.enc = astiav.AllocCodecContext(codec); r.enc == nil {
		return errors.New("allocating encoder failed")
	}
	track(1)
	r.enc.SetWidth(width)
	r.enc.SetHeight(height)
	r.enc.SetPixelFormat(astiav.PixelFormatYuv420P)
	r.enc.SetTimeBase(recordTimeBase)
	r.enc.SetFramerate(astiav.NewRational(int(math.Round(fps*1000)), 1000))
	r.enc.SetGopSize(int(math.Round(fps * 2)))
	r.enc.SetThreadCount(0)
	if r.fc.OutputFormat().Flags().Has(astiav.IOFormatFlagGlobalheader) {
		r.enc.SetFlags(r.enc.Flags().Add(astiav.CodecContextFlagGlobalHeader))
	}
	opts := astiav.NewDictionary()
	defer opts.Free()
	if codec.Name() == "libx264" {
		opts.Set("preset", "veryfast", 0)
		opts.Set("crf", "23", 0)
	} else {
		r.enc.SetBitRate(int64(width * height * 4)) // ≈ 4 bits a pixel a second
	}
	if err := r.enc.Open(codec, opts); err != nil {
		return fmt.Errorf("opening %s encoder: %w", codec.Name(), err)
	}
	if r.st = r.fc.NewStream(nil); r.st == nil {
		return errors.New("adding the video stream failed")
	}
	if err := r.st.CodecParameters().FromCodecContext(r.enc); err != nil {
		return err
	}
	r.st.SetTimeBase(recordTimeBase)
	return nil
}

// openOutput creates the file and writes the MP4 header. FFmpeg writes
// through a Go callback, so a failed write keeps its cause (ENOSPC) and the
// output is not seekable: nothing already written is ever rewritten.
func (r *Recorder) openOutput(create func(string) (io.WriteCloser, error)) error {
	out, err := create(r.path)
	if err != nil {
		return fmt.Errorf("recording %s: %w", r.path, err)
	}
	r.out = NewFileSink(out)
	if r.pb, err = astiav.AllocIOContext(64<<10, true, nil, nil, r.out.Write); err != nil {
		return fmt.Errorf("recording %s: %w", r.path, err)
	}
	r.fc.SetPb(r.pb)
	d := astiav.NewDictionary()
	defer d.Free()
	for k, v := range fragmentOptions {
		if err := d.Set(k, v, 0); err != nil {
			return fmt.Errorf("recording %s: setting %s: %w", r.path, k, err)
		}
	}
	if err := r.fc.WriteHeader(d); err != nil {
		return r.failure("writing the header", err)
	}
	return r.flush("writing the header")
}

// flush hands what FFmpeg buffered to the file, so that a fragment is on
// disk as soon as the muxer completes it.
func (r *Recorder) flush(op string) error {
	r.pb.Flush()
	if r.out.err != nil {
		return r.failure(op, r.out.err)
	}
	return nil
}

// failure wraps err, naming a full disk for what it is; the cause of a
// failed write is the file's error, not FFmpeg's.
func (r *Recorder) failure(op string, err error) error {
	if r.out != nil && r.out.err != nil {
		err = r.out.err
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("recording %s: the disk is full (ENOSPC) after %d frames; the file plays up to its last complete second: %w", r.path, r.written, err)
	}
	return fmt.Errorf("recording %s: %s: %w", r.path, op, err)
}

// Write encodes frame (8-bit BGR, BGRA or gray, scaled if its size differs)
// at presentation time pts. Timestamps that do not increase are moved just
// past the previous frame, so a source that restarted its clock (after a
// reconnect) still records in order. After a failed write to the file
// (a full disk), every Write returns that failure: the recording stopped.
func (r *Recorder) Write(frame gocv.Mat, pts time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("recording %s: already closed", r.path)
	}
	if r.failed != nil {
		return r.failed
	}
	if frame.Ptr() == nil || frame.Empty() {
		return fmt.Errorf("recording %s: empty frame", r.path)
	}
	if err := r.sc.fromMat(frame, r.frame); err != nil {
		return fmt.Errorf("recording %s: %w", r.path, err)
	}
	ts := int64((pts + r.offset) / r.tick)
	if ts <= r.last {
		next := r.last + r.frameDur
		r.offset += time.Duration(next-ts) * r.tick
		ts = next
	}
	r.last = ts
	r.frame.SetPts(ts)
	if err := r.enc.SendFrame(r.frame); err != nil {
		return fmt.Errorf("recording %s: encoding: %w", r.path, err)
	}
	r.written++
	if err := r.drain(); err != nil {
		r.failed = err
		return err
	}
	return nil
}

// drain writes the packets the encoder has ready.
func (r *Recorder) drain() error {
	for {
		err := r.enc.ReceivePacket(r.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return r.flush("writing")
		}
		if err != nil {
			return fmt.Errorf("recording %s: encoding: %w", r.path, err)
		}
		if r.pkt.Duration() <= 0 {
			// Without it the MP4's last sample has no length and players drop it.
			r.pkt.SetDuration(r.frameDur)
		}
		r.pkt.RescaleTs(r.enc.TimeBase(), r.st.TimeBase())
		r.pkt.SetStreamIndex(r.st.Index())
		err = r.fc.WriteInterleavedFrame(r.pkt) // takes the packet's data
		r.pkt.Unref()
		if err != nil {
			return r.failure("writing", err)
		}
	}
}

// Frames is the number of frames written.
func (r *Recorder) Frames() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.written
}

// Close flushes the encoder, writes the last fragment and the fragment
// index, and closes the file. After a failed Write it only releases the
// recorder: the failure was returned then, and the file plays up to it.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	defer r.free()
	if r.failed != nil {
		return nil
	}
	var errs []error
	if err := r.enc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		errs = append(errs, fmt.Errorf("recording %s: flushing: %w", r.path, err))
	}
	errs = append(errs, r.drain())
	if err := r.fc.WriteTrailer(); err != nil {
		errs = append(errs, r.failure("writing the index", err))
	} else if err := r.flush("writing the index"); err != nil {
		errs = append(errs, err)
	}
	if err := r.out.Close(); err != nil {
		errs = append(errs, fmt.Errorf("recording %s: %w", r.path, err))
	}
	return errors.Join(errs...)
}

func (r *Recorder) free() {
	r.sc.free()
	if r.frame != nil {
		r.frame.Free()
		r.pkt.Free()
		track(-2)
		r.frame, r.pkt = nil, nil
	}
	if r.enc != nil {
		r.enc.Free()
		track(-1)
		r.enc = nil
	}
	if r.pb != nil {
		// A custom context: Free, not Close, which would take FFmpeg's
		// opaque pointer for a URL context.
		r.pb.Free()
		r.pb = nil
	}
	if r.out != nil {
		if r.out.file != nil { // not closed by Close
			r.out.Close()
		}
		r.out = nil
	}
	if r.fc != nil {
		r.fc.Free()
		track(-1)
		r.fc = nil
	}
}

// SaveSnapshot writes the clean and the annotated picture of frame seq as
// PNGs in dir (created if needed) and returns their paths. Each file is
// written under a temporary name and renamed, so readers never see half a
// picture.
func SaveSnapshot(dir string, seq int64, clean, annotated gocv.Mat) (cleanPath, annotatedPath string, err error) {
	return SaveSnapshotAs(dir, fmt.Sprintf("frame-%06d-%s", seq, time.Now().Format("20060102-150405")), clean, annotated)
}

// SaveSnapshotAs is SaveSnapshot under the name base (base-clean.png and
// base-annotated.png).
func SaveSnapshotAs(dir, base string, clean, annotated gocv.Mat) (cleanPath, annotatedPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("snapshot: %w", err)
	}
	cleanPath = filepath.Join(dir, base+"-clean.png")
	annotatedPath = filepath.Join(dir, base+"-annotated.png")
	for _, w := range []struct {
		path string
		m    gocv.Mat
	}{{cleanPath, clean}, {annotatedPath, annotated}} {
		if w.m.Ptr() == nil || w.m.Empty() {
			return "", "", fmt.Errorf("snapshot %s: empty picture", w.path)
		}
		tmp := strings.TrimSuffix(w.path, ".png") + ".tmp.png"
		// Encoded here and written by Go, so that a failed write says why
		// (a full disk), which IMWrite's bool cannot.
		buf, err := gocv.IMEncode(gocv.PNGFileExt, w.m)
		if err != nil {
			return "", "", fmt.Errorf("snapshot %s: encoding the PNG: %w", w.path, err)
		}
		err = os.WriteFile(tmp, buf.GetBytes(), 0o644)
		buf.Close()
		if err != nil {
			os.Remove(tmp)
			return "", "", fmt.Errorf("snapshot: %w", err)
		}
		if err := os.Rename(tmp, w.path); err != nil {
			os.Remove(tmp)
			return "", "", fmt.Errorf("snapshot: %w", err)
		}
	}
	return cleanPath, annotatedPath, nil
}
