// Package docrules reads the common fields of receipts and invoices from
// OCR lines with hand-written rules, so that documents can be read without
// Azure Document Intelligence: labels found by their letters (OCR loses
// spaces and dots, and misreads a letter now and then), values beside or
// under them, addresses as a street line over a city line, line items as a
// table under its header or as rows led by a quantity. Field names and
// value types are the prebuilt models'; every result says it is heuristic,
// and a field's confidence is the OCR's times how sure its rule is.
package docrules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sightline/sightline/analyzer"
)

// How sure each kind of rule is; a field's confidence is the OCR's times
// this.
const (
	sureLabel    = 0.9 // a value beside or under its label
	sureFuzzy    = 0.7 // the label read with a letter wrong
	sureTable    = 0.8 // a cell under its column's header
	surePosition = 0.6 // known by where it is (the name at the top)
	sureDerived  = 0.5 // computed from the other amounts
)

// Analyzer reads documents heuristically from the lines an OCR backend
// reads (the local one, in practice).
type Analyzer struct {
	ocr analyzer.Analyzer
}

// New returns an Analyzer over ocr, which must support analyzer.FeatureRead.
func New(ocr analyzer.Analyzer) *Analyzer { return &Analyzer{ocr: ocr} }

// Name implements analyzer.DocumentAnalyzer: the rules run here.
func (a *Analyzer) Name() string { return "local" }

var errPDF = errors.New("the local fallback reads images, not PDF: use --backend azure, or give a picture of the page")

// AnalyzeDocument implements analyzer.DocumentAnalyzer for the receipt,
// invoice and read models, and ModelAuto (receipt unless it says invoice).
// Pages and locale do not apply: one image is one page, read as en-US.
func (a *Analyzer) AnalyzeDocument(ctx context.Context, img analyzer.Image, req analyzer.DocumentRequest) (*analyzer.Document, error) {
	if err := CheckModel(req.Model); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(img.Bytes, []byte("%PDF-")) {
		return nil, errPDF
	}
	res, err := a.ocr.Analyze(ctx, img, analyzer.Request{Features: analyzer.Features{analyzer.FeatureRead}})
	if err != nil {
		return nil, err
	}
	return Extract(res.ReadResult, req.Model), nil
}

// CheckModel says whether the rules can read model.
func CheckModel(model string) error {
	switch model {
	case analyzer.ModelReceipt, analyzer.ModelInvoice, analyzer.ModelRead, analyzer.ModelAuto:
		return nil
	}
	return fmt.Errorf("the local fallback reads %s, %s, %s or %s, not %q (that needs --backend azure)",
		analyzer.ModelReceipt, analyzer.ModelInvoice, analyzer.ModelRead, analyzer.ModelAuto, model)
}

// Extract reads model's fields from OCR lines. ModelAuto picks invoice
// when the text says "invoice", else receipt.
func Extract(r *analyzer.ReadResult, model string) *analyzer.Document {
	lines := linesOf(r)
	if model == analyzer.ModelAuto {
		model = guess(lines)
	}
	d := analyzer.NewDocument(model)
	d.Heuristic = true
	d.Pages = 1
	texts := make([]string, len(lines))
	for i, l := range lines {
		texts[i] = l.text
	}
	d.Content = strings.Join(texts, "\n")
	rd := &reader{lines: lines, doc: d, currency: documentCurrency(lines)}
	switch model {
	case analyzer.ModelReceipt:
		d.DocType = "receipt"
		rd.receipt()
	case analyzer.ModelInvoice:
		d.DocType = "invoice"
		rd.invoice()
	}
	return d
}

// guess is the model for ModelAuto.
func guess(lines []*line) string {
	for _, l := range lines {
		if strings.Contains(squash(l.text), "invoice") {
			return analyzer.ModelInvoice
		}
	}
	return analyzer.ModelReceipt
}

// documentCurrency is the code of the first currency symbol printed, for
// amounts printed without one.
func documentCurrency(lines []*line) string {
	for _, l := range lines {
		if i := strings.IndexAny(l.text, "$€£"); i >= 0 {
			return currencyCodes[string([]rune(l.text[i:])[0])]
		}
	}
	return ""
}

// reader fills a document from its lines.
type reader struct {
	lines    []*line
	doc      *analyzer.Document
	currency string
}

// field builds a field read from l; the value's text is content.
func (r *reader) field(typ string, value any, content string, l *line, sure float64) analyzer.DocumentField {
	conf := l.conf * sure
	return analyzer.DocumentField{Type: typ, Value: value, Content: content,
		Confidence: &conf, BoundingPolygon: valuePolygon(l, content)}
}

// set adds a field unless a rule already found it.
func (r *reader) set(name string, f analyzer.DocumentField) {
	if _, ok := r.doc.Fields[name]; !ok {
		r.doc.Fields[name] = f
	}
}

// money reads an amount, in the document's currency when it prints none.
func (r *reader) money(s string, strict bool) (analyzer.Currency, bool) {
	c, ok := parseMoney(s, strict)
	if ok && c.CurrencyCode == "" {
		c.CurrencyCode = r.currency
	}
	return c, ok
}
