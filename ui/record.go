package ui

import (
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/video"
)

// frameRecorder is what the player needs of a recording: video.Recorder.
type frameRecorder interface {
	Write(frame gocv.Mat, pts time.Duration) error
	Close() error
}

// newRecorder opens a recording; a variable so tests can count writes.
var newRecorder = func(path string, w, h int, fps float64) (frameRecorder, error) {
	r, err := video.NewRecorder(path, w, h, fps)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return r, nil
}

// stamp names snapshot and recording files so that they sort by time.
func stamp(t time.Time) string { return t.Format("20060102-150405.000") }
