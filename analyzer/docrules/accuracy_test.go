package docrules_test

// Field accuracy of the local fallback on the sample documents of
// ../shared/azure/docintel, field by field against the values the material
// gives: Document Intelligence's own results where it has them, else the
// values docintel-and-training.md lists. Reproduce the figures with
//
//	go test ./analyzer/docrules -run TestAccuracy -v

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/analyzer/azure"
	"github.com/sightline/sightline/analyzer/azure/azuretest"
	"github.com/sightline/sightline/analyzer/docrules"
	"github.com/sightline/sightline/analyzer/local"
)

var (
	ocrOnce sync.Once
	ocr     *local.Backend
	ocrErr  error
)

// localOCR loads the local backend's text models once.
func localOCR(t testing.TB) *local.Backend {
	t.Helper()
	ocrOnce.Do(func() {
		ocr = local.New(local.Options{})
		ocrErr = ocr.Load(analyzer.Features{analyzer.FeatureRead})
	})
	if ocrErr != nil {
		t.Fatalf("PP-OCRv4 not installed (scripts/setup.sh): %v", ocrErr)
	}
	return ocr
}

// truth is what a document holds: the fields and line items to check.
type truth struct {
	fields map[string]any // string, float64 (an amount) or analyzer.Address
	items  []map[string]any
}

// truthOf takes the values of a real Document Intelligence result.
func truthOf(t *testing.T, body []byte) truth {
	t.Helper()
	d, err := azure.DecodeDocument(body)
	if err != nil {
		t.Fatal(err)
	}
	value := func(f analyzer.DocumentField) any {
		if c, ok := f.Value.(analyzer.Currency); ok {
			return c.Amount
		}
		return f.Value
	}
	tr := truth{fields: map[string]any{}}
	for name, f := range d.Fields {
		tr.fields[name] = value(f)
	}
	for _, it := range d.Items {
		m := map[string]any{}
		for name, f := range it {
			m[name] = value(f)
		}
		tr.items = append(tr.items, m)
	}
	return tr
}

// receiptByEye: contoso-receipt.png has no service output; the material
// lists its values as read from the image.
var receiptByEye = truth{
	fields: map[string]any{
		"MerchantName": "Contoso",
		"MerchantAddress": analyzer.Address{HouseNumber: "123", Road: "Main Street", City: "Redmond", State: "WA",
			PostalCode: "98052", StreetAddress: "123 Main Street"},
		"MerchantPhoneNumber": "+11234567890", "TransactionDate": "2019-06-10", "TransactionTime": "13:59:00",
		"Subtotal": 1098.99, "TotalTax": 104.40, "Total": 1203.39,
	},
	items: []map[string]any{
		{"Quantity": 1.0, "Description": "Surface Pro 6", "TotalPrice": 999.00},
		{"Quantity": 1.0, "Description": "SurfacePen", "TotalPrice": 99.99},
	},
}

// sampleInvoice: the values docintel-and-training.md gives for sample-invoice.pdf.
var sampleInvoice = truth{fields: map[string]any{
	"InvoiceId": "INV-100", "InvoiceDate": "2019-11-15", "DueDate": "2019-12-15",
	"CustomerName": "MICROSOFT CORPORATION", "CustomerId": "CID-12345",
	"InvoiceTotal": 110.0, "AmountDue": 610.0, "PreviousUnpaidBalance": 500.0,
}}

// result is one value of the truth, read right or not.
type result struct {
	field string // the field's name; Items.Name for a line item's
	ok    bool
	miss  string
}

// score checks every value of the truth against the document.
func score(d *analyzer.Document, tr truth) []result {
	var out []result
	check := func(field, where string, got analyzer.DocumentField, present bool, want any) {
		r := result{field: field, ok: present && same(got.Value, want)}
		if !r.ok {
			r.miss = fmt.Sprintf("%s: got %q, want %v", where, got.Text(), want)
		}
		out = append(out, r)
	}
	for _, name := range slices.Sorted(maps.Keys(tr.fields)) {
		f, ok := d.Fields[name]
		check(name, name, f, ok, tr.fields[name])
	}
	for i, want := range tr.items {
		for _, name := range slices.Sorted(maps.Keys(want)) {
			var f analyzer.DocumentField
			ok := i < len(d.Items)
			if ok {
				f, ok = d.Items[i][name]
			}
			check("Items."+name, fmt.Sprintf("Items[%d].%s", i, name), f, ok, want[name])
		}
	}
	return out
}

// same compares a value read with the truth: amounts to the cent, whatever
// their type (receipts of 2022 typed them as numbers); addresses part by
// part.
func same(got, want any) bool {
	amount := func(v any) (float64, bool) {
		switch v := v.(type) {
		case float64:
			return v, true
		case analyzer.Currency:
			return v.Amount, true
		}
		return 0, false
	}
	if w, ok := amount(want); ok {
		g, ok := amount(got)
		return ok && math.Abs(g-w) < 0.005
	}
	return got == want
}

// frameSide is the longer side of a document held up to a camera: about
// what a receipt fills of a 1080p frame.
const frameSide = 960

// asFrame shrinks an image so that its longer side is frameSide.
func asFrame(t *testing.T, b []byte) []byte {
	t.Helper()
	m, err := gocv.IMDecode(b, gocv.IMReadColor)
	if err != nil || m.Empty() {
		t.Fatalf("decoding: %v", err)
	}
	defer m.Close()
	scale := float64(frameSide) / float64(max(m.Cols(), m.Rows()))
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(m, &small, image.Pt(int(float64(m.Cols())*scale+0.5), int(float64(m.Rows())*scale+0.5)), 0, 0, gocv.InterpolationArea)
	buf, err := gocv.IMEncode(gocv.PNGFileExt, small)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes())
}

func TestAccuracy(t *testing.T) {
	data := azuretest.Load(t)
	sample := func(name string) []byte { return data.Document(t, name) }
	file := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	docs := []struct {
		name  string
		model string
		image []byte
		truth truth
		// floors are the counts matched, as given and as a frame, when the
		// rules were written: fewer is a regression.
		floors [2]int
	}{
		{"contoso-allinone.jpg (receipt, v4 recording)", analyzer.ModelReceipt, sample("contoso-allinone.jpg"),
			truthOf(t, data.DocumentResults[azuretest.ReceiptRecording]), [2]int{14, 14}},
		{"rest-api/receipt.png (receipt, quickstart output)", analyzer.ModelReceipt, sample("rest-api/receipt.png"),
			truthOf(t, data.DocumentResults["receipt-model-output"]), [2]int{14, 12}},
		{"contoso-receipt.png (receipt, values read by eye)", analyzer.ModelReceipt, sample("contoso-receipt.png"), receiptByEye, [2]int{14, 13}},
		{"rest-api/invoice.pdf at 150 dpi (invoice, quickstart output)", analyzer.ModelInvoice, file("testdata/rest-api-invoice.png"),
			truthOf(t, data.DocumentResults["invoice-model-output"]), [2]int{49, 48}},
		{"sample-invoice.pdf at 150 dpi (invoice, values listed)", analyzer.ModelInvoice, file("testdata/sample-invoice.png"), sampleInvoice, [2]int{8, 8}},
	}
	a := docrules.New(localOCR(t))
	for pass, size := range []string{"as given", fmt.Sprintf("as a frame (%d px)", frameSide)} {
		allMatched, allTotal := 0, 0
		byField := map[string][2]int{} // matched, total
		for _, doc := range docs {
			img := doc.image
			if pass == 1 {
				img = asFrame(t, img)
			}
			d, err := a.AnalyzeDocument(context.Background(), analyzer.Image{Bytes: img}, analyzer.DocumentRequest{Model: doc.model})
			if err != nil {
				t.Fatalf("%s: %v", doc.name, err)
			}
			results := score(d, doc.truth)
			matched := 0
			for _, r := range results {
				n := byField[r.field]
				n[1]++
				if r.ok {
					matched++
					n[0]++
				}
				byField[r.field] = n
			}
			total := len(results)
			allMatched, allTotal = allMatched+matched, allTotal+total
			t.Logf("%-62s %-18s %2d/%2d fields", doc.name, size, matched, total)
			for _, r := range results {
				if !r.ok {
					t.Logf("    miss %s", r.miss)
				}
			}
			if matched < doc.floors[pass] {
				t.Errorf("%s %s: %d/%d fields, fewer than the %d matched before", doc.name, size, matched, total, doc.floors[pass])
			}
			if !d.Heuristic || d.Model != doc.model {
				t.Errorf("%s: heuristic %v, model %q", doc.name, d.Heuristic, d.Model)
			}
		}
		t.Logf("%-62s %-18s %2d/%2d fields (%.1f%%)", "all", size, allMatched, allTotal, 100*float64(allMatched)/float64(allTotal))
		var row []string
		for _, name := range slices.Sorted(maps.Keys(byField)) {
			row = append(row, fmt.Sprintf("%s %d/%d", name, byField[name][0], byField[name][1]))
		}
		t.Logf("by field, %s: %s", size, strings.Join(row, ", "))
	}
}
