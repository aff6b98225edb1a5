// Package event holds the events a run publishes (the `run --events`
// contract): what the source, the analysis and the scene report, in one
// shape for every consumer. A Bus stamps each event and hands it to the
// sinks attached to it (the JSON writer, MQTT, metrics, the app).
package event

import (
	"time"
)

// Header starts every event. Type is the contract's event type; TMS is
// milliseconds since the run started, set by the Bus; Camera names the
// camera in multi-camera runs and MQTT.
type Header struct {
	Type   string  `json:"type"`
	TMS    float64 `json:"t_ms"`
	Camera string  `json:"camera,omitempty"`
}

// Head returns the header, so a Bus can stamp any event.
func (h *Header) Head() *Header { return h }

// Event is one event; every event type embeds a Header.
type Event interface {
	Head() *Header
}

// At places an event on the frame it is about.
type At struct {
	Frame int64   `json:"frame"`
	PTSMS float64 `json:"pts_ms"`
}

// AtFrame is the position of frame seq shown at pts.
func AtFrame(seq int64, pts time.Duration) At { return At{Frame: seq, PTSMS: MS(pts)} }

// MS converts a duration to float milliseconds rounded to 0.1 ms.
func MS(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

// Type names of the contract's events, and Sightline's own additions that
// readers may ignore.
const (
	TypeStatus        = "status"
	TypeBackend       = "backend"
	TypeAnalysis      = "analysis"
	TypeAnalysisError = "analysis_error"
	TypeSnapshot      = "snapshot"
	TypeHealth        = "health"
	TypeSummary       = "summary"
	TypeOutputError   = "output_error"
	TypeTrack         = "track"
	TypeLineCross     = "line_cross"
	TypeZoneEnter     = "zone_enter"
	TypeZoneExit      = "zone_exit"
	TypeAlert         = "alert"
	TypeInspection    = "inspection"
	TypeClip          = "clip"
)
