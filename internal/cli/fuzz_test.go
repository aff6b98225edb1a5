package cli

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
)

// FuzzParseFeatures: --features comes from users and their scripts.
func FuzzParseFeatures(f *testing.F) {
	for _, s := range []string{
		"caption,denseCaptions,tags,objects,people,smartCrops,read", "objects,people,tags", "caption",
		"Objects, PEOPLE ,tags,", "objects,objects", "faces", "objects,colour", ",,", " ", "",
	} {
		f.Add(s)
	}
	known := append(append(analyzer.Features{}, analyzer.AllFeatures...), analyzer.FeatureFaces)
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := parseFeatures(s)
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("parseFeatures(%q): %q is not a one-line usage error", s, err)
			}
			return
		}
		for i, f := range fs {
			if !known.Has(f) || slices.Contains(fs[:i], f) {
				t.Fatalf("parseFeatures(%q) = %v: unknown or repeated %q", s, fs, f)
			}
		}
		// What is sent to the service (Features.String) reads back the same.
		if again, err := parseFeatures(fs.String()); err != nil || !slices.Equal(again, fs) {
			t.Fatalf("parseFeatures(%q) = %v, whose String %q reads back as %v, %v", s, fs, fs.String(), again, err)
		}
	})
}

// FuzzParseRatios: --smartcrops-aspect-ratios must stay within the
// service's 0.75–1.8, or the user gets a 400 for every image.
func FuzzParseRatios(f *testing.F) {
	for _, s := range []string{
		"0.9,1.33", "1", "0.75,1.8", "0.74", "1.81", " 1.5 , 1.0", "1,,1", "1e0", "0x1p0", "+1.2",
		"NaN", "Inf", "-Inf", "", ",",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := parseRatios(s)
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("parseRatios(%q): %q is not a one-line usage error", s, err)
			}
			return
		}
		if s != "" && len(rs) != strings.Count(s, ",")+1 {
			t.Fatalf("parseRatios(%q) = %v: one ratio per comma-separated item", s, rs)
		}
		out := make([]string, len(rs))
		for i, r := range rs {
			if math.IsNaN(r) || r < 0.75 || r > 1.8 {
				t.Fatalf("parseRatios(%q) accepted %v, outside 0.75–1.8", s, r)
			}
			out[i] = strconv.FormatFloat(r, 'f', -1, 64) // as the client sends it
		}
		if again, err := parseRatios(strings.Join(out, ",")); err != nil || !slices.Equal(again, rs) {
			t.Fatalf("parseRatios(%q) = %v, which reads back as %v, %v", s, rs, again, err)
		}
	})
}
