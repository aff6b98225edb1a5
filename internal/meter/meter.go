// Package meter records samples and reports percentiles: analysis
// latencies in the scheduler and the run summary, the bench's figures.
package meter

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// meterWindow is how many recent samples a Meter keeps: enough for stable
// percentiles, bounded so a shift-long run does not grow.
const meterWindow = 4096

// Meter records latencies and reports percentiles over the recent window.
// It is safe for concurrent use.
type Meter struct {
	mu      sync.Mutex
	samples []time.Duration
	next    int
	count   int64
	scratch []time.Duration
}

// Add records one sample.
func (m *Meter) Add(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count++
	if len(m.samples) < meterWindow {
		m.samples = append(m.samples, d)
		return
	}
	m.samples[m.next] = d
	m.next = (m.next + 1) % meterWindow
}

// Count is the number of samples ever added.
func (m *Meter) Count() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// Percentile returns the p-th percentile (0–100) of the window, nearest
// rank; 0 with no samples.
func (m *Meter) Percentile(p float64) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return 0
	}
	m.scratch = append(m.scratch[:0], m.samples...)
	slices.Sort(m.scratch)
	return OfSorted(m.scratch, p)
}

// Percentile returns the p-th percentile (0–100) of xs, nearest rank; the
// zero value when xs is empty. xs is not modified.
func Percentile[T cmp.Ordered](xs []T, p float64) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return OfSorted(s, p)
}

// OfSorted is Percentile of an already sorted slice.
func OfSorted[T cmp.Ordered](sorted []T, p float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
