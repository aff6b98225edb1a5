package azure

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	_ "image/gif" // DecodeConfig for the formats the standard library knows
	_ "image/jpeg"
	_ "image/png"
	"math"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

// Limits of the services (Image Analysis 4.0 and Custom Vision docs).
const (
	MinSide            = 50
	MaxSideLimit       = 16000
	VisionMaxBytes     = 20 << 20
	PredictionMaxBytes = 4 << 20
	// DefaultMaxSide is the longest side uploaded by default: large enough
	// for the service's models, small enough to upload quickly.
	DefaultMaxSide = 1600
	jpegQuality    = 85
)

// Image formats the services accept, as named in their docs.
const (
	formatJPEG = "JPEG"
	formatPNG  = "PNG"
	formatGIF  = "GIF"
	formatBMP  = "BMP"
	formatWEBP = "WEBP"
	formatICO  = "ICO"
	formatTIFF = "TIFF"
	formatMPO  = "MPO"
)

const acceptedFormats = "JPEG, PNG, GIF, BMP, WEBP, ICO, TIFF or MPO"

// upload is an image ready to send, and how its pixels relate to the
// caller's image.
type upload struct {
	body         []byte
	sentW, sentH int // the uploaded image's size
	origW, origH int // the caller's image's size
}

// scaled reports whether coordinates must be mapped back to the original.
func (u upload) scaled() bool { return u.sentW != u.origW || u.sentH != u.origH }

// uploadLimits differ between Image Analysis and Custom Vision.
type uploadLimits struct {
	maxBytes int
	maxSide  int // downscale target; <= 0 disables downscaling
}

// prepareUpload checks img locally and returns what to upload: the original
// bytes, or a downscaled JPEG when the image is larger than maxSide and the
// JPEG is smaller. img.URL is the caller's business, not handled here.
func prepareUpload(img analyzer.Image, lim uploadLimits) (upload, error) {
	if img.Bytes != nil {
		return prepareBytes(img.Bytes, lim)
	}
	if matUsable(img.Mat) {
		return prepareMat(img.Mat, lim)
	}
	return upload{}, imageErrorf("no image: neither URL, bytes nor pixels given")
}

// matUsable guards gocv calls: a zero Mat has a nil pointer that gocv would
// dereference, and an empty Mat aborts OpenCV.
func matUsable(m gocv.Mat) bool { return m.Ptr() != nil && !m.Empty() }

func prepareBytes(data []byte, lim uploadLimits) (upload, error) {
	if len(data) == 0 {
		return upload{}, imageErrorf("the image is empty (0 bytes)")
	}
	format, ok := sniffFormat(data)
	if !ok {
		return upload{}, imageErrorf("not a %s file (starts with % x)", acceptedFormats, data[:min(len(data), 8)])
	}
	w, h, err := declaredSize(format, data)
	if err != nil {
		return upload{}, imageErrorf("unreadable %s header: %v", format, err)
	}
	if err := checkSides(w, h); err != nil {
		return upload{}, err
	}
	up := upload{body: data, sentW: w, sentH: h, origW: w, origH: h}
	if lim.maxSide > 0 && max(w, h) > lim.maxSide && decodableByOpenCV(format) {
		smaller, ok, err := downscaleBytes(data, lim.maxSide)
		if err != nil {
			return upload{}, err
		}
		if ok && len(smaller.body) < len(data) {
			up = smaller
		}
	}
	if len(up.body) >= lim.maxBytes {
		return upload{}, imageErrorf("%s is %s; the service accepts less than %s", format, formatMB(len(up.body)), formatMB(lim.maxBytes))
	}
	return up, nil
}

func prepareMat(m gocv.Mat, lim uploadLimits) (upload, error) {
	if err := checkSides(m.Cols(), m.Rows()); err != nil {
		return upload{}, err
	}
	up, err := encodeJPEG(m, lim.maxSide)
	if err != nil {
		return upload{}, err
	}
	if len(up.body) >= lim.maxBytes {
		return upload{}, imageErrorf("JPEG is %s; the service accepts less than %s", formatMB(len(up.body)), formatMB(lim.maxBytes))
	}
	return up, nil
}

func checkSides(w, h int) error {
	if w < MinSide || h < MinSide || w > MaxSideLimit || h > MaxSideLimit {
		return imageErrorf("%d×%d px; the service needs %d–%d px per side", w, h, MinSide, MaxSideLimit)
	}
	return nil
}

// downscaleBytes decodes data and re-encodes it as a JPEG whose longer side
// is maxSide. ok is false when OpenCV cannot decode the file; the original
// is then sent and the service judges it.
func downscaleBytes(data []byte, maxSide int) (up upload, ok bool, err error) {
	// IMReadColor applies EXIF orientation, so the coordinates we map back
	// to are those of the image as viewers show it, like the service's.
	m, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil {
		return upload{}, false, nil
	}
	defer m.Close()
	if m.Empty() {
		return upload{}, false, nil
	}
	up, err = encodeJPEG(m, maxSide)
	return up, err == nil, err
}

// encodeJPEG encodes m at quality 85, first shrinking it so that its longer
// side is at most maxSide (when maxSide > 0).
func encodeJPEG(m gocv.Mat, maxSide int) (upload, error) {
	up := upload{origW: m.Cols(), origH: m.Rows(), sentW: m.Cols(), sentH: m.Rows()}
	src := m
	if longer := max(up.origW, up.origH); maxSide > 0 && longer > maxSide {
		ratio := float64(maxSide) / float64(longer)
		up.sentW = max(1, int(math.Round(float64(up.origW)*ratio)))
		up.sentH = max(1, int(math.Round(float64(up.origH)*ratio)))
		resized := gocv.NewMat()
		defer resized.Close()
		// Area interpolation avoids aliasing when shrinking.
		gocv.Resize(m, &resized, image.Pt(up.sentW, up.sentH), 0, 0, gocv.InterpolationArea)
		if resized.Empty() {
			return upload{}, imageErrorf("resizing to %d×%d failed", up.sentW, up.sentH)
		}
		src = resized
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, src, []int{gocv.IMWriteJpegQuality, jpegQuality})
	if err != nil {
		return upload{}, imageErrorf("encoding JPEG: %v", err)
	}
	defer buf.Close()
	up.body = bytes.Clone(buf.GetBytes()) // GetBytes aliases C memory freed by Close
	return up, nil
}

// decodableByOpenCV lists the accepted formats OpenCV 4.6 can read; GIF and
// ICO are sent as they are.
func decodableByOpenCV(format string) bool {
	switch format {
	case formatJPEG, formatMPO, formatPNG, formatBMP, formatWEBP, formatTIFF:
		return true
	}
	return false
}

// sniffFormat identifies an accepted format by its magic bytes.
func sniffFormat(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		if isMPO(b) {
			return formatMPO, true
		}
		return formatJPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, true
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF, true
	case bytes.HasPrefix(b, []byte("BM")) && len(b) >= 26:
		return formatBMP, true
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return formatWEBP, true
	case bytes.HasPrefix(b, []byte{0, 0, 1, 0}):
		return formatICO, true
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return formatTIFF, true
	}
	return "", false
}

// isMPO reports whether a JPEG carries a multi-picture (MPF) APP2 segment.
func isMPO(b []byte) bool {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // image data starts
			return false
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if marker == 0xE2 && i+8 <= len(b) && string(b[i+4:i+8]) == "MPF\x00" {
			return true
		}
		i += 2 + n
	}
	return false
}

var errShortHeader = errors.New("header too short")

// declaredSize reads an image's width and height from its header, without
// decoding pixels, so that absurd sizes are rejected before any allocation.
func declaredSize(format string, b []byte) (w, h int, err error) {
	switch format {
	case formatJPEG, formatMPO, formatPNG, formatGIF:
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		return cfg.Width, cfg.Height, err
	case formatBMP:
		return bmpSize(b)
	case formatWEBP:
		return webpSize(b)
	case formatICO:
		return icoSize(b)
	case formatTIFF:
		return tiffSize(b)
	}
	return 0, 0, errors.New("unknown format")
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

// scaler maps coordinates of the uploaded image back to the original's.
type scaler struct {
	sx, sy       float64
	origW, origH int
}

func newScaler(up upload) scaler {
	return scaler{
		sx: float64(up.origW) / float64(up.sentW), sy: float64(up.origH) / float64(up.sentH),
		origW: up.origW, origH: up.origH,
	}
}

func (s scaler) point(p analyzer.Point) analyzer.Point {
	return analyzer.Point{X: s.x(p.X), Y: s.y(p.Y)}
}

// box scales the corners, not the size, so that boxes stay inside the image
// and adjacent boxes stay adjacent after rounding.
func (s scaler) box(b analyzer.BoundingBox) analyzer.BoundingBox {
	x0, y0 := s.x(b.X), s.y(b.Y)
	x1, y1 := s.x(b.X+b.W), s.y(b.Y+b.H)
	return analyzer.BoundingBox{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

func (s scaler) x(v int) int { return clamp(int(math.Round(float64(v)*s.sx)), 0, s.origW) }
func (s scaler) y(v int) int { return clamp(int(math.Round(float64(v)*s.sy)), 0, s.origH) }

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }
