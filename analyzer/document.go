package analyzer

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Document models: the prebuilt ones Sightline names, plus ModelAuto, which
// lets the backend choose between invoice and receipt. Any other id is a
// custom model.
const (
	ModelInvoice    = "prebuilt-invoice"
	ModelReceipt    = "prebuilt-receipt"
	ModelRead       = "prebuilt-read"
	ModelLayout     = "prebuilt-layout"
	ModelIDDocument = "prebuilt-idDocument"
	ModelAuto       = "auto"
)

// Field types, as Document Intelligence names them.
const (
	FieldString         = "string"
	FieldDate           = "date"
	FieldTime           = "time"
	FieldPhoneNumber    = "phoneNumber"
	FieldNumber         = "number"
	FieldInteger        = "integer"
	FieldSelectionMark  = "selectionMark"
	FieldCountryRegion  = "countryRegion"
	FieldSignature      = "signature"
	FieldArray          = "array"
	FieldObject         = "object"
	FieldCurrency       = "currency"
	FieldAddress        = "address"
	FieldBoolean        = "boolean"
	FieldSelectionGroup = "selectionGroup"
)

// ItemsField is the field whose line items become Document.Items.
const ItemsField = "Items"

// DocumentRequest says which model reads a document, and how.
type DocumentRequest struct {
	// Model is a prebuilt model ("prebuilt-receipt", …), a custom model
	// id, or ModelAuto.
	Model string
	// Pages are the 1-based pages to analyse ("1-3,5"); all when empty.
	Pages string
	// Locale is a hint such as "en-US"; detected when empty.
	Locale string
}

// DocumentAnalyzer reads a document's fields: Azure Document Intelligence,
// or rules over OCR lines.
type DocumentAnalyzer interface {
	AnalyzeDocument(ctx context.Context, img Image, req DocumentRequest) (*Document, error)
	// Name is "azure" or "local", as in the `source` of results.
	Name() string
}

// Document is the `document` command's data: the first document the model
// found, its fields typed, and its line items apart.
type Document struct {
	Model   string `json:"model"`
	DocType string `json:"doc_type"`
	Pages   int    `json:"pages"`
	// Fields are keyed by the service's names (InvoiceTotal, MerchantName, …).
	Fields map[string]DocumentField `json:"fields"`
	// Items are the line items, each keyed by the item's field names.
	Items []map[string]DocumentField `json:"items"`
	// Content is the text read, in reading order.
	Content string `json:"content"`
	// Heuristic marks fields found by Sightline's local rules, not by a
	// trained model.
	Heuristic bool `json:"heuristic,omitempty"`
}

// DocumentField is one field. Value holds, by Type: string for string,
// date ("YYYY-MM-DD"), time ("hh:mm:ss"), phoneNumber (E.164),
// countryRegion, selectionMark and signature; float64 for number; int64 for
// integer; bool for boolean; Currency; Address; []string for
// selectionGroup; []DocumentField for array; map[string]DocumentField for
// object; nil when the text could not be normalised.
type DocumentField struct {
	Type    string `json:"type"`
	Value   any    `json:"value"`
	Content string `json:"content"`
	// Confidence is nil when the service gave none.
	Confidence *float64 `json:"confidence"`
	// BoundingPolygon is on the field's first page, in the page's unit:
	// pixels for images, inches for PDF.
	BoundingPolygon []DocumentPoint `json:"bounding_polygon"`
}

// DocumentPoint is a polygon vertex; fractional, since PDF pages are
// measured in inches.
type DocumentPoint struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Currency is a currency field's value.
type Currency struct {
	Amount float64 `json:"amount"`
	// CurrencyCode is ISO 4217 ("USD"); empty when unresolved.
	CurrencyCode string `json:"currency_code,omitempty"`
}

// Address is an address field's value, in its parts.
type Address struct {
	HouseNumber   string `json:"house_number,omitempty"`
	POBox         string `json:"po_box,omitempty"`
	Road          string `json:"road,omitempty"`
	City          string `json:"city,omitempty"`
	State         string `json:"state,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	CountryRegion string `json:"country_region,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Unit          string `json:"unit,omitempty"`
	CityDistrict  string `json:"city_district,omitempty"`
	StateDistrict string `json:"state_district,omitempty"`
	Suburb        string `json:"suburb,omitempty"`
	House         string `json:"house,omitempty"`
	Level         string `json:"level,omitempty"`
}

// String joins the parts as a postal address is written on one line.
func (a Address) String() string {
	street := a.StreetAddress
	if street == "" {
		street = strings.TrimSpace(a.HouseNumber + " " + a.Road)
	}
	var parts []string
	for _, p := range []string{a.House, street, a.Unit, a.POBox, a.Suburb, a.City, strings.TrimSpace(a.State + " " + a.PostalCode), a.CountryRegion} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// Text is the field's value as a form or a CSV cell shows it; the read text
// when there is no typed value.
func (f DocumentField) Text() string {
	switch v := f.Value.(type) {
	case nil:
		return f.Content
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case Currency:
		return strings.TrimSpace(strconv.FormatFloat(v.Amount, 'f', 2, 64) + " " + v.CurrencyCode)
	case Address:
		return v.String()
	case []string:
		return strings.Join(v, ", ")
	}
	return f.Content // arrays and objects: their text as read
}

// NewDocument returns an empty document of model, ready to fill.
func NewDocument(model string) *Document {
	return &Document{Model: model, Fields: map[string]DocumentField{}, Items: []map[string]DocumentField{}}
}

// ItemNames are the field names of the line items, the columns of their
// table: most common first, then by name.
func (d *Document) ItemNames() []string {
	count := map[string]int{}
	for _, it := range d.Items {
		for name := range it {
			count[name]++
		}
	}
	names := make([]string, 0, len(count))
	for name := range count {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	return names
}

// WriteItemsCSV writes the line items as CSV, one row an item, under a
// header of every item field name (ItemNames).
func (d *Document) WriteItemsCSV(w io.Writer) error {
	names := d.ItemNames()
	cw := csv.NewWriter(w)
	if err := cw.Write(names); err != nil {
		return fmt.Errorf("writing items CSV: %w", err)
	}
	row := make([]string, len(names))
	for _, it := range d.Items {
		for i, name := range names {
			row[i] = it[name].Text()
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("writing items CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing items CSV: %w", err)
	}
	return nil
}

// Offset moves every polygon of d by (dx, dy): the fields, the parts of
// array and object fields, and the line items.
func (d *Document) Offset(dx, dy float64) {
	for name, f := range d.Fields {
		d.Fields[name] = f.offset(dx, dy)
	}
	for _, it := range d.Items {
		for name, f := range it {
			it[name] = f.offset(dx, dy)
		}
	}
}

// offset is f moved by (dx, dy), its parts too; f's own slices and maps
// are left as they were.
func (f DocumentField) offset(dx, dy float64) DocumentField {
	f.BoundingPolygon = slices.Clone(f.BoundingPolygon)
	for i := range f.BoundingPolygon {
		f.BoundingPolygon[i].X += dx
		f.BoundingPolygon[i].Y += dy
	}
	switch v := f.Value.(type) {
	case []DocumentField:
		moved := make([]DocumentField, len(v))
		for i, el := range v {
			moved[i] = el.offset(dx, dy)
		}
		f.Value = moved
	case map[string]DocumentField:
		moved := make(map[string]DocumentField, len(v))
		for name, el := range v {
			moved[name] = el.offset(dx, dy)
		}
		f.Value = moved
	}
	return f
}
