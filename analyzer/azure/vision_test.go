package azure_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

const sampleURL = "https://aka.ms/azai/vision/image-analysis-sample.jpg"

// recordedBodyFor is the recording a URL request with these features is
// answered from.
func recordedBodyFor(d *azuretest.Data, features []string) []byte {
	switch strings.Join(features, ",") {
	case "caption,read":
		return d.Recordings["AnalyzeFromUrl"][1].ResponseBody
	case "read":
		return d.Recordings["AnalyzeUndocumentedParameters"][0].ResponseBody
	}
	return d.Recordings["AnalyzeFromUrl"][0].ResponseBody
}

func TestAnalyzeEveryFeatureByURLAndBytes(t *testing.T) {
	srv := azuretest.New(t)
	d := srv.Data
	// The spec's AnalyzeFromBuffer example was made with an 864×576 image.
	imgBytes := resizedJPEG(t, d, "azure-ai-vision-sdk_sample.jpg", 864, 576, 90)
	client := newVision(t, srv, nil)

	featureSets := [][]string{{"caption,read"}}
	for _, f := range analyzer.AllFeatures {
		featureSets = append(featureSets, []string{string(f)})
	}
	featureSets = append(featureSets, []string{analyzer.Features(analyzer.AllFeatures).String()})

	for _, fs := range featureSets {
		features := strings.Split(fs[0], ",")
		var req analyzer.Features
		for _, f := range features {
			req = append(req, analyzer.Feature(f))
		}
		for _, byURL := range []bool{true, false} {
			name := fmt.Sprintf("%s/url=%v", fs[0], byURL)
			t.Run(name, func(t *testing.T) {
				img := analyzer.Image{Bytes: imgBytes}
				want := expectedAnalysis(t, d.AnalysisExamples["AnalyzeFromBuffer_MaximumSet"], features)
				if byURL {
					img = analyzer.Image{URL: sampleURL}
					want = expectedAnalysis(t, recordedBodyFor(d, features), features)
				}
				got, err := client.Analyze(context.Background(), img, analyzer.Request{Features: req})
				if err != nil {
					t.Fatalf("Analyze: %v", err)
				}
				if !reflect.DeepEqual(got, want) {
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(want)
					t.Fatalf("analysis differs from the recording\n got %s\nwant %s", gj, wj)
				}

				sent := srv.Last()
				if sent.Method != http.MethodPost || sent.Path != azuretest.AnalyzePath {
					t.Errorf("sent %s %s", sent.Method, sent.Path)
				}
				wantQuery := map[string][]string{"api-version": {"2023-10-01"}, "features": {fs[0]}}
				if !reflect.DeepEqual(map[string][]string(sent.Query), wantQuery) {
					t.Errorf("query = %v, want exactly %v (no defaults sent)", sent.Query, wantQuery)
				}
				if got := sent.Header.Get("Ocp-Apim-Subscription-Key"); got != srv.Key {
					t.Errorf("key header = %q", got)
				}
				if byURL {
					if sent.ContentType != "application/json" || sent.ImageURL != sampleURL {
						t.Errorf("sent %s with url %q", sent.ContentType, sent.ImageURL)
					}
				} else if sent.ContentType != "application/octet-stream" || !slices.Equal(sent.Image, imgBytes) {
					t.Errorf("sent %s, %d bytes; want the original %d bytes as octet-stream", sent.ContentType, len(sent.Image), len(imgBytes))
				}
			})
		}
	}
}

func TestAnalyzeSendsOnlyTheOptionsSet(t *testing.T) {
	srv := azuretest.New(t)
	client := newVision(t, srv, &azure.VisionOptions{APIVersion: "2023-10-01"})
	tests := []struct {
		name string
		opts analyzer.Options
		want map[string]string
	}{
		{"none", analyzer.Options{}, map[string]string{}},
		{"language", analyzer.Options{Language: "en"}, map[string]string{"language": "en"}},
		{"gender-neutral", analyzer.Options{GenderNeutralCaption: true}, map[string]string{"gender-neutral-caption": "true"}},
		{"ratios", analyzer.Options{SmartCropsRatios: []float64{0.9, 1.33}}, map[string]string{"smartcrops-aspect-ratios": "0.9,1.33"}},
		{"model-version", analyzer.Options{ModelVersion: "latest"}, map[string]string{"model-version": "latest"}},
		{"all", analyzer.Options{Language: "en", GenderNeutralCaption: true, SmartCropsRatios: []float64{1.5}, ModelVersion: "2023-10-01"},
			map[string]string{"language": "en", "gender-neutral-caption": "true", "smartcrops-aspect-ratios": "1.5", "model-version": "2023-10-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.Analyze(context.Background(), analyzer.Image{URL: sampleURL},
				analyzer.Request{Features: analyzer.AllFeatures, Options: tt.opts})
			if err != nil {
				t.Fatal(err)
			}
			q := srv.Last().Query
			got := map[string]string{}
			for k := range q {
				if k != "api-version" && k != "features" {
					got[k] = q.Get(k)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options sent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAnalyzeThreshold(t *testing.T) {
	srv := azuretest.New(t)
	client := newVision(t, srv, nil)
	features := analyzer.Features{analyzer.FeaturePeople, analyzer.FeatureTags, analyzer.FeatureObjects}
	all, err := client.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: features})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.People) != 2 || all.People[1].Confidence > 0.01 {
		t.Fatalf("without a threshold the 0.0017 person must pass through: %+v", all.People)
	}
	cut, err := client.Analyze(context.Background(), analyzer.Image{URL: sampleURL},
		analyzer.Request{Features: features, Options: analyzer.Options{Threshold: 0.7}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cut.People {
		if p.Confidence < 0.7 {
			t.Errorf("person %v kept under threshold", p)
		}
	}
	if len(cut.People) != 1 || len(cut.Objects) != 2 || len(cut.Tags) != 11 {
		t.Errorf("threshold 0.7 kept %d people, %d objects, %d tags; want 1, 2, 11", len(cut.People), len(cut.Objects), len(cut.Tags))
	}
}

func TestAnalyzeErrors(t *testing.T) {
	garbageJPEG := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 100)...)
	tests := []struct {
		name    string
		script  []azuretest.Reply
		key     string
		img     analyzer.Image
		opts    analyzer.Options
		timeout time.Duration
		want    []string // substrings of the one-line error
	}{
		{name: "400 bad image", script: []azuretest.Reply{azuretest.Error(400, "InvalidRequest", "Input image format is not supported.")},
			want: []string{"HTTP 400", "code InvalidRequest", "Input image format is not supported."}},
		{name: "400 unsupported language", opts: analyzer.Options{Language: "fr"},
			want: []string{"HTTP 400", "InvalidRequest/NotSupportedLanguage", "language fr"}},
		{name: "400 bad aspect ratio", opts: analyzer.Options{SmartCropsRatios: []float64{2.5}},
			want: []string{"HTTP 400", "InvalidRequest/InvalidParameter", "0.75 and 1.8"}},
		{name: "401 bad key", key: "wrong-key-0000",
			want: []string{"HTTP 401 Unauthorized", "code 401", "invalid subscription key"}},
		{name: "403", script: []azuretest.Reply{azuretest.Error(403, "Forbidden", "Public access is disabled.")},
			want: []string{"HTTP 403", "code Forbidden", "Public access is disabled."}},
		{name: "404", script: []azuretest.Reply{azuretest.GatewayError(404, "404", "Resource not found")},
			want: []string{"HTTP 404", "code 404", "Resource not found"}},
		{name: "429 retries exhausted", script: []azuretest.Reply{azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1")},
			want: []string{"HTTP 429", "code 429", "Rate limit is exceeded", "after 4 attempts"}},
		{name: "500", script: []azuretest.Reply{azuretest.Error(500, "InternalServerError", "An unexpected error occurred."), azuretest.Error(500, "InternalServerError", "x"), azuretest.Error(500, "InternalServerError", "x"), azuretest.Error(500, "InternalServerError", "An unexpected error occurred.")},
			want: []string{"HTTP 500", "code InternalServerError", "after 4 attempts"}},
		{name: "503 non-JSON body", script: []azuretest.Reply{azuretest.Raw(503, nil, "<html>Service Unavailable</html>"), azuretest.Raw(503, nil, "x"), azuretest.Raw(503, nil, "x"), azuretest.Raw(503, nil, "<html>Service Unavailable</html>")},
			want: []string{"HTTP 503", "unreadable error body: <html>Service Unavailable</html>"}},
		{name: "timeout", script: []azuretest.Reply{azuretest.Hang(), azuretest.Hang(), azuretest.Hang(), azuretest.Hang()}, timeout: 30 * time.Millisecond,
			want: []string{"no response within 30ms", "after 4 attempts"}},
		{name: "truncated body", script: []azuretest.Reply{azuretest.Truncated()},
			want: []string{"response body truncated"}},
		{name: "invalid JSON", script: []azuretest.Reply{azuretest.InvalidJSON()},
			want: []string{"invalid JSON at byte"}},
		{name: "wrong shape", script: []azuretest.Reply{azuretest.WrongShape()},
			want: []string{"unexpected response shape", "metadata.width is a JSON string"}},
		{name: "not an object", script: []azuretest.Reply{azuretest.Raw(200, nil, `[1,2,3]`)},
			want: []string{"unexpected response shape"}},
		{name: "no metadata", script: []azuretest.Reply{azuretest.Raw(200, nil, `{"modelVersion":"x"}`)},
			want: []string{"unexpected response shape: no metadata"}},
		{name: "huge body", script: []azuretest.Reply{azuretest.Huge(azure.MaxResponseBytes + 1<<20)},
			want: []string{"response body larger than 16 MiB"}},
		{name: "service rejects garbage JPEG", img: analyzer.Image{Bytes: garbageJPEG},
			want: []string{"image rejected before upload", "unreadable JPEG header"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := azuretest.New(t)
			srv.Enqueue(tt.script...)
			clk := newFakeClock()
			c, err := azure.NewVisionClient(srv.URL, cmp.Or(tt.key, srv.Key), &azure.VisionOptions{ClientOptions: azure.ClientOptions{Clock: clk, TryTimeout: tt.timeout}})
			if err != nil {
				t.Fatal(err)
			}
			img := tt.img
			if img.Bytes == nil {
				img.URL = sampleURL
			}
			a, err := c.Analyze(context.Background(), img, analyzer.Request{Features: analyzer.AllFeatures, Options: tt.opts})
			if err == nil {
				t.Fatalf("no error; got %+v", a)
			}
			checkError(t, err, srv.Key, tt.want, strings.HasPrefix(tt.want[0], "HTTP"))
		})
	}
}

func TestRetryHonoursRetryAfterAndBudget(t *testing.T) {
	httpDate := time.Date(2024, 5, 1, 12, 0, 7, 0, time.UTC).Format(http.TimeFormat) // fake clock + 7 s
	tests := []struct {
		name      string
		retries   int
		script    []azuretest.Reply
		wantErr   bool
		wantCalls int
		check     func(t *testing.T, slept []time.Duration)
	}{
		{name: "429 Retry-After seconds then success", script: []azuretest.Reply{azuretest.Throttled("2")}, wantCalls: 2,
			check: func(t *testing.T, s []time.Duration) { wantSleeps(t, s, 2*time.Second) }},
		{name: "429 Retry-After HTTP date", script: []azuretest.Reply{azuretest.Throttled(httpDate)}, wantCalls: 2,
			check: func(t *testing.T, s []time.Duration) { wantSleeps(t, s, 7*time.Second) }},
		{name: "retry-after-ms", script: []azuretest.Reply{azuretest.Raw(503, nil, "").WithHeader("retry-after-ms", "250")}, wantCalls: 2,
			check: func(t *testing.T, s []time.Duration) { wantSleeps(t, s, 250*time.Millisecond) }},
		{name: "backoff with jitter without Retry-After", retries: 2, wantCalls: 3,
			script: []azuretest.Reply{azuretest.Raw(502, nil, ""), azuretest.Raw(504, nil, "")},
			check: func(t *testing.T, s []time.Duration) {
				if len(s) != 2 || s[0] < 640*time.Millisecond || s[0] > 800*time.Millisecond ||
					s[1] < 1280*time.Millisecond || s[1] > 1600*time.Millisecond {
					t.Errorf("backoff sleeps %v, want 800ms then 1.6s, up to 20%% less", s)
				}
			}},
		{name: "budget of 2 retries respected", retries: 2, wantErr: true, wantCalls: 3,
			script: []azuretest.Reply{azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1")},
			check:  func(t *testing.T, s []time.Duration) { wantSleeps(t, s, time.Second, time.Second) }},
		{name: "no retries", retries: azure.NoRetries, wantErr: true, wantCalls: 1,
			script: []azuretest.Reply{azuretest.Throttled("1")},
			check:  func(t *testing.T, s []time.Duration) { wantSleeps(t, s) }},
		{name: "408 retried", script: []azuretest.Reply{azuretest.Raw(408, nil, "").WithHeader("Retry-After", "0")}, wantCalls: 2,
			check: func(t *testing.T, s []time.Duration) { wantSleeps(t, s, 0) }},
		{name: "400 not retried", wantErr: true, wantCalls: 1,
			script: []azuretest.Reply{azuretest.Error(400, "InvalidRequest", "bad")},
			check:  func(t *testing.T, s []time.Duration) { wantSleeps(t, s) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := azuretest.New(t)
			srv.Enqueue(tt.script...)
			clk := newFakeClock()
			attempts := 0
			c := newVision(t, srv, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Retries: tt.retries, Clock: clk, OnAttempt: func(int) { attempts++ }}})
			_, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureTags}})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if srv.Count() != tt.wantCalls || attempts != tt.wantCalls {
				t.Errorf("server saw %d calls, OnAttempt %d; want %d", srv.Count(), attempts, tt.wantCalls)
			}
			tt.check(t, clk.Slept())
		})
	}
}

func wantSleeps(t *testing.T, got []time.Duration, want ...time.Duration) {
	t.Helper()
	if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
		t.Errorf("slept %v, want %v", got, want)
	}
}

func TestRetryConnectionErrors(t *testing.T) {
	srv := azuretest.New(t)
	clk := newFakeClock()
	c := newVision(t, srv, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Clock: clk, Transport: &failingTransport{fails: 2, next: http.DefaultTransport}}})
	if _, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}}); err != nil {
		t.Fatalf("two connection resets then success: %v", err)
	}
	if n := len(clk.Slept()); n != 2 || srv.Count() != 1 {
		t.Errorf("slept %d times, server saw %d calls; want 2 and 1", n, srv.Count())
	}
	c = newVision(t, srv, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Clock: clk, Retries: 1, Transport: &failingTransport{fails: 5, next: http.DefaultTransport}}})
	_, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}})
	if err == nil || !strings.Contains(err.Error(), "connection reset by peer") || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Errorf("err = %v", err)
	}
}

func TestCancelledContextStopsRetries(t *testing.T) {
	srv := azuretest.New(t)
	srv.Enqueue(azuretest.Throttled("30"), azuretest.Throttled("30"))
	ctx, cancel := context.WithCancel(context.Background())
	c := newVision(t, srv, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Clock: cancelOnSleep{cancel}}})
	_, err := c.Analyze(ctx, analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}})
	if !errors.Is(err, context.Canceled) || srv.Count() != 1 {
		t.Errorf("err = %v after %d calls; want context.Canceled after 1", err, srv.Count())
	}
}

type cancelOnSleep struct{ cancel context.CancelFunc }

func (cancelOnSleep) Now() time.Time { return time.Time{} }
func (c cancelOnSleep) Sleep(ctx context.Context, _ time.Duration) error {
	c.cancel()
	return ctx.Err()
}

func TestKeyRedacted(t *testing.T) {
	srv := azuretest.New(t)
	// A service (or proxy) that echoes the key must not make us print it.
	srv.Enqueue(azuretest.Error(403, "Forbidden", "key "+srv.Key+" is disabled"))
	var logs syncBuffer
	c := newVision(t, srv, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Logger: debugLogger(&logs)}})
	_, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}})
	if err == nil {
		t.Fatal("no error")
	}
	if _, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"error": err.Error(), "logs": logs.String(),
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c), "%+v value": fmt.Sprintf("%+v", *c),
	} {
		if strings.Contains(s, srv.Key) {
			t.Errorf("%s leaks the key: %s", name, s)
		}
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error %q should show where the key was redacted", err)
	}
	if !strings.Contains(logs.String(), "request_id=azuretest-") {
		t.Errorf("debug logs lack the request id:\n%s", logs.String())
	}
}

func TestEndpointValidation(t *testing.T) {
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"https://my.cognitiveservices.azure.com/", true},
		{"http://127.0.0.1:1234", true},
		{"http://localhost:1234", true},
		{"http://my.cognitiveservices.azure.com", false}, // a key in clear text over the network
		{"my.cognitiveservices.azure.com", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := azure.NewVisionClient(tt.endpoint, "k", nil)
		if (err == nil) != tt.ok {
			t.Errorf("NewVisionClient(%q) err = %v, want ok=%v", tt.endpoint, err, tt.ok)
		}
	}
	if _, err := azure.NewVisionClient("https://x.cognitiveservices.azure.com", "", nil); err == nil {
		t.Error("no key and no credential accepted")
	}
}

type fakeCredential struct{ token string }

func (f fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if !slices.Equal(opts.Scopes, []string{"https://cognitiveservices.azure.com/.default"}) {
		return azcore.AccessToken{}, fmt.Errorf("unexpected scopes %v", opts.Scopes)
	}
	return azcore.AccessToken{Token: f.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestEntraIDCredential(t *testing.T) {
	srv := azuretest.New(t, azuretest.WithToken("entra-token"))
	c, err := azure.NewVisionClient(srv.URL, "", &azure.VisionOptions{ClientOptions: azure.ClientOptions{Credential: fakeCredential{"entra-token"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}}); err != nil {
		t.Fatal(err)
	}
	h := srv.Last().Header
	if h.Get("Authorization") != "Bearer entra-token" || h.Get("Ocp-Apim-Subscription-Key") != "" {
		t.Errorf("auth headers: Authorization=%q key=%q", h.Get("Authorization"), h.Get("Ocp-Apim-Subscription-Key"))
	}
}

func TestFeatureValidation(t *testing.T) {
	srv := azuretest.New(t)
	c := newVision(t, srv, nil)
	for _, fs := range []analyzer.Features{nil, {analyzer.FeatureFaces}} {
		if _, err := c.Analyze(context.Background(), analyzer.Image{URL: sampleURL}, analyzer.Request{Features: fs}); err == nil {
			t.Errorf("features %v accepted", fs)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("invalid requests reached the service")
	}
	if c.Supports(analyzer.FeatureFaces) || !c.Supports(analyzer.FeatureRead) || c.Name() != "azure" {
		t.Error("Supports/Name")
	}
}

func TestDownscaleMapsCoordinatesBack(t *testing.T) {
	srv := azuretest.New(t)
	d := srv.Data
	const w, h = 4032, 3024
	big := resizedJPEG(t, d, "azure-ai-vision-sdk_sample.jpg", w, h, 95)
	mat := resizedMat(t, d, "azure-ai-vision-sdk_sample.jpg", w, h)
	defer mat.Close()
	c := newVision(t, srv, nil)
	spec := expectedAnalysis(t, d.AnalysisExamples["AnalyzeFromBuffer_MaximumSet"], []string{"denseCaptions", "objects", "people", "smartCrops", "read"})
	sx, sy := float64(w)/864, float64(h)/576

	for _, tt := range []struct {
		name string
		img  analyzer.Image
	}{{"bytes", analyzer.Image{Bytes: big}}, {"mat", analyzer.Image{Mat: mat}}} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Analyze(context.Background(), tt.img, analyzer.Request{Features: analyzer.AllFeatures})
			if err != nil {
				t.Fatal(err)
			}
			sent := srv.Last().Image
			cfg, _, err := image.DecodeConfig(strings.NewReader(string(sent)))
			if err != nil || cfg.Width != 1600 || cfg.Height != 1200 {
				t.Fatalf("uploaded %v×%v (%v), want 1600×1200", cfg.Width, cfg.Height, err)
			}
			if tt.name == "bytes" && len(sent) >= len(big) {
				t.Errorf("uploaded %d bytes, not fewer than the original %d", len(sent), len(big))
			}
			if got.Metadata != (analyzer.Metadata{Width: w, Height: h}) {
				t.Errorf("metadata %+v, want the original %d×%d", got.Metadata, w, h)
			}
			// The server answered in 1600×1200 pixels; mapped back, every
			// coordinate is the spec's scaled to 4032×3024, within rounding.
			const tol = 6
			near := func(what string, got int, want float64) {
				if math.Abs(float64(got)-want) > tol {
					t.Errorf("%s = %d, want %.0f ±%d", what, got, want, tol)
				}
			}
			nearBox := func(what string, g, s analyzer.BoundingBox) {
				near(what+".x", g.X, float64(s.X)*sx)
				near(what+".y", g.Y, float64(s.Y)*sy)
				near(what+".w", g.W, float64(s.W)*sx)
				near(what+".h", g.H, float64(s.H)*sy)
			}
			for i := range spec.DenseCaptions {
				nearBox(fmt.Sprintf("dense_captions[%d]", i), got.DenseCaptions[i].BoundingBox, spec.DenseCaptions[i].BoundingBox)
			}
			for i := range spec.Objects {
				nearBox(fmt.Sprintf("objects[%d]", i), got.Objects[i].BoundingBox, spec.Objects[i].BoundingBox)
			}
			for i := range spec.People {
				nearBox(fmt.Sprintf("people[%d]", i), got.People[i].BoundingBox, spec.People[i].BoundingBox)
			}
			for i := range spec.SmartCrops {
				nearBox(fmt.Sprintf("smart_crops[%d]", i), got.SmartCrops[i].BoundingBox, spec.SmartCrops[i].BoundingBox)
			}
			for li, l := range spec.ReadResult.Blocks[0].Lines {
				gl := got.ReadResult.Blocks[0].Lines[li]
				for pi, p := range l.BoundingPolygon {
					near(fmt.Sprintf("line[%d].x%d", li, pi), gl.BoundingPolygon[pi].X, float64(p.X)*sx)
					near(fmt.Sprintf("line[%d].y%d", li, pi), gl.BoundingPolygon[pi].Y, float64(p.Y)*sy)
				}
				for wi, word := range l.Words {
					for pi, p := range word.BoundingPolygon {
						near(fmt.Sprintf("word[%d][%d].x%d", li, wi, pi), gl.Words[wi].BoundingPolygon[pi].X, float64(p.X)*sx)
					}
				}
			}
		})
	}
}
