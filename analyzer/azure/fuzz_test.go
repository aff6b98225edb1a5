package azure

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

// Seeds are the real recordings' and spec examples' bodies.

func FuzzDecodeAnalysis(f *testing.F) {
	d := azuretest.Load(f)
	for _, name := range []string{"AnalyzeFromUrl", "AnalyzeUndocumentedParameters"} {
		for _, e := range d.Recordings[name] {
			f.Add(e.ResponseBody)
		}
	}
	for _, b := range d.AnalysisExamples {
		f.Add(b)
	}
	f.Add([]byte(`{"metadata":{"width":1,"height":1},"readResult":{"blocks":[{"lines":[{"words":[{}]}]}]},"objectsResult":{"values":[{"tags":[]}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := DecodeAnalysis(body)
		if err != nil {
			return
		}
		// Whatever decodes must survive the rest of the client's handling.
		up := &upload{sentW: 100, sentH: 50, origW: 4032, origH: 3024}
		finishAnalysis(a, analyzer.AllFeatures, analyzer.Options{Threshold: 0.5}, up)
		if a.Metadata.Width != 4032 || a.ReadResult == nil || a.Tags == nil {
			t.Fatalf("finishAnalysis left %+v", a)
		}
	})
}

func FuzzDecodePrediction(f *testing.F) {
	d := azuretest.Load(f)
	for _, entries := range d.Recordings {
		for _, e := range entries {
			if strings.Contains(e.RequestURI, "customvision") {
				f.Add(e.ResponseBody)
			}
		}
	}
	for _, b := range d.PredictionExamples {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		preds, err := DecodePrediction(body)
		if err != nil {
			return
		}
		for i := 1; i < len(preds); i++ {
			if preds[i].Probability > preds[i-1].Probability {
				t.Fatalf("not sorted: %+v", preds)
			}
		}
	})
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`{"error":{"code":"401","message":"Access denied due to invalid subscription key."}}`,
		`{"error":{"code":"InvalidRequest","message":"Input image format is not supported.","innererror":{"code":"InvalidImageFormat","message":"x"}}}`,
		`{"code":"BadRequestImageFormat","message":"Bad Request Image Format, Uri: 123"}`,
		`{"error":{"code":429,"message":"Rate limit is exceeded."}}`,
		`{"error":"plain"}`, `<html>502 Bad Gateway</html>`, ``, `null`, `[]`,
	} {
		f.Add(500, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}
		e := newServiceError("azure vision", resp, []byte(body), 1)
		msg := e.Error()
		if strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("multi-line error %q", msg)
		}
		if !strings.HasPrefix(msg, "azure vision: HTTP ") {
			t.Fatalf("error %q lacks the status", msg)
		}
	})
}
