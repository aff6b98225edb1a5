package azure_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/internal/imagefile/imagetest"
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
		{"JPEG declaring 17000 px", analyzer.Image{Bytes: imagetest.WithJPEGSize(t, smallJPEG(t), 17000, 100)}, "17000×100 px"},
		{"BMP declaring 20000 px", analyzer.Image{Bytes: imagetest.BMPDeclaring(20000, 100)}, "20000×100 px"},
		{"over 20 MB", analyzer.Image{Bytes: padded(smallJPEG(t), 21<<20)}, "JPEG is 21.0 MB; the service accepts less than 20.0 MB"},
		{"PNG cut in its header", analyzer.Image{Bytes: tiny[:20]}, "truncated: the PNG ends inside its header"},
		{"PNG cut in its data", analyzer.Image{Bytes: imagetest.Cut(tiny, 0.8)}, "the PNG is truncated"},
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
