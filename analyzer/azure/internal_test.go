package azure

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0"}}, 0},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond},
		{http.Header{"X-Ms-Retry-After-Ms": {"20"}, "Retry-After": {"9"}}, 20 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, -1},
		{http.Header{"Retry-After": {"-4"}}, -1},
		{http.Header{}, -1},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("parseRetryAfter(%v) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestSniffFormat(t *testing.T) {
	mpo := []byte{0xFF, 0xD8, 0xFF, 0xE2, 0x00, 0x08, 'M', 'P', 'F', 0x00, 0, 0, 0xFF, 0xDA}
	tests := []struct {
		data []byte
		want string
	}{
		{[]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, formatJPEG},
		{mpo, formatMPO},
		{[]byte("\x89PNG\r\n\x1a\n...."), formatPNG},
		{[]byte("GIF89a......"), formatGIF},
		{append([]byte("BM"), make([]byte, 30)...), formatBMP},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), formatWEBP},
		{[]byte{0, 0, 1, 0, 1, 0}, formatICO},
		{[]byte("II*\x00\x08\x00\x00\x00"), formatTIFF},
		{[]byte("MM\x00*\x00\x00\x00\x08"), formatTIFF},
		{[]byte("%PDF-1.7"), ""},
	}
	for _, tt := range tests {
		if got, _ := sniffFormat(tt.data); got != tt.want {
			t.Errorf("sniffFormat(% x) = %q, want %q", tt.data[:min(8, len(tt.data))], got, tt.want)
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
		format string
		data   []byte
		w, h   int
	}{
		{formatICO, ico, 256, 256},
		{formatWEBP, vp8x, 16000, 48},
		{formatTIFF, tiff, 64, 400},
	}
	for _, tt := range tests {
		w, h, err := declaredSize(tt.format, tt.data)
		if err != nil || w != tt.w || h != tt.h {
			t.Errorf("%s: %d×%d, %v; want %d×%d", tt.format, w, h, err, tt.w, tt.h)
		}
	}
}
