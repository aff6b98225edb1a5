// Package imagefile reads image files safely: it identifies an image's
// format, reads its declared size from the header and checks it against
// documented limits before a single pixel is decoded, notices files that
// end before their image data does, and decodes through OpenCV with every
// C++ exception turned into an error. Every image Sightline decodes from
// bytes goes through Decode.
package imagefile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// Limits on what Sightline decodes (README, "Images"). A decoded image is
// 8-bit BGR, so MaxPixels bounds its memory to 150 MB; without the limit a
// 1.2 MB PNG declaring 20000×20000 px takes 1.2 GB, and larger declared
// sizes make OpenCV throw.
const (
	MaxPixels = 50_000_000 // 50 megapixels, e.g. 8660×5773
	MaxBytes  = 128 << 20  // 128 MiB of file
)

// Format is an image file format, named as the Azure services' docs name
// them.
type Format string

const (
	JPEG Format = "JPEG"
	MPO  Format = "MPO" // a JPEG with more pictures after the first
	PNG  Format = "PNG"
	GIF  Format = "GIF"
	BMP  Format = "BMP"
	WEBP Format = "WEBP"
	ICO  Format = "ICO"
	TIFF Format = "TIFF"
	PNM  Format = "PNM" // PBM, PGM, PPM and PAM
	PFM  Format = "PFM"
)

// Decodable reports whether Decode decodes f: OpenCV 4.6 has no decoder
// for GIF and ICO (the services read them).
func (f Format) Decodable() bool { return f != "" && f != GIF && f != ICO }

// Header is what an image file says about itself.
type Header struct {
	Format        Format
	Width, Height int
	// Truncated: the file ends before its image data does. A JPEG decodes
	// to what was there (the rest grey); other formats do not decode.
	Truncated bool
}

// Pixels is the declared pixel count.
func (h Header) Pixels() int64 { return int64(h.Width) * int64(h.Height) }

var (
	// ErrUnknownFormat: the bytes are not one of the formats Inspect knows.
	ErrUnknownFormat = errors.New("not a readable image")
	// ErrTooLarge: the image is over MaxPixels or MaxBytes.
	ErrTooLarge = errors.New("image too large")
	// ErrTruncated: the file ends before its image data and could not be
	// decoded.
	ErrTruncated = errors.New("image is truncated")
)

// Inspect identifies b's format and reads its declared size and
// completeness, without decoding pixels.
func Inspect(b []byte) (Header, error) {
	f, ok := Sniff(b)
	if !ok {
		return Header{}, fmt.Errorf("%w: not JPEG, PNG, GIF, BMP, WEBP, TIFF, PNM or PFM (the file starts with % x)", ErrUnknownFormat, b[:min(len(b), 8)])
	}
	w, h, err := declaredSize(f, b)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errShortHeader) {
		return Header{Format: f, Truncated: true}, fmt.Errorf("%w: the %s ends inside its header (%d bytes)", ErrTruncated, f, len(b))
	}
	if err != nil {
		return Header{Format: f}, fmt.Errorf("unreadable %s header: %w", f, err)
	}
	if w <= 0 || h <= 0 {
		return Header{Format: f}, fmt.Errorf("unreadable %s header: size %d×%d", f, w, h)
	}
	return Header{Format: f, Width: w, Height: h, Truncated: truncated(f, b)}, nil
}

// CheckLimits refuses an image over MaxPixels or MaxBytes.
func (h Header) CheckLimits(size int) error {
	if size > MaxBytes {
		return fmt.Errorf("%w: %s is %s; Sightline reads images up to %s", ErrTooLarge, h.Format, mib(size), mib(MaxBytes))
	}
	if h.Pixels() > MaxPixels {
		return fmt.Errorf("%w: %s declares %d×%d px (%s); Sightline decodes images up to %s",
			ErrTooLarge, h.Format, h.Width, h.Height, megapixels(h.Pixels()), megapixels(MaxPixels))
	}
	return nil
}

// ReadFile reads an image file of at most MaxBytes, so that a huge file
// (or /dev/zero) is refused instead of filling memory.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxBytes {
		return nil, fmt.Errorf("%s: %w: the file is %s; Sightline reads images up to %s", path, ErrTooLarge, mib64(st.Size()), mib(MaxBytes))
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%s: %w: Sightline reads image files up to %s", path, ErrTooLarge, mib(MaxBytes))
	}
	return b, nil
}

func mib(n int) string     { return mib64(int64(n)) }
func mib64(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }

func megapixels(n int64) string {
	return strconv.FormatFloat(math.Round(float64(n)/1e5)/10, 'f', -1, 64) + " MP"
}
