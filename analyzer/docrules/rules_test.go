package docrules

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sightline/sightline/analyzer"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in     string
		strict bool
		want   float64
		code   string
		ok     bool
	}{
		{"$1,998.00", true, 1998, "USD", true},
		{"$ 11.70", true, 11.7, "USD", true},
		{"$9.5", true, 9.5, "USD", true},
		{"14.50", true, 14.5, "", true},
		{"€3", true, 3, "EUR", true},
		{"98052", true, 0, "", false}, // a postcode, not an amount
		{"1", true, 0, "", false},
		{"1", false, 1, "", true}, // a table's price cell
		{"$lb3", true, 0, "", false},
		{"1,998", false, 1998, "", true},
		{"12.345", true, 0, "", false},
	}
	for _, tt := range tests {
		got, ok := parseMoney(tt.in, tt.strict)
		if ok != tt.ok || (ok && (got.Amount != tt.want || got.CurrencyCode != tt.code)) {
			t.Errorf("parseMoney(%q, %v) = %+v, %v; want %v %q, %v", tt.in, tt.strict, got, ok, tt.want, tt.code, tt.ok)
		}
	}
}

func TestFindDatesTimesPhones(t *testing.T) {
	for in, want := range map[string][]string{
		"6/10/2019 13:59":                        {"2019-06-10"},
		"SERVICE PERIOD: 10/14/2019 -11/14/2019": {"2019-10-14", "2019-11-14"},
		"Date 2024-02-29":                        {"2024-02-29"},
		"31.12.2023":                             {"2023-12-31"},
		"Jun 10, 2019":                           {"2019-06-10"},
		"6/10/19":                                {"2019-06-10"},
		"6/10/201913:59":                         {"2019-06-10"}, // OCR lost the space
		"2/30/2019":                              nil,            // no such day
		"Redmond, WA 98052":                      nil,
	} {
		if got, _ := findDates(in); !reflect.DeepEqual(got, want) {
			t.Errorf("findDates(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]string{"6/10/2019 13:59": "13:59:00", "6/10/201913:59": "13:59:00", "1:05 PM": "13:05:00", "12:30am": "00:30:00", "08:15:42": "08:15:42"} {
		if got, _, ok := findTime(in); !ok || got != want {
			t.Errorf("findTime(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for in, want := range map[string]string{"987-654-3210": "+19876543210", "(425) 555-0100": "+14255550100", "+1 425.555.0100": "+14255550100"} {
		if got, _, ok := findPhone(in); !ok || got != want {
			t.Errorf("findPhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, _, ok := findPhone("Total $1203.39"); ok {
		t.Error("an amount read as a phone number")
	}
}

func TestParseAddressLines(t *testing.T) {
	for in, want := range map[string][3]string{
		"Redmond, WA 98052":   {"Redmond", "WA", "98052"},
		"Redmond,WA98052":     {"Redmond", "WA", "98052"},
		"Redmond WA, 98052":   {"Redmond", "WA", "98052"},
		"New York, NY, 10001": {"New York", "NY", "10001"},
		"Redmond.,WA 98052":   {"Redmond", "WA", "98052"},
	} {
		c, s, p, ok := parseCity(in)
		if !ok || [3]string{c, s, p} != want {
			t.Errorf("parseCity(%q) = %q %q %q %v, want %v", in, c, s, p, ok, want)
		}
	}
	if h, r, ok := parseStreet("123 456th St"); !ok || h != "123" || r != "456th St" {
		t.Errorf("parseStreet = %q %q %v", h, r, ok)
	}
	if h, r, ok := parseStreet("123 Other St,"); !ok || h != "123" || r != "Other St" {
		t.Errorf("parseStreet = %q %q %v", h, r, ok)
	}
	if h, r, ok := parseStreet("123MainStreet"); !ok || h != "123" || r != "MainStreet" {
		t.Errorf("parseStreet = %q %q %v", h, r, ok)
	}
	for _, s := range []string{"$14.50", "6/10/2019 13:59", "12345"} {
		if _, _, ok := parseStreet(s); ok {
			t.Errorf("parseStreet(%q) took it for a street", s)
		}
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		text, label, value string
	}{
		{"INVOICE DATE: 11/15/2019", "INVOICE DATE", "11/15/2019"},
		{"Total $14.50", "Total", "$14.50"},
		{"Sub-Total", "Sub-Total", ""},
		{"1 Cappuccino", "1 Cappuccino", ""},
	}
	for _, tt := range tests {
		if l, v := splitLabel(tt.text); l != tt.label || v != tt.value {
			t.Errorf("splitLabel(%q) = %q, %q", tt.text, l, v)
		}
	}
	for got, want := range map[string]bool{"subtotal": true, "tatal": true, "total": true, "tax": true, "tex": false, "totaltax": false} {
		if _, ok := labelMatches(squash(got), []string{"subtotal", "total", "tax"}); ok != want {
			t.Errorf("labelMatches(%q) = %v, want %v", got, ok, want)
		}
	}
	if squash("P.O.NUMBER") != "ponumber" || squash("AMOUNT DUE") != "amountdue" {
		t.Error("squash keeps only letters")
	}
}

// page lays out rows of cells: each cell a line of text at x (its left),
// 40 px high, rows 60 px apart, words 20 px a character.
type cell struct {
	x    int
	text string
}

func page(rows ...[]cell) *analyzer.ReadResult {
	block := analyzer.Block{}
	for i, row := range rows {
		y := 100 + 60*i
		for _, c := range row {
			w := 20 * len(c.text)
			line := analyzer.Line{Text: c.text, BoundingPolygon: []analyzer.Point{{X: c.x, Y: y}, {X: c.x + w, Y: y}, {X: c.x + w, Y: y + 40}, {X: c.x, Y: y + 40}}}
			x := c.x
			for _, word := range strings.Fields(c.text) {
				ww := 20 * len(word)
				line.Words = append(line.Words, analyzer.Word{Text: word, Confidence: 1,
					BoundingPolygon: []analyzer.Point{{X: x, Y: y}, {X: x + ww, Y: y}, {X: x + ww, Y: y + 40}, {X: x, Y: y + 40}}})
				x += ww + 20
			}
			block.Lines = append(block.Lines, line)
		}
	}
	return &analyzer.ReadResult{Blocks: []analyzer.Block{block}}
}

func values(fields map[string]analyzer.DocumentField) map[string]string {
	out := map[string]string{}
	for name, f := range fields {
		out[name] = f.Text()
	}
	return out
}

func TestReceiptRules(t *testing.T) {
	r := page(
		[]cell{{100, "RECEIPT"}},
		[]cell{{100, "Corner Cafe"}},
		[]cell{{100, "12 High Street"}},
		[]cell{{100, "Springfield, IL 62701"}},
		[]cell{{100, "(217) 555-0123"}},
		[]cell{{100, "Jun 3, 2024 8:05 PM"}},
		[]cell{{100, "2 Latte"}, {700, "$7.00"}},
		[]cell{{100, "1 Bagel"}},
		[]cell{{140, "toasted"}, {700, "$2.50"}},
		[]cell{{100, "Sub Total"}, {700, "$9.50"}},
		[]cell{{100, "Tax $0.95"}},
		[]cell{{100, "Tip"}, {700, "$l.5O"}}, // misread: derived from the others
		[]cell{{100, "Tatal"}, {700, "$11.95"}},
	)
	d := Extract(r, analyzer.ModelReceipt)
	want := map[string]string{
		"MerchantName": "Corner Cafe", "MerchantAddress": "12 High Street, Springfield, IL 62701",
		"MerchantPhoneNumber": "+12175550123", "TransactionDate": "2024-06-03", "TransactionTime": "20:05:00",
		"Subtotal": "9.50 USD", "TotalTax": "0.95 USD", "Tip": "1.50 USD", "Total": "11.95 USD",
	}
	if got := values(d.Fields); !reflect.DeepEqual(got, want) {
		t.Errorf("fields\n got %v\nwant %v", got, want)
	}
	if len(d.Items) != 2 || d.Items[0]["Description"].Text() != "Latte" || d.Items[0]["Quantity"].Value != 2.0 ||
		d.Items[1]["Description"].Text() != "Bagel" || d.Items[1]["TotalPrice"].Text() != "2.50 USD" {
		t.Errorf("items %v", d.Items)
	}
	if c := *d.Fields["Tip"].Confidence; c != sureDerived || d.Fields["Tip"].Content != "$l.5O" {
		t.Errorf("derived tip: confidence %v, content %q", c, d.Fields["Tip"].Content)
	}
	if c := *d.Fields["Total"].Confidence; c != sureFuzzy {
		t.Errorf("Tatal read with confidence %v, want the fuzzy rule's %v", c, sureFuzzy)
	}
	// The tax's polygon is the amount's words, not the label's.
	if p := d.Fields["TotalTax"].BoundingPolygon; len(p) != 4 || p[0].X != 100+3*20+20 {
		t.Errorf("TotalTax polygon %v", p)
	}
	if !d.Heuristic || d.DocType != "receipt" || d.Pages != 1 || !strings.HasPrefix(d.Content, "RECEIPT\nCorner Cafe") {
		t.Errorf("document %+v", d)
	}
}

func TestSizesAreNotQuantities(t *testing.T) {
	d := Extract(page(
		[]cell{{100, "1 Laptop 15"}},
		[]cell{{140, "256GB SSD"}},
		[]cell{{140, "16 GB RAM"}, {700, "$999.00"}},
		[]cell{{100, "Total"}, {700, "$999.00"}},
	), analyzer.ModelReceipt)
	if len(d.Items) != 1 || d.Items[0]["Description"].Text() != "Laptop 15" || d.Items[0]["TotalPrice"].Text() != "999.00 USD" {
		t.Errorf("items %v", d.Items)
	}
}

func TestInvoiceRules(t *testing.T) {
	r := page(
		[]cell{{100, "Fabrikam Inc."}, {900, "INVOICE"}},
		[]cell{{100, "1 Way"}, {700, "Invoice No: F-778"}},
		[]cell{{100, "Seattle, WA 98101"}, {700, "Due Date: 2024-07-01"}},
		[]cell{{100, "Customer Name: Adatum"}},
		[]cell{{100, "Date"}, {400, "Description"}, {900, "Qty"}, {1100, "Amount"}},
		[]cell{{100, "6/1/2024"}, {400, "Widgets"}, {900, "4"}, {1100, "$40.00"}},
		[]cell{{100, "6/2/2024"}, {400, "Gadgets"}, {900, "1"}, {1100, "$60.00"}},
		[]cell{{800, "TOTAL"}, {1100, "$100.00"}},
		[]cell{{100, "Order Date"}, {700, "PO Number"}},
		[]cell{{100, "5/30/2024"}, {700, "PO-9"}},
	)
	d := Extract(r, analyzer.ModelAuto)
	want := map[string]string{
		"VendorName": "Fabrikam Inc.", "VendorAddress": "1 Way, Seattle, WA 98101",
		"InvoiceId": "F-778", "DueDate": "2024-07-01", "CustomerName": "Adatum",
		"InvoiceTotal": "100.00 USD", "PurchaseOrder": "PO-9",
	}
	if d.Model != analyzer.ModelInvoice {
		t.Fatalf("auto picked %s for a page that says invoice", d.Model)
	}
	if got := values(d.Fields); !reflect.DeepEqual(got, want) {
		t.Errorf("fields\n got %v\nwant %v", got, want)
	}
	wantItems := []map[string]string{
		{"Date": "2024-06-01", "Description": "Widgets", "Quantity": "4", "Amount": "40.00 USD"},
		{"Date": "2024-06-02", "Description": "Gadgets", "Quantity": "1", "Amount": "60.00 USD"},
	}
	var gotItems []map[string]string
	for _, it := range d.Items {
		gotItems = append(gotItems, values(it))
	}
	if !reflect.DeepEqual(gotItems, wantItems) {
		t.Errorf("items\n got %v\nwant %v", gotItems, wantItems)
	}
}

func TestAutoAndReadModels(t *testing.T) {
	r := page([]cell{{100, "Corner Cafe"}}, []cell{{100, "Total"}, {700, "$3.00"}})
	if d := Extract(r, analyzer.ModelAuto); d.Model != analyzer.ModelReceipt || d.Fields["Total"].Text() != "3.00 USD" {
		t.Errorf("auto: %s %v", d.Model, values(d.Fields))
	}
	if d := Extract(r, analyzer.ModelRead); len(d.Fields) != 0 || d.Content != "Corner Cafe\nTotal\n$3.00" {
		t.Errorf("read: %v %q", d.Fields, d.Content)
	}
	if d := Extract(nil, analyzer.ModelReceipt); len(d.Fields) != 0 || d.Items == nil {
		t.Errorf("no text: %+v", d)
	}
	for _, m := range []string{analyzer.ModelLayout, analyzer.ModelIDDocument, "my-model"} {
		if CheckModel(m) == nil {
			t.Errorf("CheckModel(%q) accepted a model the rules cannot read", m)
		}
	}
}
