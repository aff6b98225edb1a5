package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	_ "image/gif" // DecodeConfig for the formats the standard library knows
	_ "image/jpeg"
	_ "image/png"
	"strconv"
)

// Sniff identifies a format by its magic bytes. They are the signatures
// OpenCV picks its decoder by, so what Sniff names is what OpenCV decodes.
func Sniff(b []byte) (Format, bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		if mpo, _ := jpegSegments(b); mpo {
			return MPO, true
		}
		return JPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, true
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, true
	case bytes.HasPrefix(b, []byte("BM")) && len(b) >= 26:
		return BMP, true
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return WEBP, true
	case bytes.HasPrefix(b, []byte{0, 0, 1, 0}):
		return ICO, true
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return TIFF, true
	case len(b) >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7' && isSpace(b[2]):
		return PNM, true
	case len(b) >= 3 && b[0] == 'P' && (b[1] == 'F' || b[1] == 'f') && isSpace(b[2]):
		return PFM, true
	}
	return "", false
}

// jpegSegments walks a JPEG's marker segments up to its first scan: mpo
// says whether a multi-picture (MPF) APP2 segment came first, scan is
// where the entropy-coded data starts (0 if no scan was found).
func jpegSegments(b []byte) (mpo bool, scan int) {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		marker := b[i+1]
		if marker == 0xD9 { // end of image before any scan
			return mpo, 0
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if marker == 0xE2 && i+8 <= len(b) && string(b[i+4:i+8]) == "MPF\x00" {
			mpo = true
		}
		if marker == 0xDA {
			return mpo, i + 2 + n
		}
		i += 2 + n
	}
	return mpo, 0
}

var errShortHeader = errors.New("header too short")

// declaredSize reads an image's width and height from its header, without
// decoding pixels, so that absurd sizes are refused before any allocation.
func declaredSize(f Format, b []byte) (w, h int, err error) {
	switch f {
	case JPEG, MPO, PNG, GIF:
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		return cfg.Width, cfg.Height, err
	case BMP:
		return bmpSize(b)
	case WEBP:
		return webpSize(b)
	case ICO:
		return icoSize(b)
	case TIFF:
		return tiffSize(b)
	case PNM:
		return pnmSize(b)
	case PFM:
		return pfmSize(b)
	}
	return 0, 0, errors.New("unknown format")
}

// truncated reports whether the file ends before its image data: a JPEG
// without an end-of-image marker after its first scan (entropy-coded data
// escapes every 0xFF, so the first FF D9 there is the marker), a PNG whose
// chunks stop before IEND, a WEBP or BMP shorter than its header says.
func truncated(f Format, b []byte) bool {
	switch f {
	case JPEG, MPO:
		_, scan := jpegSegments(b)
		return scan == 0 || scan > len(b) || !bytes.Contains(b[scan:], []byte{0xFF, 0xD9})
	case PNG:
		return !pngComplete(b)
	case WEBP:
		return len(b) < 8+int(binary.LittleEndian.Uint32(b[4:]))
	case BMP:
		return len(b) < int(binary.LittleEndian.Uint32(b[2:]))
	}
	return false
}

// pngComplete walks the chunks up to IEND.
func pngComplete(b []byte) bool {
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		if string(b[i+4:i+8]) == "IEND" {
			return true
		}
		if n < 0 || n > len(b) {
			return false
		}
		i += 12 + n
	}
	return false
}

func bmpSize(b []byte) (int, int, error) {
	if len(b) < 26 {
		return 0, 0, errShortHeader
	}
	if binary.LittleEndian.Uint32(b[14:]) == 12 { // OS/2 BITMAPCOREHEADER
		return int(binary.LittleEndian.Uint16(b[18:])), int(binary.LittleEndian.Uint16(b[20:])), nil
	}
	w := int(int32(binary.LittleEndian.Uint32(b[18:])))
	h := int(int32(binary.LittleEndian.Uint32(b[22:])))
	if h < 0 { // top-down bitmap
		h = -h
	}
	return w, h, nil
}

func webpSize(b []byte) (int, int, error) {
	if len(b) < 30 {
		return 0, 0, errShortHeader
	}
	switch string(b[12:16]) {
	case "VP8 ": // lossy: frame header after a 3-byte tag and start code
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a {
			return 0, 0, errors.New("bad VP8 start code")
		}
		return int(binary.LittleEndian.Uint16(b[26:]) & 0x3fff), int(binary.LittleEndian.Uint16(b[28:]) & 0x3fff), nil
	case "VP8L": // lossless: 14-bit width-1 and height-1 after the signature
		if b[20] != 0x2f {
			return 0, 0, errors.New("bad VP8L signature")
		}
		bits := binary.LittleEndian.Uint32(b[21:])
		return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, nil
	case "VP8X": // extended: 24-bit canvas width-1 and height-1
		w := int(b[24]) | int(b[25])<<8 | int(b[26])<<16
		h := int(b[27]) | int(b[28])<<8 | int(b[29])<<16
		return w + 1, h + 1, nil
	}
	return 0, 0, errors.New("unknown WEBP chunk")
}

// icoSize returns the largest image in an icon directory (0 means 256 px).
func icoSize(b []byte) (w, h int, err error) {
	if len(b) < 6 {
		return 0, 0, errShortHeader
	}
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if count == 0 || len(b) < 6+16*count {
		return 0, 0, errShortHeader
	}
	for i := range count {
		e := b[6+16*i:]
		ew, eh := int(e[0]), int(e[1])
		if ew == 0 {
			ew = 256
		}
		if eh == 0 {
			eh = 256
		}
		w, h = max(w, ew), max(h, eh)
	}
	return w, h, nil
}

// tiffSize reads the first image's size, the one OpenCV decodes.
func tiffSize(b []byte) (w, h int, err error) {
	if len(b) < 8 {
		return 0, 0, errShortHeader
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b[0] == 'M' {
		order = binary.BigEndian
	}
	off := int(order.Uint32(b[4:]))
	if off < 8 || off+2 > len(b) {
		return 0, 0, errShortHeader
	}
	n := int(order.Uint16(b[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if e+12 > len(b) {
			return 0, 0, errShortHeader
		}
		tag, typ := order.Uint16(b[e:]), order.Uint16(b[e+2:])
		var v int
		switch typ {
		case 3: // SHORT
			v = int(order.Uint16(b[e+8:]))
		case 4: // LONG
			v = int(order.Uint32(b[e+8:]))
		default:
			continue
		}
		switch tag {
		case 256:
			w = v
		case 257:
			h = v
		}
	}
	if w == 0 || h == 0 {
		return 0, 0, errors.New("no ImageWidth/ImageLength tags")
	}
	return w, h, nil
}

// pnmSize reads "P1"…"P6 width height" (comments allowed) and PAM's
// "P7 … WIDTH w HEIGHT h … ENDHDR".
func pnmSize(b []byte) (w, h int, err error) {
	tok := headerTokens(b[2:])
	if b[1] != '7' {
		w, h = tok.int(), tok.int()
		return w, h, tok.err
	}
	for tok.err == nil {
		switch tok.word() {
		case "WIDTH":
			w = tok.int()
		case "HEIGHT":
			h = tok.int()
		case "ENDHDR":
			return w, h, nil
		}
	}
	return 0, 0, tok.err
}

// pfmSize reads "PF width height" (or "Pf" for grey).
func pfmSize(b []byte) (w, h int, err error) {
	tok := headerTokens(b[2:])
	w, h = tok.int(), tok.int()
	return w, h, tok.err
}

// tokens splits a text header into whitespace-separated words, skipping
// '#' comments; it never reads past the first 4 KiB.
type tokens struct {
	b   []byte
	err error
}

func headerTokens(b []byte) *tokens { return &tokens{b: b[:min(len(b), 4096)]} }

func (t *tokens) word() string {
	for len(t.b) > 0 && (isSpace(t.b[0]) || t.b[0] == '#') {
		if t.b[0] == '#' {
			if i := bytes.IndexByte(t.b, '\n'); i >= 0 {
				t.b = t.b[i:]
			} else {
				t.b = nil
			}
			continue
		}
		t.b = t.b[1:]
	}
	i := 0
	for i < len(t.b) && !isSpace(t.b[i]) && t.b[i] != '#' {
		i++
	}
	if i == 0 || i == len(t.b) { // a header word is always followed by more
		t.err = errShortHeader
		return ""
	}
	w := string(t.b[:i])
	t.b = t.b[i:]
	return w
}

func (t *tokens) int() int {
	w := t.word()
	if t.err != nil {
		return 0
	}
	n, err := strconv.Atoi(w)
	if err != nil || n <= 0 {
		t.err = errors.New("bad size " + strconv.Quote(w))
	}
	return n
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
