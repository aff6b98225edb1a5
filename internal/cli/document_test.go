package cli

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

const receiptSample = "../../../shared/azure/docintel/samples/rest-api-samples/contoso-allinone.jpg"

// recordedFields are the receipt recording's fields in the `document`
// shape, built from the raw recording: what each JSON field must be.
func recordedFields(t *testing.T, d *azuretest.Data) (fields map[string]any, items []map[string]any) {
	t.Helper()
	var op struct {
		AnalyzeResult struct {
			Documents []struct {
				Fields map[string]map[string]any `json:"fields"`
			} `json:"documents"`
		} `json:"analyzeResult"`
	}
	if err := json.Unmarshal(d.DocumentResults[azuretest.ReceiptRecording], &op); err != nil {
		t.Fatal(err)
	}
	fields = map[string]any{}
	for name, f := range op.AnalyzeResult.Documents[0].Fields {
		if name != "Items" {
			fields[name] = contractField(f)
			continue
		}
		for _, it := range f["valueArray"].([]any) {
			item := map[string]any{}
			for sub, sf := range it.(map[string]any)["valueObject"].(map[string]any) {
				item[sub] = contractField(sf.(map[string]any))
			}
			items = append(items, item)
		}
	}
	return fields, items
}

var camel = regexp.MustCompile(`[A-Z]`)

// contractField is ../shared/docs/interfaces.md's field for a service
// field: currency as {amount, currency_code}, addresses in snake-case parts,
// other values as the service normalised them.
func contractField(f map[string]any) map[string]any {
	typ := f["type"].(string)
	poly := []any{}
	p := f["boundingRegions"].([]any)[0].(map[string]any)["polygon"].([]any)
	for i := 0; i < len(p); i += 2 {
		poly = append(poly, map[string]any{"x": p[i], "y": p[i+1]})
	}
	var value any
	switch v := f["value"+strings.ToUpper(typ[:1])+typ[1:]].(type) {
	case map[string]any:
		parts := map[string]any{}
		for k, part := range v {
			if k == "currencySymbol" {
				continue // the contract gives the code
			}
			parts[camel.ReplaceAllStringFunc(k, func(c string) string { return "_" + strings.ToLower(c) })] = part
		}
		value = parts
	default:
		value = v
	}
	return map[string]any{"type": typ, "value": value, "content": f["content"],
		"confidence": f["confidence"], "bounding_polygon": poly}
}

// TestDocumentReceiptTypedAndCorrect replays the real receipt analysis,
// by URL and by file, and checks every field of the result as the command
// prints it.
func TestDocumentReceiptTypedAndCorrect(t *testing.T) {
	srv := azuretest.New(t)
	url := "https://storageaccount/testingdata/contoso-allinone.jpg"
	inputs := []string{receiptSample, url}
	code, out, stderr := runCLI(t, cloudEnv(srv, ""), append([]string{"document", "--model", "prebuilt-receipt"}, inputs...)...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	wantFields, wantItems := recordedFields(t, srv.Data)
	for i, l := range jsonLines(t, out) {
		if l["input"] != inputs[i] || l["success"] != true || l["source"] != "azure" || l["latency_ms"] == nil {
			t.Fatalf("line %d: %v", i, l)
		}
		data := l["data"].(map[string]any)
		if data["model"] != "prebuilt-receipt" || data["doc_type"] != "receipt.retailMeal" || data["pages"] != 1.0 {
			t.Errorf("model %v, doc_type %v, pages %v", data["model"], data["doc_type"], data["pages"])
		}
		matched, total := 0, 0
		check := func(where string, got, want any) {
			total++
			if reflect.DeepEqual(got, want) {
				matched++
				return
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s: %s\n got %s\nwant %s", inputs[i], where, g, w)
		}
		fields := data["fields"].(map[string]any)
		for name, want := range wantFields {
			check(name, fields[name], want)
		}
		items := data["items"].([]any)
		for j, want := range wantItems {
			var got map[string]any
			if j < len(items) {
				got = items[j].(map[string]any)
			}
			for sub, w := range want {
				check(fmt.Sprintf("items[%d].%s", j, sub), got[sub], w)
			}
		}
		if len(fields) != len(wantFields) || len(items) != len(wantItems) {
			t.Errorf("%d fields and %d items, want %d and %d", len(fields), len(items), len(wantFields), len(wantItems))
		}
		t.Logf("%s: %d/%d receipt fields typed and correct", inputs[i], matched, total)
	}
}

func TestDocumentCommandFaults(t *testing.T) {
	rows := []struct {
		name   string
		script []azuretest.Reply
		args   []string
		want   []string
	}{
		{name: "400 invalid locale (recorded)", args: []string{"--locale", "thisIsNotAValidLanguage"},
			want: []string{"HTTP 400", "InvalidArgument/InvalidParameter", "The parameter Locale is invalid"}},
		{name: "401 bad key", script: []azuretest.Reply{azuretest.BadKey()}, want: []string{"HTTP 401", "invalid subscription key"}},
		{name: "404 model not found (recorded)", args: []string{"--model", "my-custom-model"},
			want: []string{"HTTP 404", "NotFound/ModelNotFound", "model was not found"}},
		{name: "429 throttled", script: []azuretest.Reply{azuretest.Throttled("1")}, want: []string{"HTTP 429", "Rate limit"}},
		{name: "a poll fails", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Error(500, "InternalServerError", "An unexpected error occurred.")},
			want: []string{"HTTP 500", "InternalServerError"}},
		{name: "analysis failed", script: []azuretest.Reply{azuretest.Recorded(),
			azuretest.OperationFailed("failed", "InvalidRequest", "InvalidContent", "The file is corrupted or format is unsupported.")},
			want: []string{"analysis failed", "InvalidRequest/InvalidContent", "corrupted"}},
		{name: "never finishes", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Running(), azuretest.Running()},
			args: []string{"--timeout", "1500ms"}, want: []string{"did not finish within 1.5s (still running)"}},
		{name: "a poll hangs", script: []azuretest.Reply{azuretest.Recorded(), azuretest.Hang()}, want: []string{"no response within 500ms"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel() // each waits for real polls
			srv := azuretest.New(t, azuretest.Lenient())
			srv.SetDocumentPolls(0)
			srv.Enqueue(r.script...)
			// Both inputs match the same model; the second must still succeed.
			model := []string{"--model", "prebuilt-receipt"}
			if slices.Contains(r.args, "--model") {
				model = nil
			}
			args := append(append(append([]string{"document", "--workers", "1", "--retries", "0"}, model...), r.args...), receiptSample, receiptSample)
			code, out, stderr := runCLI(t, cloudEnv(srv, ""), args...)
			want := [][]string{r.want, nil}
			if strings.HasPrefix(r.name, "404") || strings.HasPrefix(r.name, "400") {
				want[1] = r.want // a model or locale that is wrong is wrong for both
			}
			if code != exitFailed || stderr != "" {
				t.Errorf("exit %d, stderr %q; want 1 and the reasons in the lines", code, stderr)
			}
			checkLines(t, out, []string{receiptSample, receiptSample}, want)
		})
	}
}

func TestDocumentCommandUsage(t *testing.T) {
	srv := azuretest.New(t)
	rows := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no endpoint", map[string]string{}, []string{receiptSample}, "needs DOCUMENT_INTELLIGENCE_ENDPOINT and DOCUMENT_INTELLIGENCE_KEY"},
		{"auto on azure", nil, []string{"--model", "auto", receiptSample}, "--model auto is for --backend local"},
		{"bad model id", nil, []string{"--model", "prebuilt receipt", receiptSample}, `model "prebuilt receipt" is not a model id`},
		{"bad pages", nil, []string{"--pages", "all", receiptSample}, `pages "all"`},
		{"local layout", nil, []string{"--backend", "local", "--model", "prebuilt-layout", receiptSample}, "needs --backend azure"},
		{"local pages", nil, []string{"--backend", "local", "--pages", "1", receiptSample}, "--pages and --locale are for --backend azure"},
		{"unknown backend", nil, []string{"--backend", "cloud", receiptSample}, `unknown backend "cloud"`},
		{"zero timeout", nil, []string{"--timeout", "0s", receiptSample}, "--timeout 0s"},
		{"no inputs", nil, nil, "no inputs"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			env := r.env
			if env == nil {
				env = cloudEnv(srv, "")
			}
			code, out, stderr := runCLI(t, env, append([]string{"document"}, r.args...)...)
			if code != exitUsage || out != "" || !strings.Contains(stderr, r.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line saying %q", code, out, stderr, r.want)
			}
		})
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests reached the service", srv.Count())
	}
}

func TestDocumentLocal(t *testing.T) {
	pdf := "../../../shared/azure/docintel/samples/rest-api-samples/sample-invoice.pdf"
	inputs := []string{receiptSample, pdf}
	code, out, stderr := runCLI(t, nil, append([]string{"document", "--backend", "local", "--model", "auto"}, inputs...)...)
	if code != exitFailed || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 1 (the PDF cannot be read locally)", code, stderr)
	}
	checkLines(t, out, inputs, [][]string{nil, {"reads images, not PDF", "--backend azure"}})
	l := jsonLines(t, out)[0]
	data, _ := l["data"].(map[string]any)
	if l["source"] != "local" || data["heuristic"] != true || data["model"] != "prebuilt-receipt" {
		t.Fatalf("line %v", l)
	}
	total := data["fields"].(map[string]any)["Total"].(map[string]any)
	if !reflect.DeepEqual(total["value"], map[string]any{"amount": 14.5, "currency_code": "USD"}) || total["type"] != "currency" {
		t.Errorf("Total %v", total)
	}
}

// TestDocumentPrivacy: with --privacy the service sees pixels Sightline
// blurred, never a URL or a PDF it could not look at.
func TestDocumentPrivacy(t *testing.T) {
	srv := azuretest.New(t)
	srv.SetDocumentPolls(0)
	pdf := "../../../shared/azure/docintel/samples/rest-api-samples/sample-invoice.pdf"
	inputs := []string{receiptSample, "https://example.com/receipt.jpg", pdf}
	code, out, _ := runCLI(t, cloudEnv(srv, ""), append([]string{"document", "--privacy"}, inputs...)...)
	if code != exitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	checkLines(t, out, inputs, [][]string{nil, {"privacy is on", "cannot be blurred"}, {"not a readable image"}})
	if srv.Count() != 2 || !strings.HasPrefix(string(srv.Requests()[0].Image), "\xff\xd8\xff") {
		t.Errorf("%d requests; want one analysis of a re-encoded JPEG and its poll", srv.Count())
	}
}
