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

// docAt answers with one field whose polygon is the top left corner of
// the image it was given, and remembers that image's size.
type docAt struct{ got image.Point }

func (d *docAt) AnalyzeDocument(_ context.Context, img analyzer.Image, req analyzer.DocumentRequest) (*analyzer.Document, error) {
	d.got = image.Pt(img.Mat.Cols(), img.Mat.Rows())
	doc := analyzer.NewDocument(req.Model)
	doc.Fields["Total"] = analyzer.DocumentField{BoundingPolygon: []analyzer.DocumentPoint{{X: 0, Y: 0}, {X: 5, Y: 0}}}
	return doc, nil
}
func (d *docAt) Name() string { return "fixed" }

// A document region is read with a border, and the fields come back in
// the frame's coordinates; no region reads the whole frame as it is.
func TestAnalyzeDocumentRegion(t *testing.T) {
	frame := gocv.NewMatWithSize(600, 800, gocv.MatTypeCV8UC3)
	defer frame.Close()
	tests := []struct {
		name     string
		region   image.Rectangle
		sent     image.Point // size of the image analysed
		topLeftX float64     // where the image's top left lies in the frame
	}{
		{"whole frame", image.Rectangle{}, image.Pt(800, 600), 0},
		{"receipt", image.Rect(100, 50, 420, 530), image.Pt(320+2*40, 480+2*40), 100 - 40},
		{"one line", image.Rect(10, 10, 300, 40), image.Pt(290+2*16, 30+2*16), 10 - 16},
		{"past the edge", image.Rect(700, 500, 900, 700), image.Pt(100+2*16, 100+2*16), 700 - 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &docAt{}
			doc, err := analyzer.AnalyzeDocumentRegion(context.Background(), d, frame, tt.region, analyzer.DocumentRequest{Model: analyzer.ModelReceipt})
			if err != nil {
				t.Fatal(err)
			}
			if d.got != tt.sent {
				t.Errorf("analysed %v, want %v", d.got, tt.sent)
			}
			if p := doc.Fields["Total"].BoundingPolygon[0]; p.X != tt.topLeftX {
				t.Errorf("field at x %v in the frame, want %v", p.X, tt.topLeftX)
			}
		})
	}
}
