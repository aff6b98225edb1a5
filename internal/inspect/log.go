package inspect

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/event"
)

// Log files in Options.LogDir.
const (
	LogCSV   = "inspections.csv"
	LogJSONL = "inspections.jsonl"
	CropDir  = "crops"
)

// maxPendingCrops bounds the crops waiting for a slow disk: past it a
// verdict is logged without its crop rather than the frame loop waiting.
const maxPendingCrops = 32

// csvHeader names the columns a QA lead sees in a spreadsheet.
var csvHeader = []string{"time", "frame", "pts_ms", "point", "state", "tag", "probability", "track_id", "crop"}

// Record is one line of the inspection log (the JSON lines' shape).
type Record struct {
	Time        string  `json:"time"` // wall clock, RFC 3339 with milliseconds (the CSV: local, without the zone)
	Frame       int64   `json:"frame"`
	PTSMS       float64 `json:"pts_ms"`
	Point       string  `json:"point"`
	State       string  `json:"state"`
	Tag         string  `json:"tag"`
	Probability float64 `json:"probability"`
	TrackID     *int    `json:"track_id,omitempty"`
	Crop        string  `json:"crop,omitempty"`
}

// logWriter appends verdicts to the CSV and JSON-lines files and writes
// their crops, on its own goroutine: a slow or failing disk never holds up
// inspection. The first failure stops it, and is told once.
type logWriter struct {
	dir        string
	csvFile    *os.File
	jsonFile   *os.File
	needHeader bool // the CSV file was empty: its header goes first
	onErr      func(error)

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []logItem
	crops   int // crops in the queue
	closing bool
	err     error
	done    chan struct{}
}

type logItem struct {
	rec  Record
	at   time.Time
	crop gocv.Mat // the log's copy, or none
}

// openLog creates dir and its crops folder and opens the log files for
// appending.
func openLog(dir string, onErr func(error)) (*logWriter, error) {
	if err := os.MkdirAll(filepath.Join(dir, CropDir), 0o755); err != nil {
		return nil, fmt.Errorf("inspection log: %w", err)
	}
	open := func(name string) (*os.File, error) {
		return os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	}
	l := &logWriter{dir: dir, onErr: onErr, done: make(chan struct{})}
	var err error
	if l.csvFile, err = open(LogCSV); err != nil {
		return nil, fmt.Errorf("inspection log: %w", err)
	}
	if l.jsonFile, err = open(LogJSONL); err != nil {
		l.csvFile.Close()
		return nil, fmt.Errorf("inspection log: %w", err)
	}
	if st, err := l.csvFile.Stat(); err == nil && st.Size() == 0 {
		l.needHeader = true
	}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l, nil
}

// add queues e's line, with a copy of crop when it is not empty, and
// returns the crop's file name ("" when none will be written: no crop, a
// full queue, or a log that stopped).
func (l *logWriter) add(now time.Time, e *event.Inspection, crop gocv.Mat) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.closing {
		return ""
	}
	it := logItem{at: now, rec: Record{Time: now.Format("2006-01-02T15:04:05.000Z07:00"), Frame: e.Frame, PTSMS: e.PTSMS,
		Point: e.Point, State: e.State, Tag: e.Tag, Probability: e.Probability, TrackID: e.TrackID}}
	if crop.Ptr() != nil && !crop.Empty() && l.crops < maxPendingCrops {
		it.rec.Crop = filepath.Join(l.dir, CropDir, cropName(now, e))
		it.crop = crop.Clone()
		l.crops++
	}
	l.queue = append(l.queue, it)
	l.cond.Signal()
	return it.rec.Crop
}

// cropName names a crop by time, point and state, with the track or the
// frame to keep names unique.
func cropName(now time.Time, e *event.Inspection) string {
	which := "f" + strconv.FormatInt(e.Frame, 10)
	if e.TrackID != nil {
		which = "t" + strconv.Itoa(*e.TrackID)
	}
	return now.Format("20060102-150405.000") + "-" + fileSafe(e.Point) + "-" + e.State + "-" + which + ".png"
}

// fileSafe keeps letters, digits, '-' and '_' of a point's name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

func (l *logWriter) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closing {
			l.cond.Wait()
		}
		batch := l.queue
		l.queue = nil
		l.crops = 0
		failed := l.err != nil
		l.mu.Unlock()
		if len(batch) == 0 {
			return // closing, and everything is written
		}
		var err error
		for _, it := range batch {
			if err == nil && !failed {
				err = l.write(it)
			}
			it.crop.Close()
		}
		if err != nil {
			l.fail(err)
		}
	}
}

// write writes an item's crop, then its lines.
func (l *logWriter) write(it logItem) error {
	if it.rec.Crop != "" {
		buf, err := gocv.IMEncode(gocv.PNGFileExt, it.crop)
		if err != nil {
			return fmt.Errorf("encoding crop %s: %w", it.rec.Crop, err)
		}
		err = os.WriteFile(it.rec.Crop, buf.GetBytes(), 0o644)
		buf.Close()
		if err != nil {
			return err
		}
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	if l.needHeader {
		w.Write(csvHeader)
	}
	w.Write(it.rec.row(it.at))
	w.Flush()
	if _, err := l.csvFile.WriteString(b.String()); err != nil {
		return err
	}
	l.needHeader = false
	line, err := json.Marshal(it.rec)
	if err != nil {
		return err
	}
	_, err = l.jsonFile.Write(append(line, '\n'))
	return err
}

// row is the CSV's line: the time as spreadsheets read it (local, no zone).
func (r Record) row(at time.Time) []string {
	track := ""
	if r.TrackID != nil {
		track = strconv.Itoa(*r.TrackID)
	}
	return []string{at.Format("2006-01-02 15:04:05.000"), strconv.FormatInt(r.Frame, 10), strconv.FormatFloat(r.PTSMS, 'f', -1, 64), r.Point, r.State, r.Tag,
		strconv.FormatFloat(r.Probability, 'f', 4, 64), track, r.Crop}
}

// fail stops the log and says why, once.
func (l *logWriter) fail(err error) {
	l.mu.Lock()
	first := l.err == nil
	if first {
		l.err = err
	}
	l.mu.Unlock()
	if first && l.onErr != nil {
		l.onErr(fmt.Errorf("inspection log: %w", err))
	}
}

// close writes what is queued, closes the files and returns the first
// error.
func (l *logWriter) close() error {
	l.mu.Lock()
	l.closing = true
	l.cond.Signal()
	l.mu.Unlock()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.err, l.csvFile.Close(), l.jsonFile.Close())
}
