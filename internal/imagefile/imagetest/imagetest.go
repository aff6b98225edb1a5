// Package imagetest makes the hostile and damaged image files that tests
// feed to every command and package that decodes images.
package imagetest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Gradient is a w×h colour gradient, so encoded files are real pictures.
func Gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}

// JPEG encodes a w×h gradient.
func JPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, Gradient(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// PNG encodes a w×h gradient.
func PNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, Gradient(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Cut keeps the first fraction of b: a download or copy that stopped.
func Cut(b []byte, fraction float64) []byte {
	return bytes.Clone(b[:int(float64(len(b))*fraction)])
}

// JPEGDeclaring is a small real JPEG whose frame header is rewritten to
// declare w×h (at most 65535 a side): the header of a huge photo.
func JPEGDeclaring(t testing.TB, w, h int) []byte {
	t.Helper()
	return WithJPEGSize(t, JPEG(t, 64, 48), w, h)
}

// WithJPEGSize rewrites the size a JPEG declares in its frame header
// (baseline or progressive).
func WithJPEGSize(t testing.TB, b []byte, w, h int) []byte {
	t.Helper()
	b = bytes.Clone(b)
	for i := 2; i+9 < len(b); {
		marker, n := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if marker == 0xC0 || marker == 0xC2 { // precision, height, width
			binary.BigEndian.PutUint16(b[i+5:], uint16(h))
			binary.BigEndian.PutUint16(b[i+7:], uint16(w))
			return b
		}
		i += 2 + n
	}
	t.Fatal("no frame header in the JPEG")
	return nil
}

// BMPDeclaring is a BMP header declaring w×h 24-bit pixels, and a few
// bytes of them.
func BMPDeclaring(w, h int) []byte {
	b := make([]byte, 54+16)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[2:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[10:], 54)
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	binary.LittleEndian.PutUint16(b[26:], 1)
	binary.LittleEndian.PutUint16(b[28:], 24)
	return b
}

// PNGDeclaring is a well-formed PNG (signature, IHDR, an IDAT, IEND, with
// correct CRCs) declaring w×h 8-bit RGB pixels; its IDAT holds one row.
func PNGDeclaring(t testing.TB, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	z := zlib.NewWriter(&idat)
	z.Write(make([]byte, 1+3*min(w, 4096)))
	z.Close()
	return pngFile(w, h, 2, idat.Bytes())
}

// PNGBomb is a valid w×h grey PNG of zeros: about a thousandth of its
// decoded size on disk (20000×20000 is 0.4 MB that decodes to 1.2 GB BGR).
func PNGBomb(t testing.TB, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	z, err := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, 1+w) // filter byte 0, then w grey zeros
	for range h {
		z.Write(row)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return pngFile(w, h, 0, idat.Bytes())
}

func pngFile(w, h int, colorType byte, idat []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, colorType
	chunk(&b, "IHDR", ihdr)
	chunk(&b, "IDAT", idat)
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

func chunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}
