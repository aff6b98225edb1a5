package ui

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"testing"

	"github.com/sightline/sightline/analyzer"
)

// threadNice is the calling thread's nice value; -100 when unknown.
func threadNice() int {
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		return -100
	}
	return 20 - prio // the raw system call returns 20 - nice
}

// niceProbe records the nice value of the thread it analyses on.
type niceProbe struct {
	nice int
	err  error
	boom bool
}

func (p *niceProbe) Analyze(context.Context, analyzer.Image, analyzer.Request) (*analyzer.Analysis, error) {
	p.nice = threadNice()
	if p.boom {
		panic("model crashed")
	}
	return &analyzer.Analysis{}, p.err
}
func (p *niceProbe) Supports(analyzer.Feature) bool { return true }
func (p *niceProbe) Name() string                   { return "probe" }

// The live view's analyses run at analysisNice on a thread that ends with
// them: the caller's thread keeps its priority, no goroutine is left, and
// an error or a panic reaches the caller as it was.
func TestYieldingAnalyzerRunsNicedAndLeavesNothing(t *testing.T) {
	failed := errors.New("no model")
	tests := []struct {
		name string
		err  error
		boom bool
	}{
		{name: "analysis"},
		{name: "error", err: failed},
		{name: "panic", boom: true},
	}
	goroutines := runtime.NumGoroutine()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.LockOSThread() // the caller's thread, before and after
			defer runtime.UnlockOSThread()
			before := threadNice()
			probe := &niceProbe{err: tt.err, boom: tt.boom}
			var panicked any
			var err error
			func() {
				defer func() { panicked = recover() }()
				_, err = yielding(probe).Analyze(context.Background(), analyzer.Image{}, analyzer.Request{})
			}()
			if probe.nice != analysisNice {
				t.Errorf("analysed at nice %d, want %d", probe.nice, analysisNice)
			}
			if !errors.Is(err, tt.err) || (panicked != nil) != tt.boom {
				t.Errorf("error %v, panic %v", err, panicked)
			}
			if got := threadNice(); got != before {
				t.Errorf("the caller's thread went from nice %d to %d", before, got)
			}
		})
	}
	waitFor(t, "the analyses' goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
	if yielding(nil) != nil {
		t.Error("yielding(nil) is not nil")
	}
}
