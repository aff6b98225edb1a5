package mqtt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// record is one message waiting for its PUBACK.
type record struct {
	topic   string
	payload []byte
}

func (r record) size() int { return len(r.topic) + len(r.payload) }

// pushed says where push put a record.
type pushed int

const (
	inMemory pushed = iota
	spilled
	dropped
)

// spool is the ordered queue of undelivered messages: the oldest in memory
// up to memBytes, the rest appended to a file up to fileBytes, past which
// new messages are dropped. Order is kept by never putting a message in
// memory while older ones wait in the file. The file outlives the process:
// what a run could not deliver is sent by the next. Not safe for concurrent
// use; the Sink holds its lock.
//
// On disk: one message a line, "topic\tpayload\n" (topics hold no tab or
// newline, JSON payloads no raw newline). Beside it, path+".offset" holds
// how far the file has been delivered, so a crash resends at most the chunk
// that was in memory.
type spool struct {
	path      string // "" keeps everything in memory
	memBytes  int
	fileBytes int64

	mem      []record
	memSize  int
	fromFile int // how many records at the front of mem came from the file

	w        *os.File // append handle, open while the file exists
	size     int64    // bytes in the file
	readOff  int64    // bytes of the file loaded into memory
	unread   int      // records in the file past readOff
	restored int      // records found in the file at open
	// full is set by the first drop and cleared when everything waiting
	// has been delivered: what is lost is one stretch of messages, never
	// every other one as sizes happen to fit.
	full bool
}

// openSpool opens the spool at path, picking up what a previous run left.
func openSpool(path string, memBytes int, fileBytes int64) (*spool, error) {
	q := &spool{path: path, memBytes: memBytes, fileBytes: fileBytes}
	if path == "" {
		return q, nil
	}
	if err := q.reopen(); err != nil {
		return nil, fmt.Errorf("opening the MQTT spool: %w", err)
	}
	return q, nil
}

// reopen counts the records a previous run left after its delivered offset
// and cuts a half-written last line (a crash mid-append).
func (q *spool) reopen() error {
	f, err := os.OpenFile(q.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	off := readOffset(q.path + ".offset")
	if st, err := f.Stat(); err != nil || off > st.Size() {
		off = 0 // an offset past the end belongs to another file: resend it all
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	n, good, err := countLines(f)
	if err != nil {
		f.Close()
		return err
	}
	end := off + good
	if err := f.Truncate(end); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	q.w, q.size, q.readOff, q.unread, q.restored = f, end, off, n, n
	return nil
}

// readOffset reads a delivered offset; a missing or damaged one means 0, so
// at worst messages are sent twice, never lost.
func readOffset(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// countLines counts complete lines from r's position and the bytes they take.
func countLines(r io.Reader) (n int, size int64, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: keep reading it.
			rest, err2 := br.ReadBytes('\n')
			line, err = append(line, rest...), err2
		}
		if err == io.EOF {
			return n, size, nil
		}
		if err != nil {
			return n, size, err
		}
		n++
		size += int64(len(line))
	}
}

// len is the number of records waiting, in memory and in the file.
func (q *spool) len() int { return len(q.mem) + q.unread }

// push queues r behind everything already waiting.
func (q *spool) push(r record) (pushed, error) {
	if q.full {
		return dropped, nil
	}
	if q.unread == 0 && q.memSize+r.size() <= q.memBytes {
		q.mem = append(q.mem, r)
		q.memSize += r.size()
		return inMemory, nil
	}
	line := encodeRecord(r)
	if q.path == "" || q.size+int64(len(line)) > q.fileBytes {
		q.full = true
		return dropped, nil
	}
	if err := q.append(line); err != nil {
		q.full = true
		return dropped, fmt.Errorf("spilling an MQTT message to %s: %w", q.path, err)
	}
	q.unread++
	return spilled, nil
}

func (q *spool) append(line []byte) error {
	if q.w == nil {
		f, err := os.OpenFile(q.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		q.w = f
	}
	n, err := q.w.Write(line)
	if err != nil && n > 0 {
		// Keep the file whole: a partial line would corrupt the next record.
		_ = q.w.Truncate(q.size)
		_, _ = q.w.Seek(q.size, io.SeekStart)
	}
	if err != nil {
		return err
	}
	q.size += int64(n)
	return nil
}

func encodeRecord(r record) []byte {
	line := make([]byte, 0, r.size()+2)
	line = append(line, r.topic...)
	line = append(line, '\t')
	line = append(line, r.payload...)
	return append(line, '\n')
}

// head is the oldest waiting record, loading the next chunk of the file
// into memory when memory has run dry.
func (q *spool) head() (record, bool, error) {
	if len(q.mem) == 0 && q.unread > 0 {
		if err := q.load(); err != nil {
			return record{}, false, err
		}
	}
	if len(q.mem) == 0 {
		return record{}, false, nil
	}
	return q.mem[0], true, nil
}

// load moves up to memBytes of the file's oldest records into memory, and
// notes that everything before them has been delivered.
func (q *spool) load() error {
	if err := writeOffset(q.path+".offset", q.readOff); err != nil {
		return fmt.Errorf("saving the MQTT spool's offset: %w", err)
	}
	f, err := os.Open(q.path)
	if err != nil {
		return fmt.Errorf("reading the MQTT spool: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(q.readOff, io.SeekStart); err != nil {
		return fmt.Errorf("reading the MQTT spool: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for q.unread > 0 && (len(q.mem) == 0 || q.memSize < q.memBytes) {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return fmt.Errorf("reading the MQTT spool: %w", err)
		}
		q.readOff += int64(len(line))
		q.unread--
		topic, payload, ok := bytes.Cut(line[:len(line)-1], []byte{'\t'})
		if !ok {
			continue // not ours; skip rather than stall the queue
		}
		r := record{topic: string(topic), payload: payload}
		q.mem = append(q.mem, r)
		q.memSize += r.size()
		q.fromFile++
	}
	return nil
}

// pop removes the head once it is delivered (or refused for good). When the
// file has been delivered to its end it is emptied.
func (q *spool) pop() {
	if len(q.mem) == 0 {
		return
	}
	q.memSize -= q.mem[0].size()
	q.mem[0] = record{}
	q.mem = q.mem[1:]
	if q.fromFile > 0 {
		q.fromFile--
	}
	if q.len() == 0 {
		q.full = false
	}
	if q.fromFile == 0 && q.unread == 0 && q.w != nil && q.size > 0 {
		q.reset()
	}
}

// reset empties a fully delivered file. Errors only cost duplicates after a
// crash (the old offset is kept), so they are not reported.
func (q *spool) reset() {
	if err := q.w.Truncate(0); err == nil {
		_, _ = q.w.Seek(0, io.SeekStart)
		q.size, q.readOff = 0, 0
		_ = os.Remove(q.path + ".offset")
	}
}

// close saves everything still waiting, in order, in the file for the next
// run (memory first, then the file's unread part) and releases the file.
func (q *spool) close() error {
	if q.path == "" {
		return nil
	}
	var err error
	if q.len() == 0 {
		err = q.remove()
	} else {
		err = q.rewrite()
	}
	if q.w != nil {
		if cerr := q.w.Close(); err == nil {
			err = cerr
		}
		q.w = nil
	}
	if err != nil {
		return fmt.Errorf("saving undelivered MQTT messages to %s: %w", q.path, err)
	}
	return nil
}

func (q *spool) rewrite() error {
	tmp := q.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	bw := bufio.NewWriter(f)
	for _, r := range q.mem {
		_, _ = bw.Write(encodeRecord(r))
	}
	err = q.copyUnread(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, q.path); err != nil {
		return err
	}
	if err := os.Remove(q.path + ".offset"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (q *spool) copyUnread(w io.Writer) error {
	if q.unread == 0 {
		return nil
	}
	f, err := os.Open(q.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(q.readOff, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// remove deletes the spool's files: nothing waits.
func (q *spool) remove() error {
	for _, p := range []string{q.path, q.path + ".offset"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// writeOffset replaces the offset file atomically.
func writeOffset(path string, off int64) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(off, 10)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
