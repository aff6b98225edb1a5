//go:build matprofile

package local

import (
	"testing"

	"gocv.io/x/gocv"
)

// A read that fails after the direction classifier turned lines over
// closes every crop, the turned ones' originals included.
// Run with: go test -tags matprofile -run TestOCRFailedReadClosesMats ./analyzer/local/
func TestOCRFailedReadClosesMats(t *testing.T) {
	dir, err := DefaultOCRDir()
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOCR(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	img := readImage(t, "testdata/ocr/lines_upside_down.png") // every line is turned over
	if _, err := o.Read(img); err != nil {                    // warm up: nothing kept between reads
		t.Fatal(err)
	}
	before := gocv.MatProfile.Count()
	// A wrong stride gives the recogniser an output tensor of the wrong
	// length: ONNX Runtime refuses the run, after classification.
	stride := o.stride
	o.stride = stride / 2
	_, err = o.Read(img)
	o.stride = stride
	if err == nil {
		t.Fatal("the read succeeded with a broken recogniser")
	}
	if n := gocv.MatProfile.Count(); n != before {
		t.Errorf("%d Mats open after the failed read, %d before (error %v)", n, before, err)
	}
	if _, err := o.Read(img); err != nil {
		t.Fatal(err)
	}
	if n := gocv.MatProfile.Count(); n != before {
		t.Errorf("%d Mats open after a good read, %d before", n, before)
	}
}
