package ui

import "time"

// stamp names snapshot and recording files so that they sort by time.
func stamp(t time.Time) string { return t.Format("20060102-150405.000") }
