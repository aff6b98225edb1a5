package analyzer

import (
	"sync"
	"time"
)

// Merged is what the overlay draws: the newest result of each kind.
type Merged struct {
	*Analysis
	// Frame and Source are those of the newest result drawn; Age is its
	// age. CloudSource and CloudAge describe the newest cloud or cache
	// result, if any.
	Frame       int64
	Source      string
	Age         time.Duration
	CloudSource string
	CloudAge    time.Duration
}

// Latest keeps the newest successful local and cloud results and merges
// them for drawing: the boxes of the newest, the cloud's caption, tags and
// text kept while local boxes refresh. It is safe for concurrent use.
type Latest struct {
	mu           sync.Mutex
	local, cloud *Result
}

// Add takes a finished result; failed ones change nothing.
func (l *Latest) Add(r *Result) {
	if r.Err != nil || r.Analysis == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Source == SourceLocal {
		l.local = r
	} else {
		l.cloud = r
	}
}

// Reset forgets every result: they were of another source.
func (l *Latest) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.local, l.cloud = nil, nil
}

// Merged returns what to draw at now: for each field, the newest result
// that has it.
func (l *Latest) Merged(now time.Time) Merged {
	l.mu.Lock()
	defer l.mu.Unlock()
	var m Merged
	results := [2]*Result{l.local, l.cloud}
	if l.cloud != nil && l.local != nil && l.cloud.Finished.After(l.local.Finished) {
		results[0], results[1] = l.cloud, l.local
	}
	var a Analysis
	for _, r := range results { // newest first
		if r == nil {
			continue
		}
		if m.Analysis == nil {
			m.Analysis, m.Frame, m.Source, m.Age = &a, r.Frame, r.Source, now.Sub(r.Finished)
			a.Metadata, a.ModelVersion = r.Metadata, r.ModelVersion
		}
		a.fillFrom(r.Analysis)
	}
	if c := l.cloud; c != nil {
		m.CloudSource, m.CloudAge = c.Source, now.Sub(c.Finished)
	}
	return m
}

// Sources of results, as in the `source` field of events.
const (
	SourceLocal = "local"
	SourceCloud = "azure"
	SourceCache = "cache"
)
