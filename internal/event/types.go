package event

import "github.com/sightline/sightline/analyzer"

// Status is a source's state change.
type Status struct {
	Header
	State  string `json:"state"`
	Detail string `json:"detail"`
}

// Backend is a switch of the active backend, and the one at start.
type Backend struct {
	Header
	Backend string `json:"backend"`
	Reason  string `json:"reason"`
}

// Analysis is one finished analysis.
type Analysis struct {
	Header
	At
	Source    string             `json:"source"`
	LatencyMS float64            `json:"latency_ms"`
	Data      *analyzer.Analysis `json:"data"`
}

// AnalysisError is a failed analysis; the run goes on.
type AnalysisError struct {
	Header
	Frame  int64  `json:"frame"`
	Source string `json:"source"`
	Error  string `json:"error"`
}

// Snapshot is a saved picture: the annotated PNG's path; the clean one
// lies beside it.
type Snapshot struct {
	Header
	Frame int64  `json:"frame"`
	Path  string `json:"path"`
}

// OutputError says a requested output (recording, snapshots, clips,
// events) failed and stopped; the run goes on and ends with exit 1.
type OutputError struct {
	Header
	Output string `json:"output"`
	Error  string `json:"error"`
}

// Health is the process's own health, for unattended runs.
type Health struct {
	Header
	RSSMiB     float64 `json:"rss_mib"`
	GoHeapMiB  float64 `json:"go_heap_mib"` // of RSS, what Go's heap holds; the rest is C (OpenCV, FFmpeg, ONNX Runtime)
	Goroutines int     `json:"goroutines"`
	OpenMats   *int    `json:"open_mats,omitempty"` // builds with -tags matprofile only
	FramesRead int64   `json:"frames_read"`
	Reconnects int64   `json:"reconnects"`
	State      string  `json:"state"` // the source's state: a watchdog sees a dead source here
}

// Track is a confirmed track's start, or its end with its duration.
type Track struct {
	Header
	At
	State     string   `json:"state"` // start or end
	TrackID   int      `json:"track_id"`
	Name      string   `json:"name"`
	DurationS *float64 `json:"duration_s,omitempty"`
}

// LineCross is a track crossing a counting line.
type LineCross struct {
	Header
	At
	Line      string `json:"line"`
	Direction string `json:"direction"` // in or out
	TrackID   int    `json:"track_id"`
	Name      string `json:"name"`
	CountIn   int    `json:"count_in"`
	CountOut  int    `json:"count_out"`
}

// ZoneEnter is a track entering a zone.
type ZoneEnter struct {
	Header
	At
	Zone      string `json:"zone"`
	TrackID   int    `json:"track_id"`
	Name      string `json:"name"`
	Occupancy int    `json:"occupancy"`
}

// ZoneExit is a track leaving a zone, with how long it stayed.
type ZoneExit struct {
	Header
	At
	Zone      string  `json:"zone"`
	TrackID   int     `json:"track_id"`
	Name      string  `json:"name"`
	Occupancy int     `json:"occupancy"`
	DwellS    float64 `json:"dwell_s"`
}

// Alert is a rule that fired.
type Alert struct {
	Header
	At
	Rule     string `json:"rule"`
	Detail   string `json:"detail"`
	Snapshot string `json:"snapshot,omitempty"`
	Clip     string `json:"clip,omitempty"`
}

// Inspection is an inspection point's verdict.
type Inspection struct {
	Header
	At
	Point       string  `json:"point"`
	State       string  `json:"state"` // pass, fail or review
	Tag         string  `json:"tag"`
	Probability float64 `json:"probability"`
	TrackID     *int    `json:"track_id,omitempty"`
	Crop        string  `json:"crop,omitempty"`
}

// Clip is an event clip written to disk.
type Clip struct {
	Header
	File   string  `json:"file"`
	Reason string  `json:"reason"`
	PreS   float64 `json:"pre_s"`
	PostS  float64 `json:"post_s"`
}

// LineCount is a counting line's totals.
type LineCount struct {
	In  int `json:"in"`
	Out int `json:"out"`
}

// ZoneCount is a zone's totals.
type ZoneCount struct {
	Entries      int `json:"entries"`
	MaxOccupancy int `json:"max_occupancy"`
}

// InspectionCount is an inspection point's totals.
type InspectionCount struct {
	Pass   int `json:"pass"`
	Fail   int `json:"fail"`
	Review int `json:"review"`
}

// CameraSummary is one camera's totals in a multi-camera run.
type CameraSummary struct {
	FramesRead     int64   `json:"frames_read"`
	FramesAnalyzed int64   `json:"frames_analyzed"`
	AnalyzedFPS    float64 `json:"analyzed_fps"`
	Reconnects     int64   `json:"reconnects"`
}

// Summary is the run's last event, also after an error or Ctrl-C.
type Summary struct {
	Header
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
	// Beyond the contract's first fields: how the analyses split, and the cost.
	Analyses      int64   `json:"analyses"`
	LocalAnalyses int64   `json:"local_analyses"`
	LocalErrors   int64   `json:"local_errors"`
	CloudErrors   int64   `json:"cloud_errors"`
	CacheHitRate  float64 `json:"cache_hit_rate"`
	CostUSD       float64 `json:"cost_usd"`
	// Outputs that failed, by name, with the reason (exit 1).
	OutputErrors map[string]string `json:"output_errors,omitempty"`
	// Scenes, inspection points and cameras, when the run has them.
	Tracks      map[string]int             `json:"tracks,omitempty"`
	Lines       map[string]LineCount       `json:"lines,omitempty"`
	Zones       map[string]ZoneCount       `json:"zones,omitempty"`
	Inspections map[string]InspectionCount `json:"inspections,omitempty"`
	Cameras     map[string]CameraSummary   `json:"cameras,omitempty"`
}
