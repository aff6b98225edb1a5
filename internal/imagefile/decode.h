#ifndef SIGHTLINE_IMAGEFILE_DECODE_H
#define SIGHTLINE_IMAGEFILE_DECODE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// slDecode decodes len bytes at data into dst (a cv::Mat*) as 8-bit BGR.
// It returns 0 on success (dst empty when OpenCV could not decode them)
// and 1 when OpenCV threw, with the reason in err.
int slDecode(const unsigned char *data, size_t len, void *dst, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
