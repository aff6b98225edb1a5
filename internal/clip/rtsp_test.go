package clip

import (
	"context"
	"testing"
	"time"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/video"
	"github.com/sightline/sightline/video/videotest"
)

// A clip of an RTSP stream (GStreamer's server on loopback, H.264 at
// 25 fps with a keyframe a second): the packets are copied as received,
// the clip plays and lasts pre + post ± one GOP. Then the server dies
// 1 s into a second clip's post-roll: the lost connection ends the
// stream and the clip is finalised with what arrived.
func TestClipOfRTSPStream(t *testing.T) {
	checkLeaks(t)
	srv := videotest.StartRTSP(t, videotest.FreePort(t), videotest.Live(t), false)
	ev := newEvents()
	clips, err := New(Config{Dir: t.TempDir(), Camera: "dock 4", Pre: 2 * time.Second, Post: 2 * time.Second,
		Events: ev, Clock: clock.NewFake(stamp)})
	if err != nil {
		t.Fatal(err)
	}
	defer clips.Close()
	src, err := video.Open(context.Background(), srv.URL(), video.Options{Packets: clips})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	var at time.Duration
	readUntil(t, src, 30*time.Second, func(f *video.Frame) bool {
		if at == 0 && f.PTS >= 3*time.Second {
			at = f.PTS
			if _, err := clips.Trigger("operator", at); err != nil {
				t.Fatal(err)
			}
		}
		return len(ev.clips()) == 0
	})
	c := waitClip(t, ev, 10*time.Second)
	t.Logf("triggered at %v: %+v", at, *c)
	if c.PreS < 2 || c.PreS >= 3 || c.PostS < 2 || c.PostS > 2.1 {
		t.Errorf("pre_s %.3f, post_s %.3f: want 2 ≤ pre < 3 and post 2", c.PreS, c.PostS)
	}
	checkClip(t, c.File, 4*time.Second, time.Second)

	var second time.Duration
	readUntil(t, src, 30*time.Second, func(f *video.Frame) bool {
		if second == 0 {
			second = f.PTS
			if _, err := clips.Trigger("operator", second); err != nil {
				t.Fatal(err)
			}
		}
		return f.PTS < second+time.Second
	})
	srv.Kill()
	c = waitClip(t, ev, 10*time.Second)
	t.Logf("server killed 1 s into the post-roll: %+v", *c)
	if c.PostS < 0.9 || c.PostS > 1.5 {
		t.Errorf("post_s %.3f: want about 1 s, what arrived before the server died", c.PostS)
	}
	checkClip(t, c.File, time.Duration((c.PreS+c.PostS)*float64(time.Second)), 100*time.Millisecond)
}
