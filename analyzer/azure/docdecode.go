package azure

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sightline/sightline/analyzer"
)

// Wire types of Document Intelligence 2024-11-30 (AnalyzeOperation,
// AnalyzeResult, DocumentField in the spec), down to what Sightline uses.
type wireAnalyzeOperation struct {
	Status        string             `json:"status"`
	Error         *errorDetail       `json:"error"`
	AnalyzeResult *wireAnalyzeResult `json:"analyzeResult"`
}

type wireAnalyzeResult struct {
	ModelID   string     `json:"modelId"`
	Content   string     `json:"content"`
	Pages     []struct{} `json:"pages"`
	Documents []struct {
		DocType string               `json:"docType"`
		Fields  map[string]wireField `json:"fields"`
	} `json:"documents"`
}

// wireField is a DocumentField: value* holds the typed value that goes
// with type; pointers tell "absent" (not normalised) from zero.
type wireField struct {
	Type                string               `json:"type"`
	ValueString         *string              `json:"valueString"`
	ValueDate           *string              `json:"valueDate"`
	ValueTime           *string              `json:"valueTime"`
	ValuePhoneNumber    *string              `json:"valuePhoneNumber"`
	ValueNumber         *float64             `json:"valueNumber"`
	ValueInteger        *int64               `json:"valueInteger"`
	ValueSelectionMark  *string              `json:"valueSelectionMark"`
	ValueSignature      *string              `json:"valueSignature"`
	ValueCountryRegion  *string              `json:"valueCountryRegion"`
	ValueArray          []wireField          `json:"valueArray"`
	ValueObject         map[string]wireField `json:"valueObject"`
	ValueCurrency       *wireCurrency        `json:"valueCurrency"`
	ValueAddress        *wireAddress         `json:"valueAddress"`
	ValueBoolean        *bool                `json:"valueBoolean"`
	ValueSelectionGroup []string             `json:"valueSelectionGroup"`
	Content             string               `json:"content"`
	Confidence          *float64             `json:"confidence"`
	BoundingRegions     []struct {
		Polygon []float64 `json:"polygon"`
	} `json:"boundingRegions"`
}

type wireCurrency struct {
	Amount       float64 `json:"amount"`
	CurrencyCode string  `json:"currencyCode"`
}

// wireAddress is AddressValue, whose parts the result names in snake case.
type wireAddress struct {
	HouseNumber   string `json:"houseNumber"`
	POBox         string `json:"poBox"`
	Road          string `json:"road"`
	City          string `json:"city"`
	State         string `json:"state"`
	PostalCode    string `json:"postalCode"`
	CountryRegion string `json:"countryRegion"`
	StreetAddress string `json:"streetAddress"`
	Unit          string `json:"unit"`
	CityDistrict  string `json:"cityDistrict"`
	StateDistrict string `json:"stateDistrict"`
	Suburb        string `json:"suburb"`
	House         string `json:"house"`
	Level         string `json:"level"`
}

// DecodeDocument converts a succeeded analyze operation's body into the
// `document` shape: the first document's
// fields typed, its Items apart. Results without documents (prebuilt-read,
// -layout) have no fields but keep their content and page count.
func DecodeDocument(body []byte) (*analyzer.Document, error) {
	var op wireAnalyzeOperation
	if err := json.Unmarshal(body, &op); err != nil {
		return nil, fmt.Errorf("decoding analyze result: %w", describeJSONError(err))
	}
	return op.document()
}

// document converts a succeeded operation's result.
func (op *wireAnalyzeOperation) document() (*analyzer.Document, error) {
	r := op.AnalyzeResult
	if r == nil {
		return nil, errors.New("decoding analyze result: unexpected response shape: no analyzeResult")
	}
	d := analyzer.NewDocument(r.ModelID)
	d.Pages, d.Content = len(r.Pages), r.Content
	if len(r.Documents) == 0 {
		return d, nil
	}
	doc := r.Documents[0]
	d.DocType = doc.DocType
	for name, wf := range doc.Fields {
		if items, ok := lineItems(name, wf); ok {
			d.Items = items
			continue
		}
		d.Fields[name] = wf.field()
	}
	return d, nil
}

// lineItems returns the line items when the field is Items, an array of
// objects.
func lineItems(name string, wf wireField) ([]map[string]analyzer.DocumentField, bool) {
	if name != analyzer.ItemsField || wf.Type != analyzer.FieldArray {
		return nil, false
	}
	items := make([]map[string]analyzer.DocumentField, 0, len(wf.ValueArray))
	for _, el := range wf.ValueArray {
		if el.Type != analyzer.FieldObject {
			return nil, false
		}
		items = append(items, objectFields(el.ValueObject))
	}
	return items, true
}

func objectFields(in map[string]wireField) map[string]analyzer.DocumentField {
	out := make(map[string]analyzer.DocumentField, len(in))
	for name, wf := range in {
		out[name] = wf.field()
	}
	return out
}

func (wf wireField) field() analyzer.DocumentField {
	f := analyzer.DocumentField{Type: wf.Type, Value: wf.value(), Content: wf.Content,
		Confidence: wf.Confidence, BoundingPolygon: []analyzer.DocumentPoint{}}
	if len(wf.BoundingRegions) > 0 {
		p := wf.BoundingRegions[0].Polygon
		for i := 0; i+1 < len(p); i += 2 {
			f.BoundingPolygon = append(f.BoundingPolygon, analyzer.DocumentPoint{X: p[i], Y: p[i+1]})
		}
	}
	return f
}

// value is the typed value that goes with the field's type; nil when the
// service could not normalise the text (or the type is new to Sightline).
func (wf wireField) value() any {
	switch wf.Type {
	case analyzer.FieldString:
		return deref(wf.ValueString)
	case analyzer.FieldDate:
		return deref(wf.ValueDate)
	case analyzer.FieldTime:
		return deref(wf.ValueTime)
	case analyzer.FieldPhoneNumber:
		return deref(wf.ValuePhoneNumber)
	case analyzer.FieldCountryRegion:
		return deref(wf.ValueCountryRegion)
	case analyzer.FieldSelectionMark:
		return deref(wf.ValueSelectionMark)
	case analyzer.FieldSignature:
		return deref(wf.ValueSignature)
	case analyzer.FieldNumber:
		return deref(wf.ValueNumber)
	case analyzer.FieldInteger:
		return deref(wf.ValueInteger)
	case analyzer.FieldBoolean:
		return deref(wf.ValueBoolean)
	case analyzer.FieldCurrency:
		if c := wf.ValueCurrency; c != nil {
			return analyzer.Currency{Amount: c.Amount, CurrencyCode: c.CurrencyCode}
		}
	case analyzer.FieldAddress:
		if a := wf.ValueAddress; a != nil {
			return analyzer.Address(*a)
		}
	case analyzer.FieldSelectionGroup:
		if wf.ValueSelectionGroup != nil {
			return wf.ValueSelectionGroup
		}
	case analyzer.FieldArray:
		out := make([]analyzer.DocumentField, 0, len(wf.ValueArray))
		for _, el := range wf.ValueArray {
			out = append(out, el.field())
		}
		return out
	case analyzer.FieldObject:
		return objectFields(wf.ValueObject)
	}
	return nil
}

// deref returns *p, or an untyped nil (not a typed nil pointer) when p is nil.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
