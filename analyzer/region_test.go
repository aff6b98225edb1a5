package analyzer_test

import (
	"context"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/local"
)

// A region holding one line of a page reads as that line reads on the
// whole page, at the same place in the frame's coordinates.
func TestAnalyzeRegionReadsTightCrops(t *testing.T) {
	b := local.New(local.Options{})
	defer b.Close()
	page := gocv.IMRead("/usr/share/doc/opencv-doc/examples/data/imageTextN.png", gocv.IMReadColor)
	defer page.Close()
	if page.Empty() {
		t.Fatal("imageTextN.png missing (scripts/setup.sh installs opencv-doc)")
	}
	read := analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}}
	whole, err := b.Analyze(context.Background(), analyzer.Image{Mat: page}, read)
	if err != nil {
		t.Fatal(err)
	}
	want := whole.ReadResult.Blocks[0].Lines[2] // "small implementation projects, …"
	tight := image.Rect(26, 52, 530, 71)        // the line, to the pixel
	got, err := analyzer.AnalyzeRegion(context.Background(), b, page, tight, read)
	if err != nil {
		t.Fatal(err)
	}
	lines := got.ReadResult.Blocks[0].Lines
	if len(lines) != 1 || lines[0].Text != want.Text {
		t.Fatalf("the region read %v, want the line %q", lines, want.Text)
	}
	for i, p := range lines[0].BoundingPolygon {
		q := want.BoundingPolygon[i]
		if d := p.X - q.X + p.Y - q.Y; d < -6 || d > 6 {
			t.Errorf("corner %d at %v in the frame, the whole page says %v", i, p, q)
		}
	}
	if got.Metadata.Width != page.Cols() || got.Metadata.Height != page.Rows() {
		t.Errorf("metadata %+v: want the frame's size", got.Metadata)
	}
}
