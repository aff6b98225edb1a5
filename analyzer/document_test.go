package analyzer

import (
	"encoding/json"
	"reflect"
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

// Offset moves the polygons of fields, of their parts and of line items,
// and leaves the document it was copied from as it was.
func TestDocumentOffset(t *testing.T) {
	poly := func(x, y float64) []DocumentPoint { return []DocumentPoint{{x, y}, {x + 10, y}} }
	d := NewDocument(ModelReceipt)
	d.Fields["Total"] = DocumentField{Value: Currency{Amount: 1}, BoundingPolygon: poly(1, 2)}
	d.Fields["Phones"] = DocumentField{Type: FieldArray, Value: []DocumentField{{BoundingPolygon: poly(3, 4)}}}
	d.Fields["Parts"] = DocumentField{Type: FieldObject, Value: map[string]DocumentField{"A": {BoundingPolygon: poly(5, 6)}}}
	d.Fields["Nowhere"] = DocumentField{Value: "x"}
	d.Items = []map[string]DocumentField{{"Description": {BoundingPolygon: poly(7, 8)}}}
	before := d.Fields["Total"].BoundingPolygon

	d.Offset(100, 200)
	tests := []struct {
		name string
		got  []DocumentPoint
		want []DocumentPoint
	}{
		{"field", d.Fields["Total"].BoundingPolygon, poly(101, 202)},
		{"array part", d.Fields["Phones"].Value.([]DocumentField)[0].BoundingPolygon, poly(103, 204)},
		{"object part", d.Fields["Parts"].Value.(map[string]DocumentField)["A"].BoundingPolygon, poly(105, 206)},
		{"line item", d.Items[0]["Description"].BoundingPolygon, poly(107, 208)},
		{"no polygon", d.Fields["Nowhere"].BoundingPolygon, nil},
		{"the original", before, poly(1, 2)},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
