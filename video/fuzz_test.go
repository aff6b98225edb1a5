package video

import (
	"errors"
	"strconv"
	"testing"
)

// FuzzParse: source URIs come from users' command lines and settings.
// Seeds are the contract's forms (../shared/docs/interfaces.md) and the
// near misses users type.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/usr/share/doc/opencv-doc/examples/data/vtest.avi", "clip.mp4", "file:///tmp/clip.mp4",
		"file://localhost/tmp/a%20b.mp4", "file:///dev/video0", "file://", "rtsp://camera/stream", "rtsp://user:pass@10.0.0.7:554/h264?ch=1",
		"rtsps://cam.example.com:322/live", "http://example.com/stream.m3u8", "HTTPS://example.com/x.mp4",
		"webcam:0", "webcam:12", "webcam:-1", "webcam:", "webcam:+3", "/dev/video0", "/dev/video", "/dev/video-2",
		"ftp://example.com/x.mp4", "://nothing", "rtsp://[::1]:8554/s", "rtsp://%zz", "C:\\videos\\a.mp4", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		kind, target, err := Parse(uri)
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrUnsupported", uri, err)
			}
			return
		}
		switch kind {
		case KindWebcam:
			n, err := strconv.Atoi(target)
			if err != nil || n < 0 || strconv.Itoa(n) != target {
				t.Fatalf("Parse(%q): webcam %q is not a canonical index", uri, target)
			}
			// The canonical form names the same webcam.
			if k, again, err := Parse("webcam:" + target); err != nil || k != KindWebcam || again != target {
				t.Fatalf("webcam:%s parses as %v %q %v", target, k, again, err)
			}
		case KindStream:
			if target != uri {
				t.Fatalf("Parse(%q): stream target %q, want the URI unchanged (FFmpeg reads it)", uri, target)
			}
		case KindFile:
			if uri != "" && target == uri {
				break // a plain path is passed on as it is
			}
			// A file:// URI yields its decoded path, which names the same
			// file when given by itself (or the same device, /dev/videoN);
			// a path that looks like a URI is only reachable as file://.
			k, again, err := Parse(target)
			if target != "" && err == nil && k != KindWebcam && (k != KindFile || again != target) {
				t.Fatalf("Parse(%q) = file %q, but that path parses as %v %q", uri, target, k, again)
			}
		default:
			t.Fatalf("Parse(%q): unknown kind %v", uri, kind)
		}
	})
}
