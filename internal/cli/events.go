package cli

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/sightline/sightline/analyzer"
)

// events writes `run --events` JSON lines. Safe for concurrent use; a nil
// *events writes nothing.
type events struct {
	mu    sync.Mutex
	enc   *json.Encoder
	start time.Time
	// quiet writes only the summary (run without --events).
	quiet bool
}

func newEvents(w io.Writer, start time.Time) *events {
	if w == nil {
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &events{enc: enc, start: start}
}

type statusEvent struct {
	Type   string  `json:"type"`
	TMS    float64 `json:"t_ms"`
	State  string  `json:"state"`
	Detail string  `json:"detail"`
}

type backendEvent struct {
	Type    string  `json:"type"`
	TMS     float64 `json:"t_ms"`
	Backend string  `json:"backend"`
	Reason  string  `json:"reason"`
}

type analysisEvent struct {
	Type      string             `json:"type"`
	TMS       float64            `json:"t_ms"`
	Frame     int64              `json:"frame"`
	PTSMS     float64            `json:"pts_ms"`
	Source    string             `json:"source"`
	LatencyMS float64            `json:"latency_ms"`
	Data      *analyzer.Analysis `json:"data"`
}

type summaryEvent struct {
	Type           string  `json:"type"`
	TMS            float64 `json:"t_ms"`
	FramesRead     int64   `json:"frames_read"`
	FramesShown    int64   `json:"frames_shown"`
	FramesAnalyzed int64   `json:"frames_analyzed"`
	CloudCalls     int64   `json:"cloud_calls"`
	CacheHits      int64   `json:"cache_hits"`
	Reconnects     int64   `json:"reconnects"`
	Dropped        int64   `json:"frames_dropped"`
	ReadFPS        float64 `json:"read_fps"`
	AnalyzedFPS    float64 `json:"analyzed_fps"`
	LatencyP50     float64 `json:"latency_ms_p50"`
	LatencyP95     float64 `json:"latency_ms_p95"`
	// Beyond the contract's fields: how the analyses split, and the cost.
	Analyses      int64   `json:"analyses"`
	LocalAnalyses int64   `json:"local_analyses"`
	LocalErrors   int64   `json:"local_errors"`
	CloudErrors   int64   `json:"cloud_errors"`
	CacheHitRate  float64 `json:"cache_hit_rate"`
	CostUSD       float64 `json:"cost_usd"`
}

type analysisErrorEvent struct {
	Type   string  `json:"type"`
	TMS    float64 `json:"t_ms"`
	Frame  int64   `json:"frame"`
	Source string  `json:"source"`
	Error  string  `json:"error"`
}

func (e *events) now() float64 { return ms(time.Since(e.start)) }

func (e *events) write(v any) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.enc.Encode(v)
}

func (e *events) status(state, detail string) {
	if e != nil && !e.quiet {
		e.write(statusEvent{"status", e.now(), state, oneLine(detail)})
	}
}

func (e *events) backend(name, reason string) {
	if e != nil && !e.quiet {
		e.write(backendEvent{"backend", e.now(), name, reason})
	}
}

// analysis writes a result.
func (e *events) analysis(r *analyzer.Result) {
	if e != nil && !e.quiet {
		e.write(analysisEvent{"analysis", e.now(), r.Frame, ms(r.PTS), r.Source, ms(r.Latency), r.Analysis})
	}
}

// analysisError reports a failed analysis; the run goes on.
func (e *events) analysisError(r *analyzer.Result) {
	if e != nil && !e.quiet {
		e.write(analysisErrorEvent{"analysis_error", e.now(), r.Frame, r.Source, oneLine(r.Err.Error())})
	}
}

func (e *events) summary(s summaryEvent) { e.write(s) }

type snapshotEvent struct {
	Type  string  `json:"type"`
	TMS   float64 `json:"t_ms"`
	Frame int64   `json:"frame"`
	Path  string  `json:"path"`
}

// snapshot reports a saved snapshot (the annotated picture's path; the
// clean one lies beside it).
func (e *events) snapshot(frame int64, path string) {
	if e != nil && !e.quiet {
		e.write(snapshotEvent{"snapshot", e.now(), frame, path})
	}
}
