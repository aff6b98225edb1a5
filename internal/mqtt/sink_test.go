package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/mqtt/mqtttest"
)

const eventsFilter = "sightline/+/events/#"

// fastBackoff reconnects within a fifth of a second, so tests stay short.
var fastBackoff = clock.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}

// numbered is event i of a run: status and line_cross events in turn, so
// two topics carry one sequence.
func numbered(i int) event.Event {
	if i%2 == 0 {
		return &event.Status{Header: event.Header{Type: event.TypeStatus}, State: "playing", Detail: strconv.Itoa(i)}
	}
	return &event.LineCross{Header: event.Header{Type: event.TypeLineCross}, At: event.At{Frame: int64(i)},
		Line: "gate", Direction: "in", Name: "car"}
}

// seqOf reads back the number of a numbered event.
func seqOf(t *testing.T, m mqtttest.Message) int {
	t.Helper()
	var e struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
		Frame  int    `json:"frame"`
	}
	if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
		t.Fatalf("%s: %v", m.Payload, err)
	}
	if !strings.HasSuffix(m.Topic, "/events/"+e.Type) {
		t.Fatalf("a %s event on %s", e.Type, m.Topic)
	}
	if e.Type == event.TypeStatus {
		n, err := strconv.Atoi(e.Detail)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return e.Frame
}

// arrival sums up what a subscriber got: the first arrival of each event,
// in order, and repeats.
type arrival struct {
	firsts  []int
	repeats int
	dups    int // repeats the broker flagged as its own redelivery
}

func arrivals(t *testing.T, msgs []mqtttest.Message) arrival {
	var a arrival
	seen := map[int]bool{}
	for _, m := range msgs {
		n := seqOf(t, m)
		if seen[n] {
			a.repeats++
			if m.Dup {
				a.dups++
			}
			continue
		}
		seen[n] = true
		a.firsts = append(a.firsts, n)
	}
	return a
}

// checkExactlyOnce: events first..first+n-1 arrived in order; a repeat is
// accounted for by a retry of the sink or a redelivery of the broker.
func checkExactlyOnce(t *testing.T, a arrival, first, n int, c Counters) {
	t.Helper()
	if len(a.firsts) != n {
		t.Fatalf("%d distinct events arrived, want %d; missing: %v", len(a.firsts), n, missing(a.firsts, first, n))
	}
	for i, got := range a.firsts {
		if got != first+i {
			t.Fatalf("arrival %d is event %d, want %d (out of order or lost)", i, got, first+i)
		}
	}
	if int64(a.repeats-a.dups) > c.Retries {
		t.Fatalf("%d repeats (%d flagged DUP by the broker) but only %d retries", a.repeats, a.dups, c.Retries)
	}
}

// missing lists the events of first..first+n-1 that did not arrive.
func missing(got []int, first, n int) []int {
	seen := map[int]bool{}
	for _, g := range got {
		seen[g] = true
	}
	var out []int
	for i := first; i < first+n; i++ {
		if !seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// awaitEvents waits up to 10 s for n distinct events; checkExactlyOnce
// then says what is missing, if anything.
func awaitEvents(t *testing.T, sub *mqtttest.Subscriber, n int) []mqtttest.Message {
	msgs, _ := sub.Await(10*time.Second, func(m []mqtttest.Message) bool { return len(arrivals(t, m).firsts) >= n })
	return msgs
}

func checkAccounts(t *testing.T, c Counters) {
	t.Helper()
	if c.Sent+c.Restored != c.Delivered+c.Rejected+c.Dropped+c.Queued {
		t.Fatalf("counters do not add up: %+v", c)
	}
}

func newSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = fastBackoff
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second) // the grace a run gives
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func waitCounters(t *testing.T, s *Sink, timeout time.Duration, done func(Counters) bool) Counters {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := s.Status()
		if done(st.Counters) {
			return st.Counters
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v: %+v, last error %q", timeout, st.Counters, st.LastError)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The broker goes away and comes back in the middle of a run: every event
// arrives once, in order, with the figures to show for it.
func TestSinkDeliversAcrossBrokerRestarts(t *testing.T) {
	tests := []struct {
		name string
		// outage stops the broker after the first third of the events and
		// restarts it after the second third.
		stop func(b *mqtttest.Broker, sub *mqtttest.Subscriber, published int)
		gap  time.Duration // between events
	}{
		{"clean stop mid-stream", func(b *mqtttest.Broker, _ *mqtttest.Subscriber, _ int) {
			b.Stop(syscall.SIGTERM)
		}, 2 * time.Millisecond},
		{"crash while idle", func(b *mqtttest.Broker, sub *mqtttest.Subscriber, published int) {
			sub.WaitFor(t, 10*time.Second, func(m []mqtttest.Message) bool { return len(m) >= published })
			b.Save() // the subscriber's session outlives the crash
			b.Stop(syscall.SIGKILL)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 300
			b := mqtttest.Start(t, mqtttest.Options{})
			sub := mqtttest.Subscribe(t, b.URL(), "test-sub", "", "", eventsFilter)
			s := newSink(t, Config{URL: b.URL(), Camera: "line-3", SpoolDir: t.TempDir(), MemoryBytes: 2000})
			for i := range n {
				switch i {
				case n / 3:
					tt.stop(b, sub, i)
				case 2 * n / 3:
					b.Start()
				}
				s.Publish(numbered(i))
				time.Sleep(tt.gap)
			}
			c := waitCounters(t, s, 20*time.Second, func(c Counters) bool { return c.Queued == 0 })
			msgs := awaitEvents(t, sub, n)
			a := arrivals(t, msgs)
			t.Logf("events: sent %d, delivered %d, queued %d, spilled %d, dropped %d, retries %d; arrived %d (repeats %d, broker DUPs %d)",
				c.Sent, c.Delivered, c.Queued, c.Spilled, c.Dropped, c.Retries, len(msgs), a.repeats, a.dups)
			checkExactlyOnce(t, a, 0, n, c)
			checkAccounts(t, c)
			if c.Sent != n || c.Delivered != n || c.Dropped != 0 || c.Spilled == 0 {
				t.Fatalf("want %d sent and delivered, some spilled during the outage, none dropped: %+v", n, c)
			}
		})
	}
}

// Past the spool's bound the newest events are dropped and counted; the
// rest arrive in order once the broker is back.
func TestSinkDropsPastTheSpoolBound(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	sub := mqtttest.Subscribe(t, b.URL(), "test-sub", "", "", eventsFilter)
	b.Stop(syscall.SIGTERM)
	s := newSink(t, Config{URL: b.URL(), Camera: "line-3", SpoolDir: t.TempDir(), MemoryBytes: 1000, SpoolBytes: 2000})
	for i := range 100 {
		s.Publish(numbered(i))
	}
	before := s.Counters()
	b.Start()
	c := waitCounters(t, s, 10*time.Second, func(c Counters) bool { return c.Queued == 0 })
	want := int(c.Delivered)
	msgs := awaitEvents(t, sub, want)
	t.Logf("while down: %+v; after: %+v", before, c)
	checkExactlyOnce(t, arrivals(t, msgs), 0, want, c)
	checkAccounts(t, c)
	if c.Dropped == 0 || c.Spilled == 0 || c.Delivered+c.Dropped != 100 || before.Queued != c.Delivered {
		t.Fatalf("want some spilled, the rest dropped, and what was queued delivered: %+v", c)
	}
}

// What one run could not deliver, the next one sends first.
func TestSinkSpoolSurvivesARestartOfSightline(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	sub := mqtttest.Subscribe(t, b.URL(), "test-sub", "", "", eventsFilter)
	b.Stop(syscall.SIGTERM)
	dir := t.TempDir()
	first, err := New(Config{URL: b.URL(), Camera: "line-3", SpoolDir: dir, MemoryBytes: 1000, Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		first.Publish(numbered(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := first.Counters(); c.Queued != 50 || c.Delivered != 0 {
		t.Fatalf("the first run's counters: %+v", c)
	}

	b.Start()
	second := newSink(t, Config{URL: b.URL(), Camera: "line-3", SpoolDir: dir, MemoryBytes: 1000})
	for i := 50; i < 60; i++ {
		second.Publish(numbered(i))
	}
	msgs := awaitEvents(t, sub, 60)
	c := waitCounters(t, second, 5*time.Second, func(c Counters) bool { return c.Queued == 0 })
	checkExactlyOnce(t, arrivals(t, msgs), 0, 60, c)
	checkAccounts(t, c)
	if c.Restored != 50 || c.Sent != 10 || c.Delivered != 60 {
		t.Fatalf("the second run's counters: %+v", c)
	}
}

// online and the counts are retained, counts at most once a CountsEvery;
// the last will says offline when the connection drops, and so does Close.
func TestSinkStatusAndCounts(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	sub := mqtttest.Subscribe(t, b.URL(), "test-sub", "", "", "sightline/line-3/+")
	clk := clock.NewFake(time.Unix(0, 0))
	s := newSink(t, Config{URL: b.URL(), Camera: "line-3", Clock: clk, CountsEvery: time.Second})
	payloads := func(topic string) func([]mqtttest.Message) []string {
		return func(msgs []mqtttest.Message) (out []string) {
			for _, m := range msgs {
				if m.Topic == "sightline/line-3/"+topic {
					out = append(out, m.Payload)
				}
			}
			return out
		}
	}
	status, counts := payloads("status"), payloads("counts")
	sub.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool { return fmt.Sprint(status(m)) == "[online]" })

	gate := func(in int) Counts { return Counts{Lines: map[string]event.LineCount{"gate": {In: in}}} }
	s.PublishCounts(gate(1))
	sub.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool { return len(counts(m)) == 1 })
	<-clk.Waits() // the sink now waits CountsEvery before the next counts
	s.PublishCounts(gate(2))
	s.PublishCounts(gate(3))
	s.PublishCounts(gate(3))
	time.Sleep(200 * time.Millisecond)
	if got := counts(sub.Messages()); len(got) != 1 {
		t.Fatalf("counts before CountsEvery passed: %v", got)
	}
	clk.Advance(time.Second)
	msgs := sub.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool { return len(counts(m)) == 2 })
	if got, want := fmt.Sprint(counts(msgs)), `[{"lines":{"gate":{"in":1,"out":0}}} {"lines":{"gate":{"in":3,"out":0}}}]`; got != want {
		t.Fatalf("counts = %s, want %s", got, want)
	}

	s.cm.TerminateConnectionForTest() // as if the network dropped: the broker sends the will
	sub.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool {
		return fmt.Sprint(status(m)) == "[online offline online]"
	})
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	sub.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool {
		return fmt.Sprint(status(m)) == "[online offline online offline]"
	})
	late := mqtttest.Subscribe(t, b.URL(), "late-sub", "", "", "sightline/line-3/+")
	retained := late.WaitFor(t, 5*time.Second, func(m []mqtttest.Message) bool { return len(m) == 2 })
	for _, m := range retained {
		if !m.Retain {
			t.Errorf("%s %s is not retained", m.Topic, m.Payload)
		}
	}
	if s, c := status(retained), counts(retained); fmt.Sprint(s) != "[offline]" || fmt.Sprint(c) != `[{"lines":{"gate":{"in":3,"out":0}}}]` {
		t.Fatalf("retained status %v and counts %v", s, c)
	}
}

// Close ends every goroutine the sink started, also when the broker never
// answered.
func TestSinkCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := New(Config{URL: "mqtt://127.0.0.1:1", Camera: "line-3", Backoff: fastBackoff}) // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	s.Publish(numbered(0))
	time.Sleep(100 * time.Millisecond) // a few connection attempts
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
}
