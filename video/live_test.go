package video

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/mats"
	"github.com/sightline/sightline/video/videotest"
)

func TestRTSP(t *testing.T) {
	file := videotest.Live(t)
	for _, transport := range []string{"tcp", "udp"} {
		t.Run(transport, func(t *testing.T) {
			checkLeaks(t)
			srv := videotest.StartRTSP(t, videotest.FreePort(t), file, false)
			log := newStatusLog()
			src, err := Open(context.Background(), srv.URL(), Options{Transport: transport, OpenTimeout: 10 * time.Second, OnStatus: log.add})
			if err != nil {
				t.Fatal(err)
			}
			if in := src.Info(); in.Width != 640 || in.Height != 360 || in.FPS != 25 || !in.Live {
				t.Errorf("Info = %+v", in)
			}
			seqs := readN(t, src, 25, 10*time.Second)
			if !slices.IsSorted(seqs) || slices.Compact(slices.Clone(seqs)) == nil || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
				t.Errorf("Seq not increasing: %v", seqs)
			}
			start := time.Now()
			src.Close()
			if d := time.Since(start); d > time.Second {
				t.Errorf("Close took %v", d)
			}
			if !log.has(StatePlaying, "") {
				t.Errorf("statuses:%s", log)
			}
			if _, err := src.Next(context.Background()); !errors.Is(err, ErrClosed) {
				t.Errorf("Next after Close = %v", err)
			}
		})
	}
}

// TestRTSPReconnect freezes the server (stalled), kills it (reconnecting)
// and restarts it: frames resume and Seq goes on counting.
func TestRTSPReconnect(t *testing.T) {
	file := videotest.Live(t)
	tests := []struct {
		transport string
		// holdFrozen keeps the server frozen past the read timeout, so the
		// interrupt callback must end the blocked read.
		holdFrozen bool
	}{
		{"tcp", true},
		{"udp", false},
	}
	for _, tt := range tests {
		transport := tt.transport
		t.Run(transport, func(t *testing.T) {
			checkLeaks(t)
			srv := videotest.StartRTSP(t, videotest.FreePort(t), file, false)
			log := newStatusLog()
			src, err := Open(context.Background(), srv.URL(), Options{
				Transport: transport, OpenTimeout: 3 * time.Second, ReadTimeout: 1500 * time.Millisecond,
				Backoff: clock.Backoff{Initial: 100 * time.Millisecond, Max: 500 * time.Millisecond}, OnStatus: log.add,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			before := readN(t, src, 10, 5*time.Second)

			srv.Signal(syscall.SIGSTOP) // frozen: the connection stays up, no frame comes
			log.waitFor(t, StateStalled, 3*time.Second)
			if tt.holdFrozen {
				log.waitFor(t, StateReconnecting, 3*time.Second)
				if !log.has(StateReconnecting, "timed out") {
					t.Errorf("the frozen read did not time out:%s", log)
				}
				// Nothing flowed: the stall lasts until the reconnect.
				if got := log.between(StateStalled, StateReconnecting); slices.Contains(got, StatePlaying) {
					t.Errorf("states %v between stalled and reconnecting: playing while frozen:%s", got, log)
				}
			}
			srv.Signal(syscall.SIGCONT)
			srv.Kill()
			log.waitFor(t, StateReconnecting, 5*time.Second)
			time.Sleep(300 * time.Millisecond) // a few refused attempts
			srv.Start()

			after := readN(t, src, 10, 10*time.Second)
			if after[0] <= before[len(before)-1] {
				t.Errorf("Seq restarted: before %v, after %v", before, after)
			}
			if st := src.Stats(); st.Reconnects < 1 {
				t.Errorf("Stats = %+v, want a reconnect", st)
			}
			start := time.Now()
			src.Close()
			if d := time.Since(start); d > time.Second {
				t.Errorf("Close took %v", d)
			}
			t.Logf("statuses:%s", log)
		})
	}
}

// TestSlowConsumer: a consumer slower than the stream gets the newest frame,
// never one queued behind others.
func TestSlowConsumer(t *testing.T) {
	checkLeaks(t)
	srv := videotest.StartRTSP(t, videotest.FreePort(t), videotest.Live(t), false)
	src, err := Open(context.Background(), srv.URL(), Options{OpenTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const interval = 40 * time.Millisecond // 25 fps
	var ages []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 20 {
		time.Sleep(130 * time.Millisecond) // busy analysing
		f, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ages = append(ages, time.Since(f.Arrived))
		f.Release()
	}
	sort.Slice(ages, func(i, j int) bool { return ages[i] < ages[j] })
	st := src.Stats()
	t.Logf("age of delivered frames: p50 %v, max %v; stats %+v", ages[len(ages)/2], ages[len(ages)-1], st)
	// A frame is at most one interval (plus decode) old when the next
	// replaces it. Had frames queued, ages would grow by 90 ms a read, to
	// nearly 2 s by the last: the bounds leave room for a loaded machine's
	// scheduling hiccups and still tell the two apart.
	if p50 := ages[len(ages)/2]; p50 > interval+60*time.Millisecond {
		t.Errorf("median age of delivered frames %v, want ≤ %v", p50, interval+60*time.Millisecond)
	}
	if max := ages[len(ages)-1]; max > 500*time.Millisecond {
		t.Errorf("a delivered frame was %v old: frames are queueing", max)
	}
	if st.Dropped < 20 {
		t.Errorf("Dropped = %d, want the frames the consumer missed", st.Dropped)
	}
}

// nextWait returns the duration of the reader's next timer.
func nextWait(t *testing.T, clk *clock.Fake) time.Duration {
	t.Helper()
	select {
	case d := <-clk.Waits():
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("the reader set no timer")
		return 0
	}
}

// fakeConn yields n small pictures, then fails.
type fakeConn struct {
	pool *mats.Pool
	n    int
}

func (c *fakeConn) info() Info { return Info{Width: 4, Height: 2, FPS: 25} }
func (c *fakeConn) close()     {}
func (c *fakeConn) read() (gocv.Mat, time.Duration, error) {
	if c.n == 0 {
		return gocv.Mat{}, 0, errors.New("connection reset")
	}
	c.n--
	return c.pool.Get(2, 4), 0, nil
}

// TestReconnectBackoffFakeClock drives the reconnect loop with an injected
// clock: the waits follow the backoff, the opening gives up at its
// deadline, and after playing the source retries for ever; nothing sleeps.
func TestReconnectBackoffFakeClock(t *testing.T) {
	checkLeaks(t)
	const ms = time.Millisecond
	b := clock.Backoff{Initial: 100 * ms, Max: 800 * ms, Jitter: 0.5, Rand: func() float64 { return 0.5 }}
	want := func(n int) time.Duration { return b.Delay(n) } // 75, 150, 300, 600, 600…

	t.Run("open gives up at its deadline", func(t *testing.T) {
		clk := clock.NewFake(time.Unix(1_000_000, 0))
		dials := 0
		dial := func(context.Context, time.Time, *mats.Pool, *damage) (conn, error) {
			dials++
			return nil, fmt.Errorf("connection refused")
		}
		errc := make(chan error, 1)
		go func() {
			_, err := openLive(context.Background(), "rtsp://x", Options{OpenTimeout: time.Second, Backoff: b, Clock: clk}.withDefaults(), dial)
			errc <- err
		}()
		var total time.Duration
		for n := 0; ; n++ {
			d := nextWait(t, clk)
			if exp := min(want(n), time.Second-total); d != exp {
				t.Fatalf("wait %d = %v, want %v", n, d, exp)
			}
			clk.Advance(d)
			if total += d; total >= time.Second {
				break
			}
		}
		err := <-errc
		if err == nil || dials != 5 { // waits 75+150+300+475 ms
			t.Fatalf("err = %v after %d dials, want a failure after 5", err, dials)
		}
		t.Log(err)
	})

	t.Run("reconnects for ever after playing", func(t *testing.T) {
		clk := clock.NewFake(time.Unix(1_000_000, 0))
		var mu sync.Mutex
		dials := 0
		dial := func(_ context.Context, _ time.Time, pool *mats.Pool, _ *damage) (conn, error) {
			mu.Lock()
			defer mu.Unlock()
			dials++
			switch {
			case dials == 1, dials == 8:
				return &fakeConn{pool: pool, n: 3}, nil
			}
			return nil, fmt.Errorf("connection refused")
		}
		log := newStatusLog()
		src, err := openLive(context.Background(), "rtsp://x", Options{OpenTimeout: time.Second, Backoff: b, Clock: clk, OnStatus: log.add}.withDefaults(), dial)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		// Far past the open deadline: dials 2..7 fail, dial 8 plays again.
		for n := 0; n < 7; n++ {
			if d := nextWait(t, clk); d != want(n) {
				t.Fatalf("wait %d = %v, want %v", n, d, want(n))
			}
			clk.Advance(time.Hour)
		}
		// The connection of dial 8 played, so the backoff starts over.
		if d := nextWait(t, clk); d != want(0) {
			t.Fatalf("wait after replaying = %v, want %v", d, want(0))
		}
		if st := src.Stats(); st.Read != 6 || st.Reconnects != 1 {
			t.Errorf("Stats = %+v, want 6 read and 1 reconnect", st)
		}
		f, err := src.Next(context.Background())
		if err != nil || f.Seq != 5 {
			t.Fatalf("Next = %v, %v; want the newest, Seq 5", f, err)
		}
		f.Release()
		if !log.has(StateReconnecting, "attempt 7") {
			t.Errorf("statuses:%s", log)
		}
	})
}

// scriptedConn yields a picture after each of its delays, then fails.
type scriptedConn struct {
	pool   *mats.Pool
	delays []time.Duration
}

func (c *scriptedConn) info() Info { return Info{Width: 4, Height: 2, FPS: 25} }
func (c *scriptedConn) close()     {}
func (c *scriptedConn) read() (gocv.Mat, time.Duration, error) {
	if len(c.delays) == 0 {
		return gocv.Mat{}, 0, errors.New("read timed out")
	}
	time.Sleep(c.delays[0])
	c.delays = c.delays[1:]
	return c.pool.Get(2, 4), 0, nil
}

// TestStallEndsWhenFramesFlow (issue 19 item 17): a stall is reported, and
// one picture after it (a read that times out can flush one) is not
// "playing"; frames arriving in time again are.
func TestStallEndsWhenFramesFlow(t *testing.T) {
	const flowing, stall = 40 * time.Millisecond, 1400 * time.Millisecond // stalled after 1 s at 25 fps
	tests := []struct {
		name   string
		delays []time.Duration
		want   []State // from the first stalled on
	}{
		{"one picture, then the read fails", []time.Duration{flowing, flowing, flowing, stall},
			[]State{StateStalled, StateReconnecting}},
		{"frames flow again", []time.Duration{flowing, flowing, flowing, stall, flowing, flowing},
			[]State{StateStalled, StatePlaying, StateReconnecting}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			dials := 0
			dial := func(_ context.Context, _ time.Time, pool *mats.Pool, _ *damage) (conn, error) {
				if dials++; dials == 1 {
					return &scriptedConn{pool: pool, delays: tt.delays}, nil
				}
				return nil, errors.New("connection refused")
			}
			log := newStatusLog()
			src, err := openLive(context.Background(), "rtsp://x", Options{OnStatus: log.add}.withDefaults(), dial)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			log.waitFor(t, StateReconnecting, 5*time.Second)
			got := log.states()
			got = got[slices.Index(got, StateStalled):]
			if end := slices.Index(got, StateReconnecting); end >= 0 {
				got = got[:end+1]
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("states from the stall on %v, want %v:%s", got, tt.want, log)
			}
		})
	}
}

// TestOpenInterrupted (issue 19 item 17): a caller that gives up while a
// source is opening (Ctrl-C) is told so, not that the open timeout passed.
func TestOpenInterrupted(t *testing.T) {
	checkLeaks(t)
	refused := func(context.Context, time.Time, *mats.Pool, *damage) (conn, error) {
		return nil, errors.New("connection refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ctx, interrupt := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, interrupt)
	_, err := openLive(ctx, "rtsp://x", Options{}.withDefaults(), refused)
	if err == nil || !strings.Contains(err.Error(), "interrupted while opening") || strings.Contains(err.Error(), "timeout") ||
		!errors.Is(err, context.Canceled) {
		t.Errorf("live: %v, want 'interrupted while opening'", err)
	}
	deadline, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := openLive(deadline, "rtsp://x", Options{}.withDefaults(), refused); err == nil || !strings.Contains(err.Error(), "deadline passed while opening") {
		t.Errorf("live, caller's deadline: %v", err)
	}
	gone, stop := context.WithCancel(context.Background())
	stop()
	src, err := Open(gone, demoVideo, Options{})
	if err == nil {
		src.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "interrupted while opening") || strings.Contains(err.Error(), "FFmpeg can read") {
		t.Errorf("file: %v, want 'interrupted while opening'", err)
	}
}
