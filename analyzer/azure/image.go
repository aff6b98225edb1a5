package azure

import (
	"bytes"
	"image"
	"math"
	"slices"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/imagefile"
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

// acceptedFormats are the formats the services accept, as their docs name
// them.
var acceptedFormats = []imagefile.Format{imagefile.JPEG, imagefile.PNG, imagefile.GIF, imagefile.BMP,
	imagefile.WEBP, imagefile.ICO, imagefile.TIFF, imagefile.MPO}

const acceptedNames = "JPEG, PNG, GIF, BMP, WEBP, ICO, TIFF or MPO"

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
	if format, ok := imagefile.Sniff(data); !ok || !slices.Contains(acceptedFormats, format) {
		return upload{}, imageErrorf("not a %s file (starts with % x)", acceptedNames, data[:min(len(data), 8)])
	}
	hdr, err := imagefile.Inspect(data)
	if err != nil {
		return upload{}, imageErrorf("%v", err)
	}
	format, w, h := hdr.Format, hdr.Width, hdr.Height
	if hdr.Truncated && format != imagefile.JPEG && format != imagefile.MPO {
		// Only a JPEG decodes from part of its data; the service would
		// refuse the rest, after a paid call.
		return upload{}, imageErrorf("the %s is truncated: the file ends before its image data", format)
	}
	if err := checkSides(w, h); err != nil {
		return upload{}, err
	}
	up := upload{body: data, sentW: w, sentH: h, origW: w, origH: h}
	if lim.maxSide > 0 && max(w, h) > lim.maxSide {
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
// is maxSide. ok is false when the file is not decoded locally (GIF, ICO,
// damaged, or over imagefile's limits); the original is then sent and the
// service judges it.
func downscaleBytes(data []byte, maxSide int) (up upload, ok bool, err error) {
	// Decoding applies EXIF orientation, so the coordinates we map back
	// to are those of the image as viewers show it, like the service's.
	m, _, err := imagefile.Decode(data)
	if err != nil {
		return upload{}, false, nil
	}
	defer m.Close()
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
