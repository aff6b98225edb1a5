package clip

import (
	"image"
	"image/color"
	"strconv"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/clock"
	"github.com/sightline/sightline/video"
)

// Raw pictures (a webcam's, or the drawn frames of annotated clips) are
// encoded once by video.PacketEncoder into the same ring: the clip around
// a trigger plays, starts on a keyframe at 0 and lasts pre + post ± one
// GOP (the encoder makes one a second). Closing the encoder ends the
// stream, which finalises the clip.
func TestClipOfEncodedFrames(t *testing.T) {
	checkLeaks(t)
	ev := newEvents()
	clips, err := New(Config{Dir: t.TempDir(), Camera: "webcam-0", Pre: 2 * time.Second, Post: 2 * time.Second,
		Events: ev, Clock: clock.NewFake(stamp)})
	if err != nil {
		t.Fatal(err)
	}
	defer clips.Close()
	enc := video.NewPacketEncoder(clips, 25)
	m := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer m.Close()
	const at = 5 * time.Second
	for i := range 250 { // 10 s at 25 fps
		pts := time.Duration(i) * 40 * time.Millisecond
		m.SetTo(gocv.NewScalar(40, 90, 160, 0))
		gocv.PutText(&m, strconv.Itoa(i), image.Pt(10+i%250, 130), gocv.FontHersheySimplex, 1.5, color.RGBA{255, 255, 255, 0}, 2)
		if !enc.EncodeWait(m, pts) {
			t.Fatal("the encoder refused a picture")
		}
		if pts == at {
			if _, err := clips.TriggerNow("key"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	c := waitClip(t, ev, 10*time.Second)
	t.Logf("%+v", *c)
	if enc.Dropped() != 0 {
		t.Errorf("%d pictures dropped", enc.Dropped())
	}
	checkClip(t, c.File, 4*time.Second, time.Second)
}
