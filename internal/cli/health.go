package cli

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// healthEvent reports the process's own health, for unattended runs and
// the soak test: memory, goroutines and (in matprofile builds) open Mats.
type healthEvent struct {
	Type       string  `json:"type"`
	TMS        float64 `json:"t_ms"`
	RSSMiB     float64 `json:"rss_mib"`
	GoHeapMiB  float64 `json:"go_heap_mib"` // of RSS, what Go's heap holds; the rest is C (OpenCV, FFmpeg, ONNX Runtime)
	Goroutines int     `json:"goroutines"`
	OpenMats   *int    `json:"open_mats,omitempty"`
	FramesRead int64   `json:"frames_read"`
	Reconnects int64   `json:"reconnects"`
}

func (e *events) health(framesRead, reconnects int64) {
	if e == nil || e.quiet {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := healthEvent{Type: "health", TMS: e.now(), RSSMiB: rssMiB(), GoHeapMiB: float64(ms.HeapInuse) / (1 << 20),
		Goroutines: runtime.NumGoroutine(), FramesRead: framesRead, Reconnects: reconnects}
	if n, ok := openMats(); ok {
		h.OpenMats = &n
	}
	e.write(h)
}

// rssMiB is the resident set size now, from /proc/self/statm.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return float64(pages*int64(os.Getpagesize())) / (1 << 20)
}

// healthTicker fires every d, or never when d is 0.
func healthTicker(d time.Duration) (<-chan time.Time, func()) {
	if d <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}
