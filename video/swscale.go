package video

/*
#cgo pkg-config: libswscale libavutil libavcodec
#include <errno.h>
#include <libswscale/swscale.h>
#include <libavutil/frame.h>
#include <libavutil/error.h>
#include <libavcodec/avcodec.h>

// slToPacked converts a decoded frame into packed pixels at dst (a Mat's
// memory), reusing the cached scaler.
static int slToPacked(struct SwsContext **sws, const AVFrame *src, int dstFmt, uint8_t *dst, int dstStride, int w, int h) {
	*sws = sws_getCachedContext(*sws, src->width, src->height, src->format, w, h, dstFmt, SWS_BILINEAR, NULL, NULL, NULL);
	if (!*sws) return AVERROR(EINVAL);
	uint8_t *d[4] = {dst, NULL, NULL, NULL};
	int ls[4] = {dstStride, 0, 0, 0};
	return sws_scale(*sws, (const uint8_t * const *)src->data, src->linesize, 0, src->height, d, ls);
}

// slFromPacked converts packed pixels (a Mat) into dst, which must be
// allocated; the encoder may still reference dst's buffers, so they are
// made writable first.
static int slFromPacked(struct SwsContext **sws, const uint8_t *src, int srcFmt, int srcStride, int sw, int sh, AVFrame *dst) {
	int ret = av_frame_make_writable(dst);
	if (ret < 0) return ret;
	*sws = sws_getCachedContext(*sws, sw, sh, srcFmt, dst->width, dst->height, dst->format, SWS_BILINEAR, NULL, NULL, NULL);
	if (!*sws) return AVERROR(EINVAL);
	const uint8_t *s[4] = {src, NULL, NULL, NULL};
	int ls[4] = {srcStride, 0, 0, 0};
	return sws_scale(*sws, s, ls, 0, sh, dst->data, dst->linesize);
}

static int slDecodeErrorFlags(const AVFrame *f) {
	return f->decode_error_flags | ((f->flags & AV_FRAME_FLAG_CORRUPT) ? 0x100 : 0);
}

static void slFreeSws(struct SwsContext **sws) {
	sws_freeContext(*sws);
	*sws = NULL;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
	"gocv.io/x/gocv"
)

// scaler converts between FFmpeg frames and gocv Mats with one cached
// swscale context: pixels are converted straight into (or out of) the Mat's
// memory, without an intermediate buffer.
type scaler struct {
	sws *C.struct_SwsContext
}

// packedFormat is the FFmpeg pixel format of a Mat's memory.
func packedFormat(m gocv.Mat) (C.int, error) {
	switch m.Type() {
	case gocv.MatTypeCV8UC3:
		return C.int(astiav.PixelFormatBgr24), nil
	case gocv.MatTypeCV8UC4:
		return C.int(astiav.PixelFormatBgra), nil
	case gocv.MatTypeCV8UC1:
		return C.int(astiav.PixelFormatGray8), nil
	}
	return 0, fmt.Errorf("unsupported Mat type %v (want 8-bit BGR, BGRA or gray)", m.Type())
}

func matData(m gocv.Mat) (unsafe.Pointer, error) {
	if m.Empty() {
		return nil, fmt.Errorf("the Mat is empty")
	}
	if !m.IsContinuous() {
		return nil, fmt.Errorf("the Mat is not continuous")
	}
	b, err := m.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	return unsafe.Pointer(&b[0]), nil
}

// toMat converts f into dst, an 8UC3 Mat of f's size or smaller (scaled
// in the same pass).
func (s *scaler) toMat(f *astiav.Frame, dst gocv.Mat) error {
	p, err := matData(dst)
	if err != nil {
		return err
	}
	ret := C.slToPacked(&s.sws, (*C.AVFrame)(f.UnsafePointer()), C.int(astiav.PixelFormatBgr24),
		(*C.uint8_t)(p), C.int(dst.Step()), C.int(dst.Cols()), C.int(dst.Rows()))
	if ret < 0 {
		return fmt.Errorf("converting to BGR: %w", astiav.Error(ret))
	}
	return nil
}

// fromMat converts src into dst (allocated, any size and pixel format).
func (s *scaler) fromMat(src gocv.Mat, dst *astiav.Frame) error {
	pf, err := packedFormat(src)
	if err != nil {
		return err
	}
	p, err := matData(src)
	if err != nil {
		return err
	}
	ret := C.slFromPacked(&s.sws, (*C.uint8_t)(p), pf, C.int(src.Step()), C.int(src.Cols()), C.int(src.Rows()),
		(*C.AVFrame)(dst.UnsafePointer()))
	if ret < 0 {
		return fmt.Errorf("converting from Mat: %w", astiav.Error(ret))
	}
	return nil
}

func (s *scaler) free() { C.slFreeSws(&s.sws) }

// decodeDamaged reports whether the decoder flagged f as concealed or corrupt.
func decodeDamaged(f *astiav.Frame) bool {
	return C.slDecodeErrorFlags((*C.AVFrame)(f.UnsafePointer())) != 0
}
