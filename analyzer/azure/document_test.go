package azure_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

const receiptURL = "https://storageaccount/testingdata/contoso-allinone.jpg?sastoken"

func newDocument(t testing.TB, srv *azuretest.Server, opts *azure.DocumentOptions) *azure.DocumentClient {
	t.Helper()
	if opts == nil {
		opts = &azure.DocumentOptions{}
	}
	if opts.Clock == nil {
		opts.Clock = newFakeClock()
	}
	c, err := azure.NewDocumentClient(srv.URL, srv.Key, opts)
	if err != nil {
		t.Fatalf("NewDocumentClient: %v", err)
	}
	return c
}

// expectedDocument converts a real GET analyzeResults body into the
// `document` shape independently of the client: every value* member is
// taken by the name the field's type gives it.
func expectedDocument(t testing.TB, body []byte) *analyzer.Document {
	t.Helper()
	var raw struct {
		AnalyzeResult struct {
			ModelID   string           `json:"modelId"`
			Content   string           `json:"content"`
			Pages     []any            `json:"pages"`
			Documents []map[string]any `json:"documents"`
		} `json:"analyzeResult"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	r := raw.AnalyzeResult
	d := &analyzer.Document{Model: r.ModelID, Pages: len(r.Pages), Content: r.Content,
		Fields: map[string]analyzer.DocumentField{}, Items: []map[string]analyzer.DocumentField{}}
	if len(r.Documents) == 0 {
		return d
	}
	d.DocType = r.Documents[0]["docType"].(string)
	for name, f := range r.Documents[0]["fields"].(map[string]any) {
		field := expectedField(f.(map[string]any))
		if name == "Items" {
			for _, it := range field.Value.([]analyzer.DocumentField) {
				d.Items = append(d.Items, it.Value.(map[string]analyzer.DocumentField))
			}
			continue
		}
		d.Fields[name] = field
	}
	return d
}

func expectedField(f map[string]any) analyzer.DocumentField {
	typ := f["type"].(string)
	out := analyzer.DocumentField{Type: typ, BoundingPolygon: []analyzer.DocumentPoint{}}
	out.Content, _ = f["content"].(string)
	if c, ok := f["confidence"].(float64); ok {
		out.Confidence = &c
	}
	if regions, ok := f["boundingRegions"].([]any); ok && len(regions) > 0 {
		poly := regions[0].(map[string]any)["polygon"].([]any)
		for i := 0; i < len(poly); i += 2 {
			out.BoundingPolygon = append(out.BoundingPolygon, analyzer.DocumentPoint{X: poly[i].(float64), Y: poly[i+1].(float64)})
		}
	}
	v, ok := f["value"+strings.ToUpper(typ[:1])+typ[1:]]
	if !ok {
		return out
	}
	switch typ {
	case "currency":
		m := v.(map[string]any)
		code, _ := m["currencyCode"].(string)
		out.Value = analyzer.Currency{Amount: m["amount"].(float64), CurrencyCode: code}
	case "address":
		// Address's snake-case JSON names are the spec's camelCase ones.
		var a analyzer.Address
		b, _ := json.Marshal(v)
		snake := regexpCamel(string(b))
		if err := json.Unmarshal([]byte(snake), &a); err != nil {
			panic(err)
		}
		out.Value = a
	case "integer":
		out.Value = int64(v.(float64))
	case "array":
		var arr []analyzer.DocumentField
		for _, el := range v.([]any) {
			arr = append(arr, expectedField(el.(map[string]any)))
		}
		out.Value = arr
	case "object":
		obj := map[string]analyzer.DocumentField{}
		for k, el := range v.(map[string]any) {
			obj[k] = expectedField(el.(map[string]any))
		}
		out.Value = obj
	default:
		out.Value = v
	}
	return out
}

// regexpCamel rewrites camelCase JSON keys as snake_case.
func regexpCamel(s string) string {
	var b strings.Builder
	inKey := false
	for i, r := range s {
		if r == '"' {
			inKey = !inKey && (i == 0 || s[i-1] == '{' || s[i-1] == ',')
		}
		if inKey && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sameJSON compares two documents as the `document` command prints them.
func sameJSON(t *testing.T, got, want *analyzer.Document) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("document differs from the recording\n got %s\nwant %s", g, w)
	}
}

func TestDocumentReplaysTheReceiptRecording(t *testing.T) {
	srv := azuretest.New(t)
	clk := newFakeClock()
	c := newDocument(t, srv, &azure.DocumentOptions{ClientOptions: azure.ClientOptions{Clock: clk}})
	got, err := c.AnalyzeDocument(context.Background(), analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, got, expectedDocument(t, srv.Data.DocumentResults[azuretest.ReceiptRecording]))
	if got.DocType != "receipt.retailMeal" || len(got.Fields) != 9 || len(got.Items) != 2 {
		t.Errorf("doc_type %q, %d fields, %d items; want receipt.retailMeal, 9, 2", got.DocType, len(got.Fields), len(got.Items))
	}

	// The exchange is the recording's: the analyze request, then polls at
	// the Operation-Location, Retry-After: 1 honoured between them.
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want POST and 3 polls", len(reqs))
	}
	post := reqs[0]
	if post.Method != http.MethodPost || post.Path != "/documentintelligence/documentModels/prebuilt-receipt:analyze" ||
		!reflect.DeepEqual(map[string][]string(post.Query), map[string][]string{"api-version": {"2024-11-30"}}) {
		t.Errorf("sent %s %s?%s", post.Method, post.Path, post.Query.Encode())
	}
	if post.ContentType != "application/json" || string(post.Body) != `{"urlSource":"`+receiptURL+`"}` {
		t.Errorf("body %s %s", post.ContentType, post.Body)
	}
	for _, poll := range reqs[1:] {
		if poll.Method != http.MethodGet || !strings.HasPrefix(poll.Path, "/documentintelligence/documentModels/prebuilt-receipt/analyzeResults/") ||
			poll.Query.Get("api-version") != "2024-11-30" || poll.Header.Get("Ocp-Apim-Subscription-Key") != srv.Key {
			t.Errorf("poll %s %s?%s", poll.Method, poll.Path, poll.Query.Encode())
		}
	}
	wantSleeps(t, clk.Slept(), time.Second, time.Second, time.Second)
}

func TestDocumentEveryRealResult(t *testing.T) {
	srv := azuretest.New(t)
	tests := []struct {
		model, sample, result string
	}{
		{analyzer.ModelReceipt, "contoso-allinone.jpg", azuretest.ReceiptRecording},
		{analyzer.ModelReceipt, "rest-api/receipt.png", "receipt-model-output"},
		{analyzer.ModelInvoice, "rest-api/invoice.pdf", "invoice-model-output"},
		{analyzer.ModelRead, "rest-api/read.png", "read-model-output"},
		{analyzer.ModelLayout, "rest-api/layout.png", "layout-model-output"},
	}
	c := newDocument(t, srv, nil)
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.sample, func(t *testing.T) {
			data := srv.Data.Document(t, tt.sample)
			got, err := c.AnalyzeDocument(context.Background(), analyzer.Image{Bytes: data}, analyzer.DocumentRequest{Model: tt.model})
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, got, expectedDocument(t, srv.Data.DocumentResults[tt.result]))
			post := srv.Requests()[srv.Count()-4]
			if post.ContentType != "application/octet-stream" || !slices.Equal(post.Image, data) {
				t.Errorf("sent %s, %d bytes; want the file's %d bytes as they are", post.ContentType, len(post.Image), len(data))
			}
		})
	}
}

func TestDocumentTypedValues(t *testing.T) {
	srv := azuretest.New(t)
	c := newDocument(t, srv, nil)
	inv, err := c.AnalyzeDocument(context.Background(), analyzer.Image{Bytes: srv.Data.Document(t, "rest-api/invoice.pdf")},
		analyzer.DocumentRequest{Model: analyzer.ModelInvoice})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"InvoiceId":    "INV-100",
		"InvoiceDate":  "2019-11-15",
		"DueDate":      "2019-12-15",
		"InvoiceTotal": analyzer.Currency{Amount: 110},
		"AmountDue":    analyzer.Currency{Amount: 610},
		"VendorAddress": analyzer.Address{HouseNumber: "123", Road: "456th St", PostalCode: "10001",
			City: "New York", State: "NY", StreetAddress: "123 456th St"},
	}
	for name, want := range checks {
		if got := inv.Fields[name].Value; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	if len(inv.Items) != 3 || inv.Items[0]["Quantity"].Value != 2.0 || inv.Items[2]["Amount"].Text() != "10.00" {
		t.Errorf("items %+v", inv.Items)
	}
	if p := inv.Fields["InvoiceId"].BoundingPolygon; len(p) != 4 || p[0].X >= 8.5 {
		t.Errorf("PDF polygon %v, want 4 points in inches", p)
	}
}

func TestDocumentFollowsTheSpecExamples(t *testing.T) {
	for _, name := range []string{"AnalyzeDocument_Url", "AnalyzeDocument_Stream"} {
		t.Run(name, func(t *testing.T) {
			srv := azuretest.New(t)
			var ex struct {
				Parameters struct {
					APIVersion     string `json:"api-version"`
					ModelID        string `json:"modelId"`
					Pages, Locale  string
					AnalyzeRequest struct {
						URLSource string `json:"urlSource"`
					} `json:"analyzeRequest"`
				} `json:"parameters"`
				Responses struct {
					Accepted struct {
						Headers map[string]string `json:"headers"`
					} `json:"202"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(srv.Data.DocumentExamples[name], &ex); err != nil {
				t.Fatal(err)
			}
			p := ex.Parameters
			opLoc, _ := url.Parse(ex.Responses.Accepted.Headers["Operation-Location"])
			srv.Enqueue(azuretest.Raw(http.StatusAccepted, http.Header{"Operation-Location": {srv.URL + opLoc.RequestURI()}}, ""),
				azuretest.Raw(http.StatusOK, nil, string(srv.Data.DocumentResults[azuretest.ReceiptRecording])))
			img := analyzer.Image{URL: p.AnalyzeRequest.URLSource}
			if img.URL == "" {
				img = analyzer.Image{Bytes: srv.Data.Document(t, "sample-invoice.pdf")}
			}
			c := newDocument(t, srv, nil)
			if _, err := c.AnalyzeDocument(context.Background(), img, analyzer.DocumentRequest{Model: p.ModelID, Pages: p.Pages, Locale: p.Locale}); err != nil {
				t.Fatal(err)
			}
			post, poll := srv.Requests()[0], srv.Requests()[1]
			wantQuery := map[string][]string{"api-version": {p.APIVersion}, "pages": {p.Pages}, "locale": {p.Locale}}
			if post.Path != "/documentintelligence/documentModels/"+p.ModelID+":analyze" || !reflect.DeepEqual(map[string][]string(post.Query), wantQuery) {
				t.Errorf("sent %s?%v, want the example's model and %v", post.Path, post.Query, wantQuery)
			}
			if poll.Path != opLoc.Path || poll.Query.Get("api-version") != p.APIVersion {
				t.Errorf("polled %s?%v, want the example's Operation-Location %s", poll.Path, poll.Query, opLoc)
			}
		})
	}
}

// tiffPages is a little-endian TIFF of n 100×100 pages (IFDs only).
func tiffPages(n int) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00")
	for i := range n {
		ifd := make([]byte, 2+2*12+4)
		binary.LittleEndian.PutUint16(ifd, 2)
		for j, tag := range []uint16{256, 257} {
			e := ifd[2+12*j:]
			binary.LittleEndian.PutUint16(e, tag)
			binary.LittleEndian.PutUint16(e[2:], 3) // SHORT
			binary.LittleEndian.PutUint32(e[4:], 1)
			binary.LittleEndian.PutUint16(e[8:], 100)
		}
		if i < n-1 {
			binary.LittleEndian.PutUint32(ifd[26:], uint32(len(b)+len(ifd)))
		}
		b = append(b, ifd...)
	}
	return b
}

func TestDocumentErrors(t *testing.T) {
	receipt := analyzer.DocumentRequest{Model: analyzer.ModelReceipt}
	tests := []struct {
		name    string
		script  []azuretest.Reply
		polls   *int
		key     string
		opts    azure.DocumentOptions
		img     analyzer.Image
		req     *analyzer.DocumentRequest
		want    []string // substrings of the one-line error
		noCalls bool     // refused before anything is sent
	}{
		{name: "400 invalid locale (recorded)", req: &analyzer.DocumentRequest{Model: analyzer.ModelReceipt, Locale: "thisIsNotAValidLanguage"},
			want: []string{"HTTP 400", "code InvalidArgument/InvalidParameter", "The parameter Locale is invalid", "request id 0970e96e-"}},
		{name: "401 bad key", key: "wrong-key-0000",
			want: []string{"HTTP 401 Unauthorized", "code 401", "invalid subscription key"}},
		{name: "404 custom model not found (recorded)", req: &analyzer.DocumentRequest{Model: "my-custom-model"},
			want: []string{"HTTP 404", "code NotFound/ModelNotFound", "The requested model was not found."}},
		{name: "404 api-version", opts: azure.DocumentOptions{APIVersion: "2099-01-01"},
			want: []string{"HTTP 404", "Resource not found"}},
		{name: "429 on analyze, retries exhausted", script: []azuretest.Reply{azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1")},
			want: []string{"HTTP 429", "Rate limit is exceeded", "after 4 attempts"}},
		{name: "poll fails with 500", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Error(500, "InternalServerError", "An unexpected error occurred."),
			azuretest.Error(500, "InternalServerError", "x"), azuretest.Error(500, "InternalServerError", "x"), azuretest.Error(500, "InternalServerError", "An unexpected error occurred.")},
			want: []string{"HTTP 500", "code InternalServerError", "An unexpected error occurred.", "(after 4 attempts)"}},
		{name: "poll 404", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Error(404, "NotFound", "The requested analyze result was not found.")},
			want: []string{"HTTP 404", "code NotFound", "analyze result was not found"}},
		{name: "operation failed", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Running(),
			azuretest.OperationFailed("failed", "InvalidRequest", "InvalidContent", "The file is corrupted or format is unsupported.")},
			want: []string{"analysis failed", "code InvalidRequest/InvalidContent", "The file is corrupted", "[operation azuretest-"}},
		{name: "operation canceled", script: []azuretest.Reply{azuretest.Recorded(), azuretest.OperationFailed("canceled", "OperationCanceled", "", "The operation was canceled.")},
			want: []string{"analysis canceled", "code OperationCanceled"}},
		{name: "never finishes", polls: ptr(-1), opts: azure.DocumentOptions{OperationTimeout: 10 * time.Second},
			want: []string{"did not finish within 10s (still running)", "[operation azuretest-"}},
		{name: "poll hangs", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Hang(), azuretest.Hang(), azuretest.Hang(), azuretest.Hang()},
			opts: azure.DocumentOptions{ClientOptions: azure.ClientOptions{TryTimeout: 30 * time.Millisecond}},
			want: []string{"no response within 30ms", "after 4 attempts"}},
		{name: "poll answer not JSON", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Raw(200, nil, "<html>busy</html>")},
			want: []string{"unreadable operation status", "invalid JSON"}},
		{name: "poll answer without status", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Raw(200, nil, `{"createdDateTime":"x"}`)},
			want: []string{"unreadable operation status", "did not contain a status"}},
		{name: "result of the wrong shape", script: []azuretest.Reply{azuretest.Recorded(), azuretest.WrongShape()},
			want: []string{"decoding analyze result", "unexpected response shape", "pages is a JSON string"}},
		// A poll is a GET: a body cut short is fetched again.
		{name: "result truncated every time", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Recorded(), azuretest.Recorded(),
			azuretest.Truncated(), azuretest.Truncated(), azuretest.Truncated(), azuretest.Truncated()},
			want: []string{"response body truncated", "after 4 attempts"}},
		{name: "202 without Operation-Location", script: []azuretest.Reply{azuretest.Raw(202, nil, "")},
			want: []string{"HTTP 202 without an Operation-Location"}},
		{name: "Operation-Location on another host", script: []azuretest.Reply{azuretest.Raw(202, http.Header{"Operation-Location": {"https://elsewhere.example.com/documentintelligence/documentModels/prebuilt-receipt/analyzeResults/1"}}, "")},
			want: []string{"refusing to follow Operation-Location", "elsewhere.example.com", "not on the endpoint"}},
		{name: "GIF", img: analyzer.Image{Bytes: []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00")}, noCalls: true,
			want: []string{"rejected before upload", "GIF is not a format Document Intelligence reads", "PDF, JPEG, PNG, TIFF, BMP or HEIF"}},
		{name: "garbage", img: analyzer.Image{Bytes: []byte("hello, world")}, noCalls: true,
			want: []string{"rejected before upload", "not a PDF, JPEG, PNG, TIFF, BMP or HEIF file"}},
		{name: "over the free tier's 4 MB", opts: azure.DocumentOptions{FreeTier: true}, noCalls: true,
			img:  analyzer.Image{Bytes: append([]byte("%PDF-1.7\n/Type /Page\n"), make([]byte, 5<<20)...)},
			want: []string{"PDF is 5.0 MB; the service accepts up to 4.0 MB"}},
		{name: "3 pages on the free tier", opts: azure.DocumentOptions{FreeTier: true}, noCalls: true,
			img:  analyzer.Image{Bytes: tiffPages(3)},
			want: []string{"the TIFF has 3 pages", "at most 2", "--pages"}},
		{name: "image too small", img: analyzer.Image{Bytes: tiffPagesOfSide(40)}, noCalls: true,
			want: []string{"40×40 px; the service needs 50–10000 px per side"}},
		{name: "bad model id", req: &analyzer.DocumentRequest{Model: "prebuilt receipt"}, noCalls: true,
			want: []string{`model "prebuilt receipt" is not a model id`}},
		{name: "bad pages", req: &analyzer.DocumentRequest{Model: analyzer.ModelReceipt, Pages: "first"}, noCalls: true,
			want: []string{`pages "first"`, "1-3,5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := azuretest.New(t)
			srv.Enqueue(tt.script...)
			if tt.polls != nil {
				srv.SetDocumentPolls(*tt.polls)
			}
			opts := tt.opts
			opts.Clock = newFakeClock()
			c, err := azure.NewDocumentClient(srv.URL, cmp.Or(tt.key, srv.Key), &opts)
			if err != nil {
				t.Fatal(err)
			}
			img := tt.img
			if img.Bytes == nil {
				img.URL = receiptURL
			}
			req := receipt
			if tt.req != nil {
				req = *tt.req
			}
			d, err := c.AnalyzeDocument(context.Background(), img, req)
			if err == nil {
				t.Fatalf("no error; got %+v", d)
			}
			w := tt.want[0]
			checkError(t, err, srv.Key, tt.want, strings.HasPrefix(w, "HTTP 4") || strings.HasPrefix(w, "HTTP 5") || strings.HasPrefix(w, "analysis"))
			if tt.noCalls && srv.Count() != 0 {
				t.Errorf("%d requests reached the service", srv.Count())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// tiffPagesOfSide is a one-page TIFF of side×side pixels.
func tiffPagesOfSide(side uint16) []byte {
	b := tiffPages(1)
	binary.LittleEndian.PutUint16(b[8+2+8:], side)
	binary.LittleEndian.PutUint16(b[8+2+12+8:], side)
	return b
}

func TestDocumentPagesChosenLiftThePageLimit(t *testing.T) {
	srv := azuretest.New(t)
	c := newDocument(t, srv, &azure.DocumentOptions{FreeTier: true})
	_, err := c.AnalyzeDocument(context.Background(), analyzer.Image{Bytes: tiffPages(3)},
		analyzer.DocumentRequest{Model: analyzer.ModelRead, Pages: "1-2"})
	if err != nil || srv.Count() != 4 || srv.Requests()[0].Query.Get("pages") != "1-2" {
		t.Fatalf("err %v after %d requests; want the 3-page TIFF sent with pages=1-2", err, srv.Count())
	}
}

func TestDocumentHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		script []azuretest.Reply
		want   []time.Duration
	}{
		{"recorded", nil, []time.Duration{time.Second, time.Second, time.Second}},
		{"429 on analyze", []azuretest.Reply{azuretest.Throttled("2")}, []time.Duration{2 * time.Second, time.Second, time.Second, time.Second}},
		{"429 on a poll", []azuretest.Reply{azuretest.Recorded(), azuretest.Throttled("3")}, []time.Duration{time.Second, 3 * time.Second, time.Second, time.Second}},
		{"poll asks for 5 s", []azuretest.Reply{azuretest.Recorded(), azuretest.Running().WithHeader("Retry-After", "5")},
			[]time.Duration{time.Second, 5 * time.Second, time.Second, time.Second}},
		{"no Retry-After: the poll interval", []azuretest.Reply{azuretest.Recorded(), azuretest.Raw(200, nil, `{"status":"notStarted"}`)},
			[]time.Duration{time.Second, 1500 * time.Millisecond, time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := azuretest.New(t)
			srv.Enqueue(tt.script...)
			clk := newFakeClock()
			interval := time.Duration(0)
			if strings.HasPrefix(tt.name, "no Retry-After") {
				interval = 1500 * time.Millisecond
			}
			c := newDocument(t, srv, &azure.DocumentOptions{PollInterval: interval, ClientOptions: azure.ClientOptions{Clock: clk}})
			if interval > 0 {
				// The first wait (after the 202) also falls back to the interval.
				tt.want[0] = interval
			}
			if _, err := c.AnalyzeDocument(context.Background(), analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt}); err != nil {
				t.Fatal(err)
			}
			wantSleeps(t, clk.Slept(), tt.want...)
		})
	}
}

func TestDocumentCancelledWhilePolling(t *testing.T) {
	srv := azuretest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := newDocument(t, srv, &azure.DocumentOptions{ClientOptions: azure.ClientOptions{Clock: cancelOnSleep{cancel}}})
	_, err := c.AnalyzeDocument(ctx, analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt})
	if !errors.Is(err, context.Canceled) || srv.Count() != 1 || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("err = %v after %d requests; want context.Canceled after the analyze request", err, srv.Count())
	}
}

func TestDocumentTimeoutIsDeadlineExceeded(t *testing.T) {
	srv := azuretest.New(t)
	srv.SetDocumentPolls(-1)
	clk := newFakeClock()
	c := newDocument(t, srv, &azure.DocumentOptions{OperationTimeout: 5 * time.Second, ClientOptions: azure.ClientOptions{Clock: clk}})
	_, err := c.AnalyzeDocument(context.Background(), analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	// Five 1 s waits reach the deadline; the last poll is at it.
	wantSleeps(t, clk.Slept(), time.Second, time.Second, time.Second, time.Second, time.Second)
	if srv.Count() != 6 {
		t.Errorf("%d requests, want the analyze and 5 polls", srv.Count())
	}
}

func TestDocumentEntraAndKeyRedaction(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithToken("entra-token"))
	c, err := azure.NewDocumentClient(srv.URL, "", &azure.DocumentOptions{ClientOptions: azure.ClientOptions{
		Credential: fakeCredential{"entra-token"}, Clock: newFakeClock()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AnalyzeDocument(context.Background(), analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt}); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Header.Get("Authorization") != "Bearer entra-token" || r.Header.Get("Ocp-Apim-Subscription-Key") != "" {
			t.Errorf("%s %s: Authorization=%q key=%q", r.Method, r.Path, r.Header.Get("Authorization"), r.Header.Get("Ocp-Apim-Subscription-Key"))
		}
	}

	// A poll answer echoing the key must not make us print it.
	srv = azuretest.New(t)
	srv.Enqueue(azuretest.Recorded(), azuretest.OperationFailed("failed", "Forbidden", "", "key "+srv.Key+" is disabled"))
	var logs syncBuffer
	k := newDocument(t, srv, &azure.DocumentOptions{ClientOptions: azure.ClientOptions{Logger: debugLogger(&logs)}})
	_, err = k.AnalyzeDocument(context.Background(), analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt})
	if err == nil || strings.Contains(err.Error(), srv.Key) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("err = %v; want the key redacted", err)
	}
	for name, s := range map[string]string{"logs": logs.String(), "%+v": fmt.Sprintf("%+v", k)} {
		if strings.Contains(s, srv.Key) {
			t.Errorf("%s leaks the key", name)
		}
	}
}

func TestDocumentMatIsSentAsJPEGOfTheSameSize(t *testing.T) {
	srv := azuretest.New(t)
	m := resizedMat(t, srv.Data, "azure-ai-vision-sdk_sample.jpg", 1688, 3000)
	defer m.Close()
	c := newDocument(t, srv, nil)
	if _, err := c.AnalyzeDocument(context.Background(), analyzer.Image{Mat: m}, analyzer.DocumentRequest{Model: analyzer.ModelReceipt}); err != nil {
		t.Fatal(err)
	}
	sent := srv.Requests()[0].Image
	if len(sent) < 3 || sent[0] != 0xFF || sent[1] != 0xD8 {
		t.Fatalf("sent %d bytes that are not a JPEG", len(sent))
	}
	w, h := jpegSize(t, sent)
	if w != 1688 || h != 3000 {
		t.Errorf("sent %d×%d, want the Mat's 1688×3000 (the service answers in the pixels it receives)", w, h)
	}
}

func jpegSize(t *testing.T, b []byte) (int, int) {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Width, cfg.Height
}
