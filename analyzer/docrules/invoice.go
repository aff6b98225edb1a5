package docrules

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sightline/sightline/analyzer"
)

// invoice reads prebuilt-invoice's fields: the line-item table first (so
// its headers are not taken for labels), then labelled values, the
// addresses under their labels, and the vendor and customer from the top.
func (r *reader) invoice() {
	r.tableItems(invoiceColumns)
	r.setLabelled("InvoiceId", asID, "invoice", "invoiceno", "invoicenumber", "invoiceid", "invoicenum")
	r.setLabelled("InvoiceDate", asDate, "invoicedate", "date", "dateofissue", "issuedate")
	r.setLabelled("DueDate", asDate, "duedate", "paymentdue", "invoiceduedate", "paymentduedate")
	r.setLabelled("CustomerName", asText, "customername", "customer", "invoicefor", "soldto")
	r.setLabelled("CustomerId", asID, "customerid", "customerno", "customernumber", "accountno", "accountnumber")
	r.setLabelled("PurchaseOrder", asID, "ponumber", "purchaseorder", "po", "pono", "purchaseordernumber")
	r.setLabelled("SubTotal", asMoney, subtotalLabels...)
	r.setLabelled("TotalTax", asMoney, taxLabels...)
	r.setLabelled("PreviousUnpaidBalance", asMoney, "previousbalance", "previousunpaidbalance", "balanceforward")
	r.setLabelled("AmountDue", asMoney, "amountdue", "totaldue", "balancedue")
	r.setLabelled("InvoiceTotal", asMoney, "total", "invoicetotal", "totalamount", "charges", "totalcharges", "grandtotal")
	r.servicePeriod()
	r.labelledAddress("BillingAddress", "BillingAddressRecipient", "billto")
	r.labelledAddress("ShippingAddress", "ShippingAddressRecipient", "shipto")
	r.labelledAddress("ServiceAddress", "ServiceAddressRecipient", "serviceaddress")
	r.labelledAddress("RemittanceAddress", "RemittanceAddressRecipient", "remitto")
	r.name("VendorName")
	r.customerAddress()
	// Unlabelled addresses at the top: the vendor's, then the customer's.
	for _, who := range []string{"Vendor", "Customer"} {
		addr, recipient, ok := r.nextAddress()
		if !ok {
			break
		}
		r.set(who+"Address", addr)
		if recipient.Type != "" {
			r.set(who+"AddressRecipient", recipient)
		}
	}
}

// customerAddress reads the address printed under the customer's name.
func (r *reader) customerAddress() {
	name, ok := r.doc.Fields["CustomerName"]
	if !ok {
		return
	}
	for _, l := range r.lines {
		if !l.used || !strings.Contains(l.text, name.Content) {
			continue
		}
		street := below(r.lines, l, func(o *line) bool { _, _, ok := parseStreet(o.text); return ok })
		if street == nil {
			return
		}
		if f, _, ok := r.address(street); ok {
			r.set("CustomerAddress", f)
		}
		return
	}
}

// servicePeriod reads "SERVICE PERIOD: 10/14/2019 – 11/14/2019".
func (r *reader) servicePeriod() {
	for _, l := range r.lines {
		label, value := splitLabel(l.text)
		if _, ok := labelMatches(squash(label), []string{"serviceperiod", "billingperiod"}); !ok || l.used {
			continue
		}
		iso, text := findDates(value)
		if len(iso) != 2 {
			continue
		}
		l.used = true
		r.set("ServiceStartDate", r.field(analyzer.FieldDate, iso[0], text[0], l, sureLabel))
		r.set("ServiceEndDate", r.field(analyzer.FieldDate, iso[1], text[1], l, sureLabel))
		return
	}
}

// column is a line-item table's column: the item field it holds, its
// value type, and the headers that name it (squashed).
type column struct {
	field, typ string
	headers    []string
}

var (
	invoiceColumns = []column{
		{"Description", analyzer.FieldString, []string{"description", "itemdescription", "details", "service", "product"}},
		{"Quantity", analyzer.FieldNumber, []string{"qty", "quantity"}},
		{"UnitPrice", analyzer.FieldCurrency, []string{"unitprice", "price", "rate", "unitcost", "priceeach"}},
		{"Amount", analyzer.FieldCurrency, []string{"amount", "total", "linetotal", "extendedprice"}},
		{"Date", analyzer.FieldDate, []string{"date"}},
		{"ProductCode", analyzer.FieldString, []string{"itemcode", "productcode", "code", "sku", "itemno", "partno"}},
		{"Tax", analyzer.FieldCurrency, []string{"tax", "vat"}},
		{"Unit", analyzer.FieldString, []string{"um", "unit", "uom"}},
	}
	receiptColumns = []column{
		{"Description", analyzer.FieldString, []string{"description", "item", "items", "product"}},
		{"Quantity", analyzer.FieldNumber, []string{"qty", "quantity"}},
		{"Price", analyzer.FieldCurrency, []string{"price", "unitprice", "each"}},
		{"TotalPrice", analyzer.FieldCurrency, []string{"amount", "total"}},
	}
)

// placed is a header cell: its column and where it starts and ends.
type placed struct {
	col    column
	x0, x1 float64 // the column's reach, halfway to its neighbours' headers
	header *line
}

// tableItems reads line items from a table: a row naming at least three
// columns (one of them the description or the amount), then the rows under
// it down to the totals. It reports whether it found such a table.
func (r *reader) tableItems(cols []column) bool {
	rows := rowsOf(filter(r.lines, func(l *line) bool { return !l.used }))
	for i, row := range rows {
		header := headerOf(row, cols)
		if header == nil {
			continue
		}
		for _, h := range header {
			h.header.used = true
		}
		for _, data := range rows[i+1:] {
			if slices.ContainsFunc(data, r.isTotalsLine) {
				break
			}
			if item := r.tableRow(data, header); len(item) > 0 {
				r.doc.Items = append(r.doc.Items, item)
			}
		}
		return true
	}
	return false
}

// headerOf returns the columns a row names, left to right, or nil when it
// is not a table's header.
func headerOf(row []*line, cols []column) []*placed {
	var header []*placed
	key := false
	for _, l := range row {
		for _, c := range cols {
			if slices.Contains(c.headers, squash(l.text)) && !slices.ContainsFunc(header, func(p *placed) bool { return p.col.field == c.field }) {
				header = append(header, &placed{col: c, header: l})
				key = key || c.field == "Description" || c.typ == analyzer.FieldCurrency
				break
			}
		}
	}
	if len(header) < 3 || !key {
		return nil
	}
	for i, h := range header {
		h.x0, h.x1 = math.Inf(-1), math.Inf(1)
		if i > 0 {
			h.x0 = (header[i-1].header.x1 + h.header.x0) / 2
		}
		if i+1 < len(header) {
			h.x1 = (h.header.x1 + header[i+1].header.x0) / 2
		}
	}
	return header
}

// tableRow reads one row's cells, each in the column it overlaps most; a
// row with no amount and no quantity is no item.
func (r *reader) tableRow(row []*line, header []*placed) map[string]analyzer.DocumentField {
	item := map[string]analyzer.DocumentField{}
	for _, l := range row {
		best, overlap := (*placed)(nil), 0.0
		for _, h := range header {
			if o := min(l.x1, h.x1) - max(l.x0, h.x0); o > overlap {
				best, overlap = h, o
			}
		}
		if best == nil {
			continue
		}
		if _, taken := item[best.col.field]; taken {
			continue
		}
		if v, ok := r.cell(best.col.typ, l.text); ok {
			item[best.col.field] = r.field(best.col.typ, v, l.text, l, sureTable)
			l.used = true
		}
	}
	for _, f := range item {
		if f.Type == analyzer.FieldCurrency || f.Type == analyzer.FieldNumber {
			return item
		}
	}
	return nil
}

// cell reads a table cell of type typ.
func (r *reader) cell(typ, s string) (any, bool) {
	switch typ {
	case analyzer.FieldCurrency:
		c, ok := r.money(s, false)
		return c, ok
	case analyzer.FieldNumber:
		n, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
		return n, err == nil
	case analyzer.FieldDate:
		iso, _ := findDates(s)
		if len(iso) == 0 {
			return nil, false
		}
		return iso[0], true
	}
	return s, strings.TrimSpace(s) != ""
}
