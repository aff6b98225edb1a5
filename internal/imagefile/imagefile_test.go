package imagefile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/imagefile/imagetest"
)

func TestSniff(t *testing.T) {
	mpo := []byte{0xFF, 0xD8, 0xFF, 0xE2, 0x00, 0x08, 'M', 'P', 'F', 0x00, 0, 0, 0xFF, 0xDA}
	tests := []struct {
		data []byte
		want Format
	}{
		{[]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, JPEG},
		{mpo, MPO},
		{[]byte("\x89PNG\r\n\x1a\n...."), PNG},
		{[]byte("GIF89a......"), GIF},
		{append([]byte("BM"), make([]byte, 30)...), BMP},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), WEBP},
		{[]byte{0, 0, 1, 0, 1, 0}, ICO},
		{[]byte("II*\x00\x08\x00\x00\x00"), TIFF},
		{[]byte("MM\x00*\x00\x00\x00\x08"), TIFF},
		{[]byte("P6\n640 480\n255\n"), PNM},
		{[]byte("P7\nWIDTH 4\n"), PNM},
		{[]byte("PF\n640 480\n"), PFM},
		{[]byte("%PDF-1.7"), ""},
		{[]byte("#?RADIANCE\n"), ""},            // OpenCV reads it; Sightline does not
		{[]byte{0x59, 0xa6, 0x6a, 0x95, 0}, ""}, // Sun raster, likewise
	}
	for _, tt := range tests {
		if got, _ := Sniff(tt.data); got != tt.want {
			t.Errorf("Sniff(% x) = %q, want %q", tt.data[:min(8, len(tt.data))], got, tt.want)
		}
	}
}

func TestDeclaredSizeOfHeaders(t *testing.T) {
	ico := []byte{0, 0, 1, 0, 2, 0}
	ico = append(ico, append([]byte{32, 32}, make([]byte, 14)...)...)
	ico = append(ico, append([]byte{0, 0}, make([]byte, 14)...)...) // 256×256
	vp8x := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
	vp8x = append(vp8x, 0x7f, 0x3e, 0x00, 0x2f, 0x00, 0x00) // 16000×48
	tiff := []byte("II*\x00\x08\x00\x00\x00\x02\x00" +
		"\x00\x01\x03\x00\x01\x00\x00\x00\x40\x00\x00\x00" + // width 64 (SHORT)
		"\x01\x01\x04\x00\x01\x00\x00\x00\x90\x01\x00\x00") // height 400 (LONG)
	tests := []struct {
		format Format
		data   []byte
		w, h   int
	}{
		{ICO, ico, 256, 256},
		{WEBP, vp8x, 16000, 48},
		{TIFF, tiff, 64, 400},
		{PNM, []byte("P6\n# made by hand\n640 480\n255\n\x00"), 640, 480},
		{PNM, []byte("P4 60000\t60000 \x00"), 60000, 60000},
		{PNM, []byte("P7\nWIDTH 227\nHEIGHT 149\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n\x00"), 227, 149},
		{PFM, []byte("Pf\n32 16\n-1.0\n\x00"), 32, 16},
	}
	for _, tt := range tests {
		w, h, err := declaredSize(tt.format, tt.data)
		if err != nil || w != tt.w || h != tt.h {
			t.Errorf("%s: %d×%d, %v; want %d×%d", tt.format, w, h, err, tt.w, tt.h)
		}
	}
	for _, bad := range []string{"P6\n640", "P6\n-1 480\n255\n", "P7\nWIDTH 2\n", "PF\n1e9 2\n"} {
		f, _ := Sniff([]byte(bad))
		if _, _, err := declaredSize(f, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func scanStart(t *testing.T, b []byte) int {
	_, scan := jpegSegments(b)
	if scan == 0 {
		t.Fatal("no scan in the JPEG")
	}
	return scan
}

// TestDecode: good files decode, a truncated JPEG decodes and says so,
// and every hostile file is refused with a reason before OpenCV sees it.
func TestDecode(t *testing.T) {
	goodJPEG, goodPNG := imagetest.JPEG(t, 640, 480), imagetest.PNG(t, 320, 200)
	tests := []struct {
		name      string
		data      []byte
		w, h      int      // a decoded picture of this size
		truncated bool     // and the header says it was cut
		err       error    // or this error
		says      []string // with these words
	}{
		{name: "jpeg", data: goodJPEG, w: 640, h: 480},
		{name: "png", data: goodPNG, w: 320, h: 200},
		{name: "jpeg with trailing bytes", data: append(bytes.Clone(goodJPEG), "trailer"...), w: 640, h: 480},
		{name: "truncated jpeg", data: imagetest.Cut(goodJPEG, 0.6), w: 640, h: 480, truncated: true},
		{name: "jpeg cut in its header", data: goodJPEG[:300], err: ErrTruncated, says: []string{"JPEG ends inside its header"}},
		{name: "jpeg cut before its scan", data: goodJPEG[:scanStart(t, goodJPEG)-4], err: ErrTruncated, says: []string{"JPEG ends before its image data"}},
		{name: "truncated png", data: imagetest.Cut(goodPNG, 0.6), err: ErrTruncated, says: []string{"PNG ends before its image data", "320×200"}},
		{name: "png 50000×50000", data: imagetest.PNGDeclaring(t, 50000, 50000), err: ErrTooLarge, says: []string{"50000×50000 px", "2500 MP", "up to 50 MP"}},
		{name: "jpeg 65000×65000", data: imagetest.JPEGDeclaring(t, 65000, 65000), err: ErrTooLarge, says: []string{"65000×65000"}},
		{name: "pnm 60000×60000", data: []byte("P6\n60000 60000\n255\n\x00\x00\x00"), err: ErrTooLarge},
		{name: "bmp 40000×40000", data: imagetest.BMPDeclaring(40000, 40000), err: ErrTooLarge},
		{name: "garbage", data: bytes.Repeat([]byte("\x13garbage\xfe"), 50), err: ErrUnknownFormat, says: []string{"13 67 61"}},
		{name: "radiance hdr", data: []byte("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 60000 +X 60000\n"), err: ErrUnknownFormat},
		{name: "gif", data: []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00;"), says: []string{"GIF images are not decoded locally"}},
		{name: "empty", data: nil, says: []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, h, err := Decode(tt.data)
			if err == nil {
				defer m.Close()
			}
			if tt.w > 0 {
				if err != nil || m.Cols() != tt.w || m.Rows() != tt.h || h.Truncated != tt.truncated {
					t.Fatalf("%d×%d, truncated %v, %v; want %d×%d, truncated %v", m.Cols(), m.Rows(), h.Truncated, err, tt.w, tt.h, tt.truncated)
				}
				return
			}
			if err == nil || m.Ptr() != nil {
				t.Fatalf("decoded %d×%d, want an error", m.Cols(), m.Rows())
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error %q is not %v", err, tt.err)
			}
			for _, w := range tt.says {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestDecodeBomb: a small PNG whose pixels would take 1.2 GB is refused
// by its declared size, before any allocation.
func TestDecodeBomb(t *testing.T) {
	bomb := imagetest.PNGBomb(t, 20000, 20000)
	if len(bomb) > 2<<20 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	if _, _, err := Decode(bomb); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "400 MP") {
		t.Errorf("Decode = %v, want too large (400 MP)", err)
	}
}

// TestOpenCVExceptionsCaught: a header past OpenCV's own limit makes it
// throw; the exception becomes an error instead of aborting the process.
func TestOpenCVExceptionsCaught(t *testing.T) {
	m, _, err := Decode(imagetest.PNG(t, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	err = decodeInto(imagetest.PNGDeclaring(t, 50000, 50000), m)
	if err == nil || !strings.Contains(err.Error(), "CV_IO_MAX_IMAGE_PIXELS") {
		t.Errorf("decodeInto = %v, want OpenCV's exception as an error", err)
	}
	if !m.Empty() {
		t.Error("the Mat keeps pixels after a failed decode")
	}
}

func TestLimits(t *testing.T) {
	h := Header{Format: PNG, Width: 8660, Height: 5773}
	if err := h.CheckLimits(1 << 20); err != nil {
		t.Errorf("a 50 MP image refused: %v", err)
	}
	h.Height++
	if err := h.CheckLimits(1 << 20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over 50 MP: %v", err)
	}
	if err := (Header{Format: JPEG, Width: 10, Height: 10}).CheckLimits(MaxBytes + 1); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "128.0 MiB") {
		t.Errorf("over MaxBytes: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.jpg")
	if err := os.WriteFile(small, []byte("\xff\xd8\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(small); err != nil || len(b) != 3 {
		t.Errorf("ReadFile = %d bytes, %v", len(b), err)
	}
	big := filepath.Join(dir, "big.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadFile(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a file over MaxBytes: %v", err)
	}
	if _, err := ReadFile("/dev/zero"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("an endless file: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
