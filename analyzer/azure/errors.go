package azure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/text"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ServiceError is a non-2xx answer from Image Analysis, Custom Vision or
// Document Intelligence. Its message is one line with the HTTP status and
// the service's code; it unwraps to the *azcore.ResponseError, as the Azure
// SDK's clients return.
type ServiceError struct {
	Service    string // "azure vision", "azure custom vision" or "azure document intelligence"
	StatusCode int
	// Code is the service's error code ("InvalidRequest", "401",
	// "BadRequestImageFormat", …), with the inner code after a slash when
	// there is one ("InvalidRequest/InvalidImageSize").
	Code      string
	Message   string
	RequestID string
	Attempts  int // how many tries were made, retries included

	resp *azcore.ResponseError
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d %s", e.Service, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ", code %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

// Unwrap gives errors.As access to the *azcore.ResponseError.
func (e *ServiceError) Unwrap() error { return e.resp }

// newServiceError builds a ServiceError from a failed response whose body
// has already been read.
func newServiceError(service string, resp *http.Response, body []byte, attempts int) *ServiceError {
	code, msg := decodeErrorBody(body)
	if code == "" {
		code = resp.Header.Get("x-ms-error-code")
	}
	if code == "" && msg == "" && len(bytes.TrimSpace(body)) > 0 {
		msg = "unreadable error body: " + string(body)
	}
	e := &ServiceError{
		Service:    service,
		StatusCode: resp.StatusCode,
		Code:       text.OneLine(code, 80),
		Message:    text.OneLine(msg, 300),
		RequestID:  text.OneLine(requestID(resp.Header), 80),
		Attempts:   attempts,
	}
	var respErr *azcore.ResponseError
	if err, ok := runtime.NewResponseErrorWithErrorCode(resp, e.Code).(*azcore.ResponseError); ok {
		respErr = err
	}
	e.resp = respErr
	return e
}

// errorBody matches the three shapes the services answer with: Image
// Analysis's {"error":{code,message,innererror}}, Custom Vision's flat
// {code,message}, and the API gateway's {"error":{code,message}} in front
// of either (401, 429). Codes are strings, but the gateway has been seen
// sending numbers, so they are decoded leniently.
type errorBody struct {
	Error   *errorDetail `json:"error"`
	Code    lenientCode  `json:"code"`
	Message string       `json:"message"`
}

type errorDetail struct {
	Code       lenientCode  `json:"code"`
	Message    string       `json:"message"`
	InnerError *errorDetail `json:"innererror"`
}

type lenientCode string

func (c *lenientCode) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = lenientCode(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*c = lenientCode(n.String())
		return nil
	}
	return nil // a code of another type is dropped, not fatal
}

// decodeErrorBody extracts the code and message of an error body; both are
// empty when the body is not one of the known shapes.
func decodeErrorBody(body []byte) (code, message string) {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil {
		// The wrapped "error" may itself be a bare string.
		var alt struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &alt) == nil {
			return "", alt.Error
		}
		return "", ""
	}
	if eb.Error != nil {
		code, message = string(eb.Error.Code), eb.Error.Message
		in := eb.Error.InnerError
		if in == nil {
			return code, message
		}
		if in.Code != "" && string(in.Code) != code {
			code += "/" + string(in.Code)
		}
		// Document Intelligence says what was wrong only in the inner
		// message ("Invalid argument." outside).
		if in.Message != "" && !strings.Contains(message, in.Message) {
			message = strings.TrimSpace(message + " " + in.Message)
		}
		return code, message
	}
	return string(eb.Code), eb.Message
}

// ImageError is a problem with an image found before uploading it.
type ImageError struct {
	Reason string
}

func (e *ImageError) Error() string { return "image rejected before upload: " + e.Reason }

func imageErrorf(format string, args ...any) error {
	return &ImageError{Reason: fmt.Sprintf(format, args...)}
}

// formatMB prints a byte count the way the service's limits are documented.
func formatMB(n int) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}

// RetryAfter is how long a throttled service asked to wait (its
// Retry-After header); 0 when it said nothing.
func (e *ServiceError) RetryAfter() time.Duration {
	if e.resp == nil || e.resp.RawResponse == nil {
		return 0
	}
	return max(parseRetryAfter(e.resp.RawResponse.Header, time.Now()), 0)
}
