package azure_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
)

// BenchmarkClientOverhead measures a whole Analyze call (pipeline, HTTP on
// loopback, decoding, mapping) against the test server, reporting p50/p95.
func BenchmarkClientOverhead(b *testing.B) {
	srv := azuretest.New(b)
	img := resizedJPEG(b, srv.Data, "azure-ai-vision-sdk_sample.jpg", 864, 576, 90)
	c := newVision(b, srv, nil)
	for _, tt := range []struct {
		name string
		img  analyzer.Image
	}{{"url", analyzer.Image{URL: sampleURL}}, {"bytes", analyzer.Image{Bytes: img}}} {
		b.Run(tt.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if _, err := c.Analyze(context.Background(), tt.img, analyzer.Request{Features: analyzer.AllFeatures}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
		})
	}
}

// BenchmarkUpload4032x3024 reports the bytes uploaded for a 4032×3024 JPEG
// (quality 95, like a phone photo) before and after the pre-upload downscale.
func BenchmarkUpload4032x3024(b *testing.B) {
	srv := azuretest.New(b)
	big := resizedJPEG(b, srv.Data, "azure-ai-vision-sdk_sample.jpg", 4032, 3024, 95)
	c := newVision(b, srv, &azure.VisionOptions{})
	for b.Loop() {
		if _, err := c.Analyze(context.Background(), analyzer.Image{Bytes: big}, analyzer.Request{Features: analyzer.Features{analyzer.FeatureTags}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(big)), "bytes-original")
	b.ReportMetric(float64(len(srv.Last().Image)), "bytes-uploaded")
}
