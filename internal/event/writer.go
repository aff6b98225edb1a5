package event

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Writer is the JSON-lines sink of `run --events`. A write that fails
// (a full disk, a closed pipe) stops the writer; Err says why, so the run
// can report what was lost instead of ending as if all was well.
type Writer struct {
	mu  sync.Mutex
	enc *json.Encoder
	// only, when set, limits the writer to these types (run without
	// --events still prints its summary).
	only map[string]bool
	err  error
}

// NewWriter writes every event to w; with types, only those.
func NewWriter(w io.Writer, types ...string) *Writer {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	wr := &Writer{enc: enc}
	if len(types) > 0 {
		wr.only = map[string]bool{}
		for _, t := range types {
			wr.only[t] = true
		}
	}
	return wr
}

// Publish writes e as one JSON line.
func (w *Writer) Publish(e Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || (w.only != nil && !w.only[e.Head().Type]) {
		return
	}
	if err := w.enc.Encode(e); err != nil {
		w.err = fmt.Errorf("writing events: %w", err)
	}
}

// Err is the first write error, nil while all went well.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
