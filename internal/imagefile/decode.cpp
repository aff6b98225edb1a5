// OpenCV reports a declared size over its own limits, and running out of
// memory, by throwing; a C++ exception that reaches Go's cgo boundary
// aborts the process. Every exception stops here.

#include <cstring>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "decode.h"

static void setError(char *err, size_t errlen, const char *msg) {
	if (errlen == 0) return;
	std::strncpy(err, msg, errlen - 1);
	err[errlen - 1] = 0;
}

int slDecode(const unsigned char *data, size_t len, void *dst, char *err, size_t errlen) {
	try {
		// Wraps the caller's bytes without copying; imdecode only reads them.
		cv::Mat buf(1, (int)len, CV_8UC1, (void *)data);
		cv::imdecode(buf, cv::IMREAD_COLOR, static_cast<cv::Mat *>(dst));
		return 0;
	} catch (const cv::Exception &e) {
		setError(err, errlen, e.err.c_str());
	} catch (const std::exception &e) {
		setError(err, errlen, e.what());
	} catch (...) {
		setError(err, errlen, "unknown C++ exception");
	}
	static_cast<cv::Mat *>(dst)->release();
	return 1;
}
