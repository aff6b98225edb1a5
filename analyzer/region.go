package analyzer

import (
	"context"
	"image"
	"image/color"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/internal/mats"
)

// AnalyzeRegion analyses the part of frame inside region (the whole frame
// when region is empty) and reports every box and polygon in the frame's
// coordinates. The region is read with a border of its own edge pixels
// around it: a tight crop of one line of text reads as garbage, because
// the text detector needs context around the text (measured: "Ogetthemusedtc"
// for a line that reads perfectly with the border).
func AnalyzeRegion(ctx context.Context, a Analyzer, frame gocv.Mat, region image.Rectangle, req Request) (*Analysis, error) {
	region = region.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if region.Empty() {
		return a.Analyze(ctx, Image{Mat: frame}, req)
	}
	padded, origin := withBorder(frame, region, max(16, region.Dy()/2))
	defer padded.Close()
	res, err := a.Analyze(ctx, Image{Mat: padded}, req)
	if err != nil || res == nil {
		return res, err
	}
	res.Offset(origin)
	res.Metadata = Metadata{Width: frame.Cols(), Height: frame.Rows()}
	return res, nil
}

// AnalyzeDocumentRegion is AnalyzeRegion for documents: the fields of the
// part of frame inside region (the whole frame when region is empty), their
// polygons in the frame's coordinates. The region gets a border too, for
// the local rules' OCR as above and because the service needs 50 px a side;
// a narrower one than AnalyzeRegion's, since a document region is tall and a
// border of half its height would double what is uploaded.
func AnalyzeDocumentRegion(ctx context.Context, d DocumentAnalyzer, frame gocv.Mat, region image.Rectangle, req DocumentRequest) (*Document, error) {
	region = region.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if region.Empty() {
		return d.AnalyzeDocument(ctx, Image{Mat: frame}, req)
	}
	padded, origin := withBorder(frame, region, max(16, min(region.Dx(), region.Dy())/8))
	defer padded.Close()
	doc, err := d.AnalyzeDocument(ctx, Image{Mat: padded}, req)
	if err != nil || doc == nil {
		return doc, err
	}
	doc.Offset(float64(origin.X), float64(origin.Y))
	return doc, nil
}

// withBorder copies the region of frame with a border of pad pixels
// repeating its edges, and says where the copy's top left lies in the
// frame. The caller closes the copy.
func withBorder(frame gocv.Mat, region image.Rectangle, pad int) (gocv.Mat, image.Point) {
	crop := mats.Crop(frame, region)
	defer crop.Close()
	padded := gocv.NewMat()
	gocv.CopyMakeBorder(crop, &padded, pad, pad, pad, pad, gocv.BorderReplicate, color.RGBA{})
	return padded, region.Min.Sub(image.Pt(pad, pad))
}

// Offset moves every box and polygon of a by d.
func (a *Analysis) Offset(d image.Point) {
	box := func(b *BoundingBox) { b.X, b.Y = b.X+d.X, b.Y+d.Y }
	poly := func(ps []Point) {
		for i := range ps {
			ps[i].X, ps[i].Y = ps[i].X+d.X, ps[i].Y+d.Y
		}
	}
	for i := range a.DenseCaptions {
		box(&a.DenseCaptions[i].BoundingBox)
	}
	for i := range a.Objects {
		box(&a.Objects[i].BoundingBox)
	}
	for i := range a.People {
		box(&a.People[i].BoundingBox)
	}
	for i := range a.Faces {
		box(&a.Faces[i].BoundingBox)
	}
	for i := range a.SmartCrops {
		box(&a.SmartCrops[i].BoundingBox)
	}
	if a.ReadResult == nil {
		return
	}
	for _, b := range a.ReadResult.Blocks {
		for _, l := range b.Lines {
			poly(l.BoundingPolygon)
			for _, w := range l.Words {
				poly(w.BoundingPolygon)
			}
		}
	}
}
