package azure_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/internal/clock"
)

// newFakeClock is the tests' clock: sleeps return at once and are recorded.
func newFakeClock() *clock.Fake {
	return clock.NewFake(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
}

// syncBuffer is a log sink safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newVision(t testing.TB, srv *azuretest.Server, opts *azure.VisionOptions) *azure.VisionClient {
	t.Helper()
	if opts == nil {
		opts = &azure.VisionOptions{}
	}
	if opts.Clock == nil {
		opts.Clock = newFakeClock()
	}
	c, err := azure.NewVisionClient(srv.URL, srv.Key, opts)
	if err != nil {
		t.Fatalf("NewVisionClient: %v", err)
	}
	return c
}

// resizedJPEG is a shared image resized to w×h and encoded as JPEG.
func resizedJPEG(t testing.TB, data *azuretest.Data, name string, w, h, quality int) []byte {
	t.Helper()
	m := resizedMat(t, data, name, w, h)
	defer m.Close()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, m, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes())
}

// resizedMat is a shared image resized to w×h; the caller closes it.
func resizedMat(t testing.TB, data *azuretest.Data, name string, w, h int) gocv.Mat {
	t.Helper()
	src, err := gocv.IMDecode(data.Image(t, name), gocv.IMReadColor)
	if err != nil || src.Empty() {
		t.Fatalf("decoding %s: %v", name, err)
	}
	defer src.Close()
	dst := gocv.NewMat()
	gocv.Resize(src, &dst, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	return dst
}

// expectedAnalysis builds, from a raw service body and independently of
// the client's decoder, the Analysis the client must return.
func expectedAnalysis(t testing.TB, body []byte, features []string) *analyzer.Analysis {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	num := func(v any) float64 { f, _ := v.(float64); return f }
	box := func(v any) analyzer.BoundingBox {
		m, _ := v.(map[string]any)
		return analyzer.BoundingBox{X: int(num(m["x"])), Y: int(num(m["y"])), W: int(num(m["w"])), H: int(num(m["h"]))}
	}
	poly := func(v any) []analyzer.Point {
		out := []analyzer.Point{}
		for _, p := range v.([]any) {
			m := p.(map[string]any)
			out = append(out, analyzer.Point{X: int(num(m["x"])), Y: int(num(m["y"]))})
		}
		return out
	}
	values := func(key string) []map[string]any {
		var out []map[string]any
		for _, v := range raw[key].(map[string]any)["values"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}
	md := raw["metadata"].(map[string]any)
	a := &analyzer.Analysis{
		Metadata:     analyzer.Metadata{Width: int(num(md["width"])), Height: int(num(md["height"]))},
		ModelVersion: raw["modelVersion"].(string),
	}
	for _, f := range features {
		switch f {
		case "caption":
			c := raw["captionResult"].(map[string]any)
			a.Caption = &analyzer.Caption{Text: c["text"].(string), Confidence: num(c["confidence"])}
		case "denseCaptions":
			a.DenseCaptions = []analyzer.DenseCaption{}
			for _, v := range values("denseCaptionsResult") {
				a.DenseCaptions = append(a.DenseCaptions, analyzer.DenseCaption{Text: v["text"].(string), Confidence: num(v["confidence"]), BoundingBox: box(v["boundingBox"])})
			}
		case "tags":
			a.Tags = []analyzer.Tag{}
			for _, v := range values("tagsResult") {
				a.Tags = append(a.Tags, analyzer.Tag{Name: v["name"].(string), Confidence: num(v["confidence"])})
			}
		case "objects":
			a.Objects = []analyzer.Object{}
			for _, v := range values("objectsResult") {
				tag := v["tags"].([]any)[0].(map[string]any)
				a.Objects = append(a.Objects, analyzer.Object{Name: tag["name"].(string), Confidence: num(tag["confidence"]), BoundingBox: box(v["boundingBox"])})
			}
		case "people":
			a.People = []analyzer.Person{}
			for _, v := range values("peopleResult") {
				a.People = append(a.People, analyzer.Person{Confidence: num(v["confidence"]), BoundingBox: box(v["boundingBox"])})
			}
		case "smartCrops":
			a.SmartCrops = []analyzer.SmartCrop{}
			for _, v := range values("smartCropsResult") {
				a.SmartCrops = append(a.SmartCrops, analyzer.SmartCrop{AspectRatio: num(v["aspectRatio"]), BoundingBox: box(v["boundingBox"])})
			}
		case "read":
			a.ReadResult = &analyzer.ReadResult{Blocks: []analyzer.Block{}}
			for _, b := range raw["readResult"].(map[string]any)["blocks"].([]any) {
				block := analyzer.Block{Lines: []analyzer.Line{}}
				for _, l := range b.(map[string]any)["lines"].([]any) {
					lm := l.(map[string]any)
					line := analyzer.Line{Text: lm["text"].(string), BoundingPolygon: poly(lm["boundingPolygon"]), Words: []analyzer.Word{}}
					for _, w := range lm["words"].([]any) {
						wm := w.(map[string]any)
						line.Words = append(line.Words, analyzer.Word{Text: wm["text"].(string), Confidence: num(wm["confidence"]), BoundingPolygon: poly(wm["boundingPolygon"])})
					}
					block.Lines = append(block.Lines, line)
				}
				a.ReadResult.Blocks = append(a.ReadResult.Blocks, block)
			}
		}
	}
	return a
}

// failingTransport fails the first n requests with a connection error.
type failingTransport struct {
	mu    sync.Mutex
	fails int
	next  http.RoundTripper
}

func (f *failingTransport) Do(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, &netError{}
	}
	return f.next.RoundTrip(r)
}

type netError struct{}

func (*netError) Error() string   { return "connection reset by peer" }
func (*netError) Timeout() bool   { return false }
func (*netError) Temporary() bool { return true }

// checkError checks that err is one line, without the key, that says every
// piece of want, and (fromService) unwraps to azcore's ResponseError as the
// Azure SDK's errors do.
func checkError(t *testing.T, err error, key string, want []string, fromService bool) {
	t.Helper()
	msg := err.Error()
	t.Logf("error: %s", msg)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error is not one line: %q", msg)
	}
	if strings.Contains(msg, key) {
		t.Errorf("error leaks the key: %q", msg)
	}
	var respErr *azcore.ResponseError
	if fromService && !errors.As(err, &respErr) {
		t.Errorf("%T does not unwrap to *azcore.ResponseError", err)
	}
}
