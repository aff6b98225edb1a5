package stages

import (
	"syscall"
	"testing"
	"time"
)

// spin keeps the thread busy until it has used d of CPU, by the kernel's
// other count (getrusage), however often the machine preempts it.
func spin(d time.Duration) {
	used := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(rusageThread, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for start := used(); used()-start < d; {
	}
}

const rusageThread = 1 // Linux's RUSAGE_THREAD

// A stage counts the CPU its thread spent, not the time it waited, and
// nothing while measuring is off.
func TestStagesCountThreadCPU(t *testing.T) {
	tests := []struct {
		name      string
		on        bool
		work      func()
		min, max  time.Duration
		wantCalls int64
	}{
		{"busy", true, func() { spin(20 * time.Millisecond) }, 19 * time.Millisecond, time.Second, 1},
		{"asleep", true, func() { time.Sleep(30 * time.Millisecond) }, 0, 5 * time.Millisecond, 1},
		{"off", false, func() { spin(5 * time.Millisecond) }, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Start()
			if !tt.on {
				Stop()
			}
			s := Begin()
			tt.work()
			s.End(Infer)
			got := Stop()[Infer]
			if got.Calls != tt.wantCalls || got.CPU < tt.min || got.CPU > tt.max {
				t.Errorf("%+v, want %d calls and CPU in [%v, %v]", got, tt.wantCalls, tt.min, tt.max)
			}
			for st, other := range Read() {
				if Stage(st) != Infer && other != (Total{}) {
					t.Errorf("%v counted %+v", Stage(st), other)
				}
			}
		})
	}
}

// Every stage has a name for the bench's rows.
func TestStageNames(t *testing.T) {
	for st := range NumStages {
		if st.String() == "" {
			t.Errorf("stage %d has no name", st)
		}
	}
}
