package ui

import (
	"context"
	"runtime"

	"github.com/sightline/sightline/analyzer"
)

// analysisNice is how much the live view's local analyses yield to the
// display: with both cores busy, CFS gives a thread of nice 10 a tenth of
// the time of one of nice 0, so decoding, drawing and painting go first
// and the boxes refresh with what is left; on an idle core they run at
// full speed. The app's models run one-thread sessions (LocalOptions), on
// the caller's thread, so the whole inference yields.
const analysisNice = 10

// yielding runs a's analyses at analysisNice; nil stays nil.
func yielding(a analyzer.Analyzer) analyzer.Analyzer {
	if a == nil {
		return nil
	}
	return yieldingAnalyzer{a}
}

type yieldingAnalyzer struct{ analyzer.Analyzer }

// Analyze runs the analysis on a goroutine of its own, locked to its
// thread, which is niced and never unlocked: the thread ends with that
// goroutine (an unprivileged process cannot raise a thread's priority
// back), so no niced thread returns to Go's pool whoever calls Analyze.
// It waits for the analysis even after ctx ends, since the analysis
// reads the caller's image; a panic reaches the caller as a panic.
func (y yieldingAnalyzer) Analyze(ctx context.Context, img analyzer.Image, req analyzer.Request) (*analyzer.Analysis, error) {
	type result struct {
		a     *analyzer.Analysis
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		var r result
		defer func() {
			r.panic = recover()
			done <- r
		}()
		lowerThreadPriority(analysisNice)
		r.a, r.err = y.Analyzer.Analyze(ctx, img, req)
	}()
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.a, r.err
}
