package azure_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

const testImageURL = "https://raw.githubusercontent.com/Microsoft/Cognitive-CustomVision-Windows/master/Samples/Images/Test/test_image.jpg"

// expectedPredictions reads a recorded ImagePrediction body independently
// of the client and sorts it, highest probability first.
func expectedPredictions(t *testing.T, body []byte) []analyzer.Prediction {
	t.Helper()
	var raw struct {
		Predictions []map[string]any `json:"predictions"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	var out []analyzer.Prediction
	for _, p := range raw.Predictions {
		pred := analyzer.Prediction{Tag: p["tagName"].(string), Probability: p["probability"].(float64)}
		if b, ok := p["boundingBox"].(map[string]any); ok {
			pred.BoundingBox = &analyzer.RelativeBox{Left: b["left"].(float64), Top: b["top"].(float64), Width: b["width"].(float64), Height: b["height"].(float64)}
		}
		out = append(out, pred)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Probability > out[j].Probability })
	return out
}

func TestPredictFromRecordings(t *testing.T) {
	srv := azuretest.New(t)
	testImage := srv.Data.Image(t, "customvision-windows_test_image.jpg")
	for _, detect := range []bool{false, true} {
		for _, byURL := range []bool{false, true} {
			for _, noStore := range []bool{false, true} {
				name := azuretest.PredictionRecording(detect, byURL, noStore)
				t.Run(name, func(t *testing.T) {
					rec := srv.Data.Recordings[name][0]
					// The recording's project, iteration and route (its version aside).
					recPath := strings.Replace(strings.SplitN(rec.RequestURI, "?", 2)[0], "/v3.1/", "/v3.0/", 1)
					seg := strings.Split(recPath, "/")
					project := seg[4]
					iteration, err := url.PathUnescape(seg[7])
					if err != nil {
						t.Fatal(err)
					}
					c, err := azure.NewPredictionClient(srv.URL+"/", srv.Key, project, iteration,
						&azure.PredictionOptions{NoStore: noStore, Application: "sightline-test", ClientOptions: azure.ClientOptions{Clock: newFakeClock()}})
					if err != nil {
						t.Fatal(err)
					}
					img := analyzer.Image{Bytes: testImage}
					if byURL {
						img = analyzer.Image{URL: testImageURL}
					}
					got, err := c.Predict(context.Background(), img, detect)
					if err != nil {
						t.Fatalf("Predict: %v", err)
					}
					if want := expectedPredictions(t, rec.ResponseBody); !reflect.DeepEqual(got, want) {
						t.Errorf("predictions\n got %+v\nwant %+v", got, want)
					}

					sent := srv.Last()
					kind, source := "classify", "image"
					if detect {
						kind = "detect"
					}
					if byURL {
						source = "url"
					}
					if sent.Method != http.MethodPost || sent.EscapedPath != recPath {
						t.Errorf("sent %s %s, want POST %s as recorded", sent.Method, sent.EscapedPath, recPath)
					}
					if !strings.Contains(recPath, "/"+kind+"/") || !strings.HasSuffix(strings.TrimSuffix(recPath, "/nostore"), "/"+source) {
						t.Errorf("recording %s is not a %s by %s", recPath, kind, source)
					}
					if sent.Query.Get("application") != "sightline-test" || len(sent.Query) != 1 {
						t.Errorf("query = %v", sent.Query)
					}
					if sent.Header.Get("Prediction-Key") != srv.Key {
						t.Errorf("Prediction-Key = %q", sent.Header.Get("Prediction-Key"))
					}
					if byURL {
						if sent.ContentType != "application/json" || sent.ImageURL != testImageURL {
							t.Errorf("sent %s url %q", sent.ContentType, sent.ImageURL)
						}
					} else if !sent.Multipart || !slices.Equal(sent.Image, testImage) {
						t.Errorf("want the recording's image as multipart imageData; multipart=%v, %d bytes", sent.Multipart, len(sent.Image))
					}
				})
			}
		}
	}
}

func TestPredictNoApplicationNoQuery(t *testing.T) {
	srv := azuretest.New(t)
	c, err := azure.NewPredictionClient(srv.URL, srv.Key, "p", "n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Predict(context.Background(), analyzer.Image{URL: testImageURL}, false); err != nil {
		t.Fatal(err)
	}
	if q := srv.Last().Query; len(q) != 0 {
		t.Errorf("query %v sent without options", q)
	}
}

func TestPredictErrors(t *testing.T) {
	tests := []struct {
		name   string
		script []azuretest.Reply
		key    string
		img    analyzer.Image
		want   []string
	}{
		{name: "flat service error", script: []azuretest.Reply{azuretest.Error(400, "BadRequestImageFormat", "Bad Request Image Format, Uri: x")},
			want: []string{"azure custom vision: HTTP 400", "code BadRequestImageFormat", "Bad Request Image Format"}},
		{name: "not found", script: []azuretest.Reply{azuretest.Error(404, "NotFound", "Project not found")},
			want: []string{"HTTP 404", "code NotFound"}},
		{name: "gateway 401 wrapped", key: "wrong",
			want: []string{"HTTP 401", "code 401", "invalid subscription key"}},
		{name: "gateway 429 wrapped, retries exhausted", script: []azuretest.Reply{azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1"), azuretest.Throttled("1")},
			want: []string{"HTTP 429", "code 429", "after 4 attempts"}},
		{name: "numeric code", script: []azuretest.Reply{azuretest.Raw(403, nil, `{"error":{"code":403,"message":"Out of call volume quota."}}`)},
			want: []string{"HTTP 403", "code 403", "Out of call volume quota."}},
		{name: "wrong shape", script: []azuretest.Reply{azuretest.WrongShape()},
			want: []string{"unexpected response shape", "predictions is a JSON object"}},
		{name: "no predictions", script: []azuretest.Reply{azuretest.Raw(200, nil, `{"id":"x"}`)},
			want: []string{"unexpected response shape: no predictions"}},
		{name: "truncated", script: []azuretest.Reply{azuretest.Truncated()},
			want: []string{"response body truncated"}},
		{name: "invalid JSON", script: []azuretest.Reply{azuretest.InvalidJSON()},
			want: []string{"invalid JSON"}},
		{name: "over 4 MB", img: analyzer.Image{Bytes: padded(smallJPEG(t), 5<<20)},
			want: []string{"image rejected before upload", "5.0 MB", "less than 4.0 MB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := azuretest.New(t)
			srv.Enqueue(tt.script...)
			key := srv.Key
			if tt.key != "" {
				key = tt.key
			}
			c, err := azure.NewPredictionClient(srv.URL, key, "p", "n", &azure.PredictionOptions{ClientOptions: azure.ClientOptions{Clock: newFakeClock()}})
			if err != nil {
				t.Fatal(err)
			}
			img := tt.img
			if img.Bytes == nil {
				img.URL = testImageURL
			}
			_, err = c.Predict(context.Background(), img, true)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %s", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), srv.Key) {
				t.Errorf("key leaked: %s", err)
			}
		})
	}
}
