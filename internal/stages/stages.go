// Package stages measures, when asked, the CPU time each stage of the
// frame pipeline spends: the conversion of a decoded picture, the model's
// input, inference, the boxes, the scheduler's copy, merging and drawing.
// Each stage is timed on the thread that runs it (its goroutine is locked
// to the thread meanwhile), so stages running side by side on other cores
// do not count. `sightline bench` turns measuring on; otherwise a stage
// costs one atomic load.
package stages

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Stage is one step of a frame's way through the pipeline.
type Stage int

const (
	Convert Stage = iota // a decoded picture into the frame's pixels (swscale)
	Fill                 // the letterbox and the model's input tensor
	Infer                // the model (a one-thread session runs on its caller's thread)
	Boxes                // the model's output into boxes (decode, NMS, source pixels)
	Copy                 // the scheduler's copy of a frame it analyses
	Merge                // the newest results merged for drawing, and a result added
	Draw                 // the overlay drawn on a frame
	NumStages
)

var names = [NumStages]string{"conversion", "letterbox and tensor", "inference", "boxes", "scheduler's copy", "merging", "overlay drawing"}

func (s Stage) String() string { return names[s] }

// Total is what one stage took while measuring was on.
type Total struct {
	CPU   time.Duration
	Calls int64
}

// Totals are every stage's, indexed by Stage.
type Totals [NumStages]Total

var (
	on     atomic.Bool
	totals [NumStages]struct{ ns, calls atomic.Int64 }
)

// Start zeroes the totals and turns measuring on.
func Start() {
	for i := range totals {
		totals[i].ns.Store(0)
		totals[i].calls.Store(0)
	}
	on.Store(true)
}

// Stop turns measuring off and returns the totals since Start.
func Stop() Totals {
	on.Store(false)
	return Read()
}

// Read returns the totals so far.
func Read() Totals {
	var t Totals
	for i := range totals {
		t[i] = Total{CPU: time.Duration(totals[i].ns.Load()), Calls: totals[i].calls.Load()}
	}
	return t
}

// Span is a stage being timed; the zero Span (measuring off) does nothing.
type Span struct {
	start int64
	on    bool
}

// Begin starts timing on the calling thread: call End on the same
// goroutine when the stage is done.
func Begin() Span {
	if !on.Load() {
		return Span{}
	}
	runtime.LockOSThread()
	return Span{start: threadNanos(), on: true}
}

// End adds the thread's CPU time since Begin to stage st.
func (s Span) End(st Stage) {
	if !s.on {
		return
	}
	d := threadNanos() - s.start
	runtime.UnlockOSThread()
	totals[st].ns.Add(d)
	totals[st].calls.Add(1)
}

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadNanos is the calling thread's CPU time.
func threadNanos() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}
