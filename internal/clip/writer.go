package clip

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/video"
)

// fragmentOptions make the MP4 muxer write fragments of about a second,
// each complete in itself, so a process killed mid-clip leaves a .part
// file that plays up to its last fragment. delay_moov writes the index
// once the first fragment is known, so a stream with B-frames still
// starts at 0 (with empty_moov alone it starts at the first picture's
// reordering delay).
var fragmentOptions = map[string]string{
	"movflags":      "+frag_keyframe+empty_moov+delay_moov+default_base_moof",
	"frag_duration": "1000000", // µs
}

// errEmpty: the stream ended before the clip had a keyframe to start on.
var errEmpty = errors.New("no keyframe arrived before the video ended")

// write is a clip's goroutine: it writes the clip's packets as they come,
// then finalises the file and says so.
func (c *Clips) write(cl *clip) {
	defer c.wg.Done()
	w := cl.w
	var err error
	for more := true; more && err == nil; {
		var batch []entry
		batch, more = c.take(cl)
		for _, e := range batch {
			if err == nil {
				err = w.write(e)
			}
			e.free()
		}
	}
	if err != nil {
		c.stop(cl)
	} else {
		err = w.finish()
	}
	w.free()
	c.finished(cl, err)
}

// take waits for packets for cl and takes them; more is false once the
// clip is complete and these are its last.
func (c *Clips) take(cl *clip) (batch []entry, more bool) {
	for {
		c.mu.Lock()
		batch, done := cl.queue, cl.done
		cl.queue = nil
		c.mu.Unlock()
		if len(batch) > 0 || done {
			return batch, !done
		}
		<-cl.wake
	}
}

// stop makes a failed clip take no more packets and frees those queued.
func (c *Clips) stop(cl *clip) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl.done = true
	for _, e := range cl.queue {
		e.free()
	}
	cl.queue = nil
}

// finished says a clip was written, or why not.
func (c *Clips) finished(cl *clip, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.names, cl.file)
	if err != nil {
		c.fail(fmt.Errorf("clip %s for %q not written: %w", filepath.Base(cl.file), cl.reason, err))
		return
	}
	c.stats.Written++
	if c.cfg.Events != nil {
		c.cfg.Events.Publish(&event.Clip{Header: event.Header{Type: event.TypeClip}, File: cl.file, Reason: cl.reason,
			PreS: seconds(cl.at - cl.w.first), PostS: seconds(cl.w.last - cl.at)})
	}
}

// seconds rounds d to milliseconds, in seconds; never negative.
func seconds(d time.Duration) float64 {
	return float64(max(0, d).Round(time.Millisecond)) / float64(time.Second)
}

// writer muxes one clip's packets into its file, stream copy.
type writer struct {
	path, part string
	create     func(string) (io.WriteCloser, error)
	params     *astiav.CodecParameters // the clip's copy
	tb         astiav.Rational

	out *video.FileSink
	fc  *astiav.FormatContext
	pb  *astiav.IOContext
	st  *astiav.Stream

	started     bool
	origin      int64         // pts of the first keyframe, which becomes 0
	lastDTS     int64         // of the last packet written, rebased
	packets     int           // written
	first, last time.Duration // the clip's span on the frames' timeline
	finalised   bool
}

func newWriter(path string, s *stream, create func(string) (io.WriteCloser, error)) (*writer, error) {
	params, err := copyParams(s.params)
	if err != nil {
		return nil, fmt.Errorf("copying the codec parameters: %w", err)
	}
	return &writer{path: path, part: path + ".part", create: create, params: params, tb: s.tb}, nil
}

// write muxes e; the clip starts at its first keyframe, and pictures
// shown before that keyframe (an open GOP's leading pictures, whose
// references are not in the clip) are left out.
func (w *writer) write(e entry) error {
	if !w.started {
		if !e.key {
			return nil
		}
		if err := w.open(); err != nil {
			return err
		}
		w.started, w.origin, w.first = true, e.pkt.Pts(), e.pts
	}
	p := e.pkt
	if p.Pts() < w.origin {
		return nil
	}
	w.last = max(w.last, e.pts+e.dur)
	p.SetPts(p.Pts() - w.origin)
	p.SetDts(p.Dts() - w.origin)
	if w.packets > 0 && p.Dts() <= w.lastDTS { // a damaged stream's: the muxer refuses them
		p.SetDts(w.lastDTS + 1)
	}
	p.SetPts(max(p.Pts(), p.Dts()))
	w.lastDTS = p.Dts()
	w.packets++
	p.SetStreamIndex(w.st.Index())
	p.SetPos(-1)
	p.RescaleTs(w.tb, w.st.TimeBase())
	if err := w.fc.WriteInterleavedFrame(p); err != nil { // takes p's data
		return w.failure("writing", err)
	}
	return nil
}

// open creates the .part file and writes the MP4 header.
func (w *writer) open() error {
	fc, err := astiav.AllocOutputFormatContext(nil, "mp4", w.path)
	if err != nil || fc == nil {
		return fmt.Errorf("no MP4 muxer: %v", err)
	}
	w.fc = fc
	avObjects.Add(1)
	if w.st = fc.NewStream(nil); w.st == nil {
		return errors.New("adding the video stream failed")
	}
	if err := w.params.Copy(w.st.CodecParameters()); err != nil {
		return err
	}
	w.st.CodecParameters().SetCodecTag(0) // the source container's tag may not be MP4's
	w.st.SetTimeBase(w.tb)
	file, err := w.create(w.part)
	if err != nil {
		return err
	}
	w.out = video.NewFileSink(file)
	if w.pb, err = astiav.AllocIOContext(64<<10, true, nil, nil, w.out.Write); err != nil {
		return err
	}
	avObjects.Add(1)
	fc.SetPb(w.pb)
	d := astiav.NewDictionary()
	defer d.Free()
	for k, v := range fragmentOptions {
		if err := d.Set(k, v, 0); err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	if err := fc.WriteHeader(d); err != nil {
		return w.failure("writing the header", err)
	}
	return nil
}

// finish writes the last fragment, closes the file and gives it its
// name.
func (w *writer) finish() error {
	if !w.started {
		return errEmpty
	}
	if err := w.fc.WriteTrailer(); err != nil {
		return w.failure("finishing", err)
	}
	w.pb.Flush()
	if err := w.out.Err(); err != nil {
		return w.failure("finishing", err)
	}
	if err := w.out.Close(); err != nil {
		return w.failure("closing", err)
	}
	if err := os.Rename(w.part, w.path); err != nil {
		return err
	}
	w.finalised = true
	return nil
}

// free releases the muxer and removes the file of a clip not finalised:
// a full disk gets its space back.
func (w *writer) free() {
	if w.pb != nil {
		w.pb.Free() // a custom context: Free, not Close
		w.pb = nil
		avObjects.Add(-1)
	}
	if w.fc != nil {
		w.fc.Free()
		w.fc = nil
		avObjects.Add(-1)
	}
	freeParams(w.params)
	if w.out != nil {
		w.out.Close()
		if !w.finalised {
			os.Remove(w.part)
		}
	}
}

// failure wraps err, naming a full disk for what it is; the cause of a
// failed write is the file's error, not FFmpeg's.
func (w *writer) failure(op string, err error) error {
	if w.out != nil && w.out.Err() != nil {
		err = w.out.Err()
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("the disk is full (ENOSPC); the partial clip was removed: %w", err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
