//go:build matprofile

package video

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/video/videotest"
)

// TestNoMatLeaks plays a file, a live stream (with drops and a kill and
// restart) and a recording, and checks that every gocv.Mat was closed.
// Run with: go test -tags matprofile -run TestNoMatLeaks ./video/
func TestNoMatLeaks(t *testing.T) {
	checkLeaks(t)
	base := gocv.MatProfile.Count()
	defer func() {
		if n := gocv.MatProfile.Count(); n != base {
			var b bytes.Buffer
			gocv.MatProfile.WriteTo(&b, 1)
			t.Errorf("%d Mats not closed:\n%s", n-base, b.String())
		}
	}()

	src, err := Open(context.Background(), demoVideo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecorder(filepath.Join(t.TempDir(), "r.mp4"), 768, 576, 10)
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq < 20 {
			rec.Write(f.Mat, f.PTS)
		}
		f.Release()
	}
	src.Close()
	rec.Close()

	srv := videotest.StartRTSP(t, videotest.FreePort(t), videotest.Live(t), false)
	live, err := Open(context.Background(), srv.URL(), Options{OpenTimeout: 5 * time.Second, Backoff: clock.Backoff{Initial: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		time.Sleep(60 * time.Millisecond) // slower than the stream: drops
		readN(t, live, 1, 5*time.Second)
	}
	srv.Kill()
	srv.Start()
	readN(t, live, 10, 10*time.Second)
	held, err := live.Next(context.Background()) // a frame the consumer still holds at Close
	if err != nil {
		t.Fatal(err)
	}
	live.Close()
	held.Release()
	if st := live.Stats(); st.Dropped == 0 || st.Reconnects == 0 {
		t.Errorf("Stats = %+v, want drops and a reconnect", st)
	}
}
