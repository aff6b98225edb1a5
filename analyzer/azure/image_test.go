package azure_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

func encodeImage(t testing.TB, w, h int, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func smallJPEG(t testing.TB) []byte {
	return encodeImage(t, 100, 100, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
}

// padded appends bytes after the image's end, which decoders ignore.
func padded(b []byte, size int) []byte {
	return append(bytes.Clone(b), make([]byte, size-len(b))...)
}

// withJPEGSize rewrites the dimensions a JPEG declares in its SOF segment.
func withJPEGSize(b []byte, w, h int) []byte {
	b = bytes.Clone(b)
	for i := 2; i+9 < len(b); {
		marker, n := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if marker == 0xC0 || marker == 0xC2 {
			binary.BigEndian.PutUint16(b[i+5:], uint16(h))
			binary.BigEndian.PutUint16(b[i+7:], uint16(w))
			return b
		}
		i += 2 + n
	}
	panic("no SOF")
}

func bmpHeader(w, h int32) []byte {
	b := make([]byte, 54)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], uint32(w))
	binary.LittleEndian.PutUint32(b[22:], uint32(h))
	return b
}

func TestPreUploadChecks(t *testing.T) {
	tiny := encodeImage(t, 40, 40, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
	tests := []struct {
		name string
		img  analyzer.Image
		want string
	}{
		{"zero bytes", analyzer.Image{Bytes: []byte{}}, "empty (0 bytes)"},
		{"nothing", analyzer.Image{}, "no image"},
		{"garbage", analyzer.Image{Bytes: []byte("this is not an image at all")}, "not a JPEG, PNG, GIF, BMP, WEBP, ICO, TIFF or MPO file"},
		{"tiny PNG", analyzer.Image{Bytes: tiny}, "40×40 px; the service needs 50–16000 px per side"},
		{"JPEG declaring 17000 px", analyzer.Image{Bytes: withJPEGSize(smallJPEG(t), 17000, 100)}, "17000×100 px"},
		{"BMP declaring 20000 px", analyzer.Image{Bytes: bmpHeader(20000, 100)}, "20000×100 px"},
		{"over 20 MB", analyzer.Image{Bytes: padded(smallJPEG(t), 21<<20)}, "JPEG is 21.0 MB; the service accepts less than 20.0 MB"},
		{"truncated PNG", analyzer.Image{Bytes: tiny[:20]}, "unreadable PNG header"},
		{"empty Mat", analyzer.Image{Mat: gocv.NewMat()}, "no image"},
	}
	srv := azuretest.New(t)
	c := newVision(t, srv, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.img.Mat.Ptr() != nil { // a zero Mat must not reach gocv
				defer tt.img.Mat.Close()
			}
			_, err := c.Analyze(context.Background(), tt.img, analyzer.Request{Features: analyzer.AllFeatures})
			var imgErr *azure.ImageError
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if !asImageError(err, &imgErr) {
				t.Errorf("%T is not an *azure.ImageError", err)
			}
		})
	}
	if srv.Count() != 0 {
		t.Errorf("%d rejected images reached the service", srv.Count())
	}
}

func asImageError(err error, target **azure.ImageError) bool {
	e, ok := err.(*azure.ImageError)
	*target = e
	return ok
}

func TestAcceptedFormatsPassThrough(t *testing.T) {
	// A small image of each format the service accepts and OpenCV or the
	// standard library can write is uploaded as it is.
	mat := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 200, 30, 0), 64, 80, gocv.MatTypeCV8UC3)
	defer mat.Close()
	srv := azuretest.New(t, azuretest.Lenient())
	c := newVision(t, srv, nil)
	for _, ext := range []gocv.FileExt{gocv.JPEGFileExt, gocv.PNGFileExt, ".bmp", ".webp", ".tiff"} {
		t.Run(string(ext), func(t *testing.T) {
			buf, err := gocv.IMEncode(ext, mat)
			if err != nil {
				t.Fatal(err)
			}
			data := bytes.Clone(buf.GetBytes())
			buf.Close()
			srv.Enqueue(azuretest.Raw(200, nil, `{"modelVersion":"m","metadata":{"width":80,"height":64},"tagsResult":{"values":[]}}`))
			a, err := c.Analyze(context.Background(), analyzer.Image{Bytes: data}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureTags}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(srv.Last().Image, data) || a.Tags == nil || len(a.Tags) != 0 {
				t.Errorf("upload changed or empty tags not an empty list: %+v", a)
			}
		})
	}
}
