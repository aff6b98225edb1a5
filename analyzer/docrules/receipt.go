package docrules

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/sightline/sightline/analyzer"
)

// Labels of a receipt's amounts, squashed (letters only, lower case).
var (
	subtotalLabels = []string{"subtotal", "net", "nettotal"}
	taxLabels      = []string{"tax", "salestax", "totaltax", "vat", "gst", "hst"}
	tipLabels      = []string{"tip", "gratuity"}
	totalLabels    = []string{"total", "grandtotal", "amountdue", "balancedue", "totaldue"}
)

// receipt reads prebuilt-receipt's fields: the amounts by their labels,
// the merchant from the top, the line items above the amounts.
func (r *reader) receipt() {
	r.setLabelled("Subtotal", asMoney, subtotalLabels...)
	r.setLabelled("TotalTax", asMoney, taxLabels...)
	r.setLabelled("Tip", asMoney, tipLabels...)
	r.setLabelled("Total", asMoney, totalLabels...)
	r.deriveAmount()
	r.merchant()
	if !r.tableItems(receiptColumns) {
		r.receiptItems()
	}
}

// merchant reads the merchant's name, address and phone, and when.
func (r *reader) merchant() {
	r.name("MerchantName") // first, or the address would take it for its recipient
	if l, v, text := r.first(func(s string) (any, string, bool) { e, t, ok := findPhone(s); return e, t, ok }); l != nil {
		r.set("MerchantPhoneNumber", r.field(analyzer.FieldPhoneNumber, v, text, l, sureLabel))
		l.used = true
	}
	if l, v, text := r.first(asDate.parseText(r)); l != nil {
		r.set("TransactionDate", r.field(analyzer.FieldDate, v, text, l, sureLabel))
		if iso, t, ok := findTime(l.text); ok {
			r.set("TransactionTime", r.field(analyzer.FieldTime, iso, t, l, sureLabel))
		}
		l.used = true
	}
	if _, ok := r.doc.Fields["TransactionTime"]; !ok {
		if l, v, text := r.first(func(s string) (any, string, bool) { iso, t, ok := findTime(s); return iso, t, ok }); l != nil {
			r.set("TransactionTime", r.field(analyzer.FieldTime, v, text, l, sureLabel))
			l.used = true
		}
	}
	if addr, _, ok := r.nextAddress(); ok {
		r.set("MerchantAddress", addr)
	}
}

// parseText adapts a parser to first.
func (p parser) parseText(r *reader) func(string) (any, string, bool) {
	return func(s string) (any, string, bool) { return p.parse(r, s) }
}

// deriveAmount fills the one amount of subtotal + tax + tip = total whose
// label was read but whose value was not (OCR reads "$1.63" as "$lb3").
func (r *reader) deriveAmount() {
	names := []string{"Subtotal", "TotalTax", "Tip", "Total"}
	labels := [][]string{subtotalLabels, taxLabels, tipLabels, totalLabels}
	amount := func(name string) (float64, bool) {
		c, ok := r.doc.Fields[name].Value.(analyzer.Currency)
		return c.Amount, ok
	}
	missing := -1
	for i, name := range names {
		if _, ok := amount(name); !ok {
			if missing >= 0 {
				return // two unknowns
			}
			missing = i
		}
	}
	if missing < 0 {
		return
	}
	label := r.unreadLabel(labels[missing])
	if label == nil {
		return // not on this receipt
	}
	sub, _ := amount("Subtotal")
	tax, _ := amount("TotalTax")
	tip, _ := amount("Tip")
	total, _ := amount("Total")
	v := map[string]float64{"Subtotal": total - tax - tip, "TotalTax": total - sub - tip,
		"Tip": total - sub - tax, "Total": sub + tax + tip}[names[missing]]
	v = math.Round(v*100) / 100
	if v <= 0 {
		return
	}
	// The field's text and place are the misread value's beside the label.
	at, content := label, ""
	if o := rightOf(r.lines, label, func(*line) bool { return true }); o != nil {
		at, content = o, o.text
		o.used = true
	}
	label.used = true
	f := r.field(analyzer.FieldCurrency, analyzer.Currency{Amount: v, CurrencyCode: r.currency}, content, at, sureDerived)
	r.set(names[missing], f)
}

// unreadLabel is the unused line that is one of labels, alone.
func (r *reader) unreadLabel(labels []string) *line {
	for _, l := range r.lines {
		label, inline := splitLabel(l.text)
		if _, ok := labelMatches(squash(label), labels); ok && !l.used && inline == "" {
			return l
		}
	}
	return nil
}

// quantityLead reads an item line led by its quantity: "2 Surface Pro 6",
// "1BACON & EGGS", "3 x Coffee".
var quantityLead = regexp.MustCompile(`^(\d{1,3})\s*(?:[xX]\s+)?([A-Za-z].*)$`)

// units follow a number that is a size, not a quantity ("256GB/Intel").
var units = map[string]bool{"gb": true, "mb": true, "tb": true, "kb": true, "kg": true, "g": true, "mg": true,
	"ml": true, "l": true, "oz": true, "lb": true, "lbs": true, "mm": true, "cm": true, "m": true, "in": true,
	"ft": true, "pc": true, "pcs": true, "hz": true, "ghz": true, "mhz": true, "w": true, "v": true, "mah": true}

// leadingQuantity splits an item line into its quantity and description.
func leadingQuantity(s string) (qty, desc string, ok bool) {
	m := quantityLead.FindStringSubmatch(s)
	if m == nil {
		return "", "", false
	}
	word := strings.ToLower(strings.FieldsFunc(m[2], func(r rune) bool { return !isLetter(r) })[0])
	if units[word] {
		return "", "", false
	}
	return m[1], m[2], true
}

// receiptItems reads line items without a table header: each item starts
// at a line led by a quantity (or, on receipts that print none, at any
// text line) and takes the first amount from its row down to the next
// item, above the receipt's totals.
func (r *reader) receiptItems() {
	end := math.Inf(1)
	for _, l := range r.lines {
		if l.used && r.isTotalsLine(l) {
			end = min(end, l.y0)
		}
	}
	var starts, amounts []*line
	for _, l := range r.lines {
		if l.used || l.cy() >= end || strings.Contains(l.text, ":") {
			continue
		}
		if _, ok := r.money(l.text, true); ok {
			amounts = append(amounts, l)
		} else if strings.ContainsFunc(l.text, isLetter) {
			starts = append(starts, l)
		}
	}
	if led := filter(starts, func(l *line) bool { _, _, ok := leadingQuantity(l.text); return ok }); len(led) > 0 {
		starts = led // the lines between are the items' details
	}
	for i, s := range starts {
		next := end
		if i+1 < len(starts) {
			next = starts[i+1].y0
		}
		for _, a := range amounts {
			if a.used || (a.cy() < s.y0 && !sameRow(a, s)) || (a.cy() >= next && !sameRow(a, s)) {
				continue
			}
			r.addReceiptItem(s, a)
			break
		}
	}
}

// isTotalsLine: a label of the receipt's amounts.
func (r *reader) isTotalsLine(l *line) bool {
	label, _ := splitLabel(l.text)
	for _, labels := range [][]string{subtotalLabels, taxLabels, tipLabels, totalLabels} {
		if _, ok := labelMatches(squash(label), labels); ok {
			return true
		}
	}
	return false
}

func (r *reader) addReceiptItem(start, amount *line) {
	item := map[string]analyzer.DocumentField{}
	desc := start.text
	if qty, d, ok := leadingQuantity(start.text); ok {
		q, _ := strconv.ParseFloat(qty, 64)
		desc = d
		item["Quantity"] = r.field(analyzer.FieldNumber, q, qty, start, sureTable)
	}
	item["Description"] = r.field(analyzer.FieldString, desc, desc, start, sureTable)
	c, _ := r.money(amount.text, true)
	item["TotalPrice"] = r.field(analyzer.FieldCurrency, c, amount.text, amount, sureTable)
	start.used, amount.used = true, true
	r.doc.Items = append(r.doc.Items, item)
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}
