package cli

import (
	"testing"
	"time"
)

// TestBatchLatencyIsOwnTime (issue 18): with more workers than detectors,
// inputs queue for the model; each line's latency_ms must be that input's
// own analysis, not its wait. The model runs one input at a time, so own
// times add up to at most the batch's wall time, where queue-inclusive
// latencies add up to about 1+2+…+6 = 21 analyses for 6.
func TestBatchLatencyIsOwnTime(t *testing.T) {
	img := opencvData + "messi5.jpg"
	inputs := []string{img, img, img, img, img, img}
	start := time.Now()
	code, out, stderr := runCLI(t, nil, append([]string{"analyze", "--backend", "local", "--features", "objects", "--workers", "6"}, inputs...)...)
	wall := time.Since(start)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum time.Duration
	for _, l := range jsonLines(t, out) {
		lat, ok := l["latency_ms"].(float64)
		if !ok {
			t.Fatalf("a line without latency_ms: %v", l)
		}
		sum += time.Duration(lat * float64(time.Millisecond))
	}
	t.Logf("latencies add up to %v in %v of wall time", sum, wall)
	// Decoding runs in parallel outside the queue: a little slack for it.
	if sum > wall+wall/10 {
		t.Errorf("latencies add up to %v, more than the %v the batch took: they include time spent queued", sum, wall)
	}
}
