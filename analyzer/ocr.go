package analyzer

import "strings"

// OCRLine is one line of the `ocr` command's structured_data.
type OCRLine struct {
	Block           int     `json:"block"`
	Line            int     `json:"line"`
	Text            string  `json:"text"`
	BoundingPolygon []Point `json:"bounding_polygon"`
	Words           []Word  `json:"words"`
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
func NewOCRResult(r *ReadResult, language string) OCRResult {
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
