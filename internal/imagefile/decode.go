package imagefile

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "decode.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"gocv.io/x/gocv"
)

// Decode decodes an image file's bytes into an 8-bit BGR Mat the caller
// closes, with EXIF orientation applied (as viewers show it). It refuses,
// before decoding, files OpenCV cannot be trusted with: formats Inspect
// does not know, sizes over MaxPixels or MaxBytes. A truncated JPEG
// decodes to what was there (h.Truncated says so); a truncated file of
// another format is ErrTruncated.
func Decode(b []byte) (m gocv.Mat, h Header, err error) {
	if len(b) == 0 {
		return gocv.Mat{}, h, errors.New("the image is empty (0 bytes)")
	}
	if h, err = Inspect(b); err != nil {
		return gocv.Mat{}, h, err
	}
	if err := h.CheckLimits(len(b)); err != nil {
		return gocv.Mat{}, h, err
	}
	if !h.Format.Decodable() {
		return gocv.Mat{}, h, fmt.Errorf("%s images are not decoded locally: convert the image to PNG, or use --backend azure", h.Format)
	}
	m = gocv.NewMat()
	if err := decodeInto(b, m); err != nil {
		m.Close()
		return gocv.Mat{}, h, err
	}
	if err := checkDecoded(m, h); err != nil {
		m.Close()
		return gocv.Mat{}, h, err
	}
	return m, h, nil
}

// decodeInto runs OpenCV's decoder into m, turning a C++ exception into an
// error.
func decodeInto(b []byte, m gocv.Mat) error {
	const errLen = 256
	msg := (*C.char)(C.malloc(errLen))
	defer C.free(unsafe.Pointer(msg))
	if C.slDecode((*C.uchar)(unsafe.Pointer(&b[0])), C.size_t(len(b)), unsafe.Pointer(m.Ptr()), msg, errLen) != 0 {
		return fmt.Errorf("not a readable image (OpenCV: %s)", C.GoString(msg))
	}
	return nil
}

// checkDecoded says why nothing was decoded, and bounds what was: a
// decoder must not return more pixels than the header declared.
func checkDecoded(m gocv.Mat, h Header) error {
	switch {
	case m.Empty() && h.Truncated:
		return fmt.Errorf("%w: the %s ends before its image data (%d×%d px declared)", ErrTruncated, h.Format, h.Width, h.Height)
	case m.Empty():
		return fmt.Errorf("not a readable image (OpenCV could not decode this %s)", h.Format)
	case int64(m.Rows())*int64(m.Cols()) > MaxPixels:
		return fmt.Errorf("%w: %s decoded to %d×%d px though it declared %d×%d", ErrTooLarge, h.Format, m.Cols(), m.Rows(), h.Width, h.Height)
	case m.Type() != gocv.MatTypeCV8UC3:
		return fmt.Errorf("not a readable image (decoded to %v, not 8-bit colour)", m.Type())
	}
	return nil
}
