package azure_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

// Every way a cloud call fails gets a short reason a user can act on.
func TestReason(t *testing.T) {
	srv := azuretest.New(t, azuretest.Lenient())
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String()
	closed.Close()
	tests := []struct {
		name     string
		endpoint string
		enqueue  []azuretest.Reply
		want     string
	}{
		{"unknown host", "https://sightline-no-such-resource.invalid", nil, "DNS: sightline-no-such-resource.invalid not found"},
		{"nothing listening", refused, nil, "cannot connect to " + strings.TrimPrefix(refused, "http://")},
		{"wrong key", srv.URL, []azuretest.Reply{azuretest.BadKey()}, "401: the key is wrong"},
		{"quota", srv.URL, []azuretest.Reply{azuretest.Error(403, "403", "Out of call volume quota.")}, "403: quota spent or access denied"},
		{"throttled", srv.URL, []azuretest.Reply{azuretest.Throttled("1")}, "429: throttled"},
	}
	jpeg, err := os.ReadFile("../../../shared/azure/images/azure-ai-vision-sdk_sample.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img := analyzer.Image{Bytes: jpeg}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Enqueue(tt.enqueue...)
			c, err := azure.NewVisionClient(tt.endpoint, srv.Key, &azure.VisionOptions{ClientOptions: azure.ClientOptions{Retries: azure.NoRetries}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Analyze(context.Background(), img, analyzer.Request{Features: analyzer.Features{analyzer.FeatureCaption}})
			if got := azure.Reason(err); !strings.HasPrefix(got, tt.want) {
				t.Errorf("Reason(%v) = %q, want it to start %q", err, got, tt.want)
			}
		})
	}
}

// Document Intelligence's own failures get theirs.
func TestReasonDocuments(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		enqueue []azuretest.Reply
		want    string
	}{
		{"model not found (recorded)", "my-custom-model", nil, "404: no model of that id on this resource"},
		{"analysis failed", analyzer.ModelReceipt, []azuretest.Reply{azuretest.Recorded(),
			azuretest.OperationFailed("failed", "InvalidRequest", "InvalidContent", "The file is corrupted.")},
			"the service could not read the document (InvalidRequest/InvalidContent)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := azuretest.New(t)
			srv.Enqueue(tt.enqueue...)
			c := newDocument(t, srv, nil)
			_, err := c.AnalyzeDocument(context.Background(), analyzer.Image{URL: receiptURL}, analyzer.DocumentRequest{Model: tt.model})
			if got := azure.Reason(err); got != tt.want {
				t.Errorf("Reason(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
}
