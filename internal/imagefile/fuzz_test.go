package imagefile

import (
	"testing"

	"github.com/sightline/sightline/internal/imagefile/imagetest"
)

// FuzzInspect: the header readers see every byte a user passes; none may
// panic, and a header they accept declares a real size.
func FuzzInspect(f *testing.F) {
	jpg, png := imagetest.JPEG(f, 32, 24), imagetest.PNG(f, 32, 24)
	for _, seed := range [][]byte{jpg, png, imagetest.Cut(jpg, 0.5), imagetest.Cut(png, 0.5),
		imagetest.BMPDeclaring(40000, 40000), imagetest.PNGDeclaring(f, 50000, 50000),
		[]byte("P7\nWIDTH 227\nHEIGHT 149\nENDHDR\n\x00"), []byte("PF\n32 16\n-1.0\n\x00"),
		[]byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x7f\x3e\x00\x2f\x00\x00"),
		[]byte("II*\x00\x08\x00\x00\x00\x01\x00\x00\x01\x03\x00\x01\x00\x00\x00\x40\x00\x00\x00")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Inspect(b)
		if err == nil && (h.Width <= 0 || h.Height <= 0 || h.Format == "") {
			t.Fatalf("accepted %+v", h)
		}
	})
}
