package analyzer

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDocumentFieldText(t *testing.T) {
	tests := []struct {
		f    DocumentField
		want string
	}{
		{DocumentField{Value: "INV-100"}, "INV-100"},
		{DocumentField{Value: 2.0}, "2"},
		{DocumentField{Value: 1998.5}, "1998.5"},
		{DocumentField{Value: int64(7)}, "7"},
		{DocumentField{Value: true}, "true"},
		{DocumentField{Value: Currency{Amount: 14.5, CurrencyCode: "USD"}}, "14.50 USD"},
		{DocumentField{Value: Currency{Amount: 110}}, "110.00"},
		{DocumentField{Value: Address{HouseNumber: "123", Road: "Main Street", City: "Redmond", State: "WA", PostalCode: "98052"}},
			"123 Main Street, Redmond, WA 98052"},
		{DocumentField{Value: []string{"a", "b"}}, "a, b"},
		{DocumentField{Content: "next Tuesday"}, "next Tuesday"},
		{DocumentField{Value: []DocumentField{{Value: "x"}}, Content: "x y"}, "x y"},
	}
	for _, tt := range tests {
		if got := tt.f.Text(); got != tt.want {
			t.Errorf("Text(%#v) = %q, want %q", tt.f.Value, got, tt.want)
		}
	}
}

func TestDocumentJSONShape(t *testing.T) {
	d := NewDocument(ModelReceipt)
	d.Fields["Total"] = DocumentField{Type: FieldCurrency, Value: Currency{Amount: 14.5, CurrencyCode: "USD"},
		Content: "$14.50", BoundingPolygon: []DocumentPoint{{1, 2}}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"prebuilt-receipt","doc_type":"","pages":0,"fields":{"Total":{"type":"currency",` +
		`"value":{"amount":14.5,"currency_code":"USD"},"content":"$14.50","confidence":null,` +
		`"bounding_polygon":[{"x":1,"y":2}]}},"items":[],"content":""}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestWriteItemsCSV(t *testing.T) {
	d := NewDocument(ModelInvoice)
	d.Items = []map[string]DocumentField{
		{"Description": {Value: "Consulting, hours"}, "Amount": {Value: Currency{Amount: 60, CurrencyCode: "USD"}}, "Unit": {Value: "hours"}},
		{"Description": {Value: "Document Fee"}, "Amount": {Value: Currency{Amount: 30, CurrencyCode: "USD"}}},
	}
	var b strings.Builder
	if err := d.WriteItemsCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "Amount,Description,Unit\n60.00 USD,\"Consulting, hours\",hours\n30.00 USD,Document Fee,\n"
	if b.String() != want {
		t.Errorf("CSV\n got %q\nwant %q", b.String(), want)
	}
}
