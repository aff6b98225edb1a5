// Package contract holds the JSON shapes of the one-image commands that
// are the command line's, not the analyzer's: the `ocr` and `predict`
// lines' data, which the app's exports write too.
package contract

import (
	"strings"

	"github.com/sightline/sightline/analyzer"
)

// OCRLine is one line of the `ocr` command's structured_data.
type OCRLine struct {
	Block           int              `json:"block"`
	Line            int              `json:"line"`
	Text            string           `json:"text"`
	BoundingPolygon []analyzer.Point `json:"bounding_polygon"`
	Words           []analyzer.Word  `json:"words"`
}

// OCRResult is the `ocr` command's data.
type OCRResult struct {
	FullText       string    `json:"full_text"`
	StructuredData []OCRLine `json:"structured_data"`
	TotalWords     int       `json:"total_words"`
	Language       string    `json:"language"`
}

// NewOCRResult flattens a read result into the `ocr` output: lines in
// reading order, full text joined by newlines, blocks and lines numbered from 0.
func NewOCRResult(r *analyzer.ReadResult, language string) OCRResult {
	out := OCRResult{StructuredData: []OCRLine{}, Language: language}
	if r == nil {
		return out
	}
	var text []string
	for b, block := range r.Blocks {
		for l, line := range block.Lines {
			out.StructuredData = append(out.StructuredData, OCRLine{
				Block: b, Line: l, Text: line.Text,
				BoundingPolygon: line.BoundingPolygon, Words: line.Words,
			})
			out.TotalWords += len(line.Words)
			text = append(text, line.Text)
		}
	}
	out.FullText = strings.Join(text, "\n")
	return out
}
