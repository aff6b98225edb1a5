package video

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"
)

// Recorder writes Mats to an MP4 file (H.264 through libx264 when FFmpeg
// has it, else MPEG-4 part 2). Close finalises the file; a recording
// that is closed after its context was cancelled is still playable.
// Its methods may be called from different goroutines.
type Recorder struct {
	mu       sync.Mutex
	path     string
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
	closed   bool
}

// recordTimeBase is the encoder clock: milliseconds keep every codec happy
// (MPEG-4 part 2 needs a denominator under 2^16).
var recordTimeBase = astiav.NewRational(1, 1000)

// NewRecorder creates path and prepares to encode width×height frames at
// nominal rate fps (used for frames without usable timestamps).
func NewRecorder(path string, width, height int, fps float64) (_ *Recorder, err error) {
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
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		codec = astiav.FindEncoder(astiav.CodecIDMpeg4)
	}
	if codec == nil {
		return nil, fmt.Errorf("recording %s: FFmpeg has neither libx264 nor an MPEG-4 encoder", path)
	}
	if r.enc = astiav.AllocCodecContext(codec); r.enc == nil {
		return nil, errors.New("allocating encoder failed")
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
		return nil, fmt.Errorf("recording %s: opening %s encoder: %w", path, codec.Name(), err)
	}
	if r.st = r.fc.NewStream(nil); r.st == nil {
		return nil, errors.New("adding the video stream failed")
	}
	if err := r.st.CodecParameters().FromCodecContext(r.enc); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	r.st.SetTimeBase(recordTimeBase)
	if r.pb, err = astiav.OpenIOContext(path, astiav.NewIOContextFlags(astiav.IOContextFlagWrite)); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	r.fc.SetPb(r.pb)
	if err := r.fc.WriteHeader(nil); err != nil {
		return nil, fmt.Errorf("recording %s: writing the header: %w", path, err)
	}
	r.frame, r.pkt = astiav.AllocFrame(), astiav.AllocPacket()
	track(2)
	r.frame.SetWidth(width)
	r.frame.SetHeight(height)
	r.frame.SetPixelFormat(astiav.PixelFormatYuv420P)
	if err := r.frame.AllocBuffer(0); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	return r, nil
}

// Write encodes frame (8-bit BGR, BGRA or gray, scaled if its size differs)
// at presentation time pts. Timestamps that do not increase are moved just
// past the previous frame, so a source that restarted its clock (after a
// reconnect) still records in order.
func (r *Recorder) Write(frame gocv.Mat, pts time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("recording %s: already closed", r.path)
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
	return r.drain()
}

// drain writes the packets the encoder has ready.
func (r *Recorder) drain() error {
	for {
		err := r.enc.ReceivePacket(r.pkt)
		if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
			return nil
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
			return fmt.Errorf("recording %s: writing: %w", r.path, err)
		}
	}
}

// Frames is the number of frames written.
func (r *Recorder) Frames() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.written
}

// Close flushes the encoder, writes the MP4 index and closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	defer r.free()
	var errs []error
	if err := r.enc.SendFrame(nil); err != nil && !errors.Is(err, astiav.ErrEof) {
		errs = append(errs, fmt.Errorf("recording %s: flushing: %w", r.path, err))
	}
	errs = append(errs, r.drain())
	if err := r.fc.WriteTrailer(); err != nil {
		errs = append(errs, fmt.Errorf("recording %s: writing the index: %w", r.path, err))
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
		r.pb.Close()
		r.pb = nil
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
		if !gocv.IMWrite(tmp, w.m) {
			os.Remove(tmp)
			return "", "", fmt.Errorf("snapshot %s: writing the PNG failed", w.path)
		}
		if err := os.Rename(tmp, w.path); err != nil {
			os.Remove(tmp)
			return "", "", fmt.Errorf("snapshot: %w", err)
		}
	}
	return cleanPath, annotatedPath, nil
}
