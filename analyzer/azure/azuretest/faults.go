package azuretest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// Reply is a scripted answer for Server.Enqueue.
type Reply struct {
	status  int
	header  http.Header
	body    string
	code    string // service error code; the body is built in the route's shape
	message string
	wrapped bool // Custom Vision: the gateway's {"error":…} shape

	recorded   bool  // answer from the recordings, as if unscripted
	hang       bool  // never answer; the client must time out
	truncate   bool  // cut the recorded answer in the middle
	wrongShape bool  // valid JSON the client cannot use
	hugeBytes  int64 // stream a JSON body this long
}

// Recorded answers from the recordings (useful after faults in a script).
func Recorded() Reply { return Reply{recorded: true} }

// Error answers status with a service error code and message, in the
// route's shape: {"error":{code,message}} for Image Analysis, flat
// {code,message} for Custom Vision.
func Error(status int, code, message string) Reply {
	return Reply{status: status, code: code, message: message}
}

// GatewayError answers in the API gateway's wrapped shape on either route.
func GatewayError(status int, code, message string) Reply {
	return Reply{status: status, code: code, message: message, wrapped: true}
}

// BadKey is the service's answer to a wrong key: 401, code "401".
func BadKey() Reply { return GatewayError(http.StatusUnauthorized, "401", BadKeyMessage) }

// Throttled is a 429 with Retry-After (seconds or an HTTP date).
func Throttled(retryAfter string) Reply {
	r := GatewayError(http.StatusTooManyRequests, "429", "Rate limit is exceeded. Try again in "+retryAfter+" seconds.")
	r.header = http.Header{"Retry-After": {retryAfter}}
	return r
}

// Hang never answers: the handler waits until the client gives up.
func Hang() Reply { return Reply{hang: true} }

// Truncated sends half of the recorded answer under a Content-Length for
// all of it, then drops the connection.
func Truncated() Reply { return Reply{truncate: true} }

// InvalidJSON answers 200 with a body that is not JSON.
func InvalidJSON() Reply {
	return Raw(http.StatusOK, nil, `{"modelVersion":"2023-10-01","metadata":{"width":864,"height":576},,}`)
}

// WrongShape answers 200 with JSON of the wrong types for the route.
func WrongShape() Reply { return Reply{wrongShape: true} }

// Huge answers 200 with a JSON body of n bytes.
func Huge(n int64) Reply { return Reply{hugeBytes: n} }

// Raw answers exactly status, header and body.
func Raw(status int, header http.Header, body string) Reply {
	return Reply{status: status, header: header, body: body}
}

// WithHeader returns r with an extra response header.
func (r Reply) WithHeader(key, value string) Reply {
	h := http.Header{}
	for k, v := range r.header {
		h[k] = v
	}
	h.Set(key, value)
	r.header = h
	return r
}

func (s *Server) play(w http.ResponseWriter, r *http.Request, req Request, rt route, rep Reply) {
	switch {
	case rep.hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case rep.truncate:
		rec := httptest.NewRecorder()
		s.answer(rec, r, req, rt)
		body := rec.Body.String()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body[:len(body)/2]))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	case rep.wrongShape:
		body := `{"modelVersion":"2023-10-01","metadata":{"width":"864","height":576},"captionResult":["a","b"]}`
		switch rt {
		case routePredict:
			body = `{"id":"x","predictions":{"tagName":"Tag1","probability":"high"}}`
		case routeTraining:
			body = `{"id":7,"status":["Completed"]}`
		case routeDocument, routeDocumentResult:
			body = documentWrongShape
		}
		writeJSON(w, http.StatusOK, nil, body)
	case rep.hugeBytes > 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(" ", 64<<10))
		_, _ = w.Write([]byte(`{"modelVersion":"`))
		for n := int64(0); n < rep.hugeBytes; n += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return // the client stopped reading
			}
		}
		_, _ = w.Write([]byte(`"}`))
	case rep.code != "":
		e := map[string]string{"code": rep.code, "message": rep.message}
		var b []byte
		if (rt == routePredict || rt == routeTraining) && !rep.wrapped {
			b, _ = json.Marshal(e)
		} else {
			b, _ = json.Marshal(map[string]any{"error": e})
		}
		h := rep.header.Clone()
		if h == nil {
			h = http.Header{}
		}
		if rt == routeAnalyze && rep.code != strconv.Itoa(rep.status) {
			h.Set("x-ms-error-code", rep.code)
		}
		writeJSON(w, rep.status, h, string(b))
	default:
		writeJSON(w, rep.status, rep.header, rep.body)
	}
}
