package mqtt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func rec(i int) record {
	return record{topic: "sightline/cam/events/status", payload: fmt.Appendf(nil, `{"n":%03d}`, i)}
}

// recSize is the size of one rec in memory (42 bytes); on disk it takes 2 more.
var recSize = rec(0).size()

// drain pops everything, checking the order, and returns how many came out.
func drain(t *testing.T, q *spool, first int) int {
	t.Helper()
	n := 0
	for {
		r, ok, err := q.head()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n
		}
		if want := rec(first + n); string(r.payload) != string(want.payload) || r.topic != want.topic {
			t.Fatalf("record %d is %s %s, want %s", n, r.topic, r.payload, want.payload)
		}
		q.pop()
		n++
	}
}

func TestSpoolOrderAndBounds(t *testing.T) {
	tests := []struct {
		name                    string
		noFile                  bool
		memRecs, fileRecs, push int
		inMem, spilled, dropped int
	}{
		{"fits in memory", false, 10, 10, 8, 8, 0, 0},
		{"spills in order", false, 4, 100, 30, 4, 26, 0},
		{"drops the newest past the file bound", false, 4, 10, 30, 4, 10, 16},
		{"memory only drops past memory", true, 4, 0, 30, 4, 0, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "q.spool")
			if tt.noFile {
				path = ""
			}
			q, err := openSpool(path, tt.memRecs*recSize, int64(tt.fileRecs*(recSize+2)))
			if err != nil {
				t.Fatal(err)
			}
			got := map[pushed]int{}
			for i := range tt.push {
				where, err := q.push(rec(i))
				if err != nil {
					t.Fatal(err)
				}
				got[where]++
			}
			if got[inMemory] != tt.inMem || got[spilled] != tt.spilled || got[dropped] != tt.dropped {
				t.Fatalf("memory/spilled/dropped = %d/%d/%d, want %d/%d/%d",
					got[inMemory], got[spilled], got[dropped], tt.inMem, tt.spilled, tt.dropped)
			}
			if tt.dropped > 0 { // once full, even a message that would fit waits for the backlog to drain
				if where, _ := q.push(record{topic: "t", payload: []byte("{}")}); where != dropped {
					t.Fatal("a small message slipped in after the spool filled up")
				}
			}
			if n := drain(t, q, 0); n != tt.inMem+tt.spilled {
				t.Fatalf("drained %d, want %d", n, tt.inMem+tt.spilled)
			}
			if path != "" {
				if st, err := os.Stat(path); err != nil || st.Size() != 0 {
					t.Fatalf("a delivered spool must be emptied: %v %v", st, err)
				}
			}
		})
	}
}

// New records wait behind spilled ones even when memory has room again,
// and a file refilled while its last chunk is in memory keeps its order.
func TestSpoolInterleaved(t *testing.T) {
	q, err := openSpool(filepath.Join(t.TempDir(), "q.spool"), 3*recSize, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	next, popped := 0, 0
	for round := range 20 {
		for range round%7 + 1 {
			if _, err := q.push(rec(next)); err != nil {
				t.Fatal(err)
			}
			next++
		}
		for range round%5 + 1 {
			r, ok, err := q.head()
			if err != nil || !ok {
				t.Fatalf("head: %v %v", ok, err)
			}
			if want := rec(popped); string(r.payload) != string(want.payload) {
				t.Fatalf("got %s, want %s", r.payload, want.payload)
			}
			q.pop()
			popped++
			if q.len() == 0 {
				break
			}
		}
	}
	if n := drain(t, q, popped); popped+n != next {
		t.Fatalf("%d popped and %d drained of %d pushed", popped, n, next)
	}
}

// What a run could not deliver is there, in order, for the next one: after
// a clean close everything; after a crash what was spilled, from the last
// delivered chunk on, without a half-written last line.
func TestSpoolSurvivesRestart(t *testing.T) {
	t.Run("clean close", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "q.spool")
		q, _ := openSpool(path, 5*recSize, 1<<20)
		for i := range 12 {
			_, _ = q.push(rec(i))
		}
		for range 2 { // two delivered: 10 wait, 3 in memory and 7 in the file
			_, _, _ = q.head()
			q.pop()
		}
		if err := q.close(); err != nil {
			t.Fatal(err)
		}
		q2, err := openSpool(path, 5*recSize, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if q2.restored != 10 || q2.len() != 10 {
			t.Fatalf("restored %d, len %d, want 10", q2.restored, q2.len())
		}
		_, _ = q2.push(rec(12))
		if n := drain(t, q2, 2); n != 11 {
			t.Fatalf("drained %d, want 11", n)
		}
		if err := q2.close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("an empty spool leaves no file: %v", err)
		}
	})
	t.Run("crash", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "q.spool")
		q, _ := openSpool(path, 2*recSize, 1<<20)
		for i := range 10 { // 2 in memory, 8 spilled
			_, _ = q.push(rec(i))
		}
		for range 5 { // the memory two, a chunk of two from the file, and one of the next chunk
			_, _, _ = q.head()
			q.pop()
		}
		// The process dies: no close. A half-written line ends the file.
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		_, _ = f.WriteString("sightline/cam/events/sta")
		f.Close()
		q2, err := openSpool(path, 2*recSize, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		// Resent from the chunk in memory at the crash: 4 (again) to 9.
		if q2.restored != 6 {
			t.Fatalf("restored %d, want 6", q2.restored)
		}
		if n := drain(t, q2, 4); n != 6 {
			t.Fatalf("drained %d, want 6", n)
		}
	})
}
