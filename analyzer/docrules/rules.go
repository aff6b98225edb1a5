package docrules

import (
	"strings"
	"unicode"

	"github.com/sightline/sightline/analyzer"
)

// parser turns a value's text into a field's typed value, and says which
// part of the text it read.
type parser struct {
	typ   string
	parse func(r *reader, s string) (value any, text string, ok bool)
}

var (
	asMoney = parser{analyzer.FieldCurrency, func(r *reader, s string) (any, string, bool) {
		c, ok := r.money(s, true)
		return c, s, ok
	}}
	asDate = parser{analyzer.FieldDate, func(_ *reader, s string) (any, string, bool) {
		iso, text := findDates(s)
		if len(iso) == 0 {
			return nil, "", false
		}
		return iso[0], text[0], true
	}}
	// asID reads one token with a digit that is neither a date nor an
	// amount: INV-100, CID-12345, PO-3333, 34278587.
	asID = parser{analyzer.FieldString, func(_ *reader, s string) (any, string, bool) {
		s = strings.TrimSpace(s)
		iso, _ := findDates(s)
		_, money := parseMoney(s, false)
		ok := s != "" && !strings.ContainsFunc(s, unicode.IsSpace) && strings.ContainsFunc(s, unicode.IsDigit) &&
			len(iso) == 0 && (!money || !strings.ContainsAny(s, "$€£.,"))
		return s, s, ok
	}}
	asText = parser{analyzer.FieldString, func(_ *reader, s string) (any, string, bool) {
		s = strings.TrimSpace(s)
		return s, s, strings.ContainsFunc(s, isLetter)
	}}
)

// labelled reads the value of the first line labelled with one of labels:
// after its colon or its text, else the nearest value to its right on its
// row; failing those, for every such line, the nearest value under it (a
// table's header). The lines read are marked used.
func (r *reader) labelled(labels []string, p parser) (analyzer.DocumentField, bool) {
	accept := func(o *line) bool {
		_, _, ok := p.parse(r, o.text)
		return ok
	}
	for pass := range 2 {
		for _, l := range r.lines {
			if l.used {
				continue
			}
			label, inline := splitLabel(l.text)
			exact, ok := labelMatches(squash(label), labels)
			if !ok {
				continue
			}
			sure := sureLabel
			if !exact {
				sure = sureFuzzy
			}
			if inline != "" {
				if v, text, ok := p.parse(r, inline); ok && pass == 0 {
					l.used = true
					return r.field(p.typ, v, text, l, sure), true
				}
				continue
			}
			var o *line
			if pass == 0 {
				o = rightOf(r.lines, l, accept)
			} else {
				o = below(r.lines, l, accept)
			}
			if o != nil {
				v, text, _ := p.parse(r, o.text)
				l.used, o.used = true, true
				return r.field(p.typ, v, text, o, sure), true
			}
		}
	}
	return analyzer.DocumentField{}, false
}

// setLabelled sets name from the lines labelled with labels.
func (r *reader) setLabelled(name string, p parser, labels ...string) {
	if f, ok := r.labelled(labels, p); ok {
		r.set(name, f)
	}
}

// first returns the first unused line find reads something from.
func (r *reader) first(find func(string) (value any, text string, ok bool)) (*line, any, string) {
	for _, l := range r.lines {
		if l.used {
			continue
		}
		if v, text, ok := find(l.text); ok {
			return l, v, text
		}
	}
	return nil, nil, ""
}

// address reads the address whose street line is street: the city line
// under it completes it.
func (r *reader) address(street *line) (analyzer.DocumentField, *line, bool) {
	house, road, ok := parseStreet(street.text)
	if !ok {
		return analyzer.DocumentField{}, nil, false
	}
	city := below(r.lines, street, func(o *line) bool { _, _, _, ok := parseCity(o.text); return ok })
	if city == nil {
		return analyzer.DocumentField{}, nil, false
	}
	name, state, postal, _ := parseCity(city.text)
	a := analyzer.Address{HouseNumber: house, Road: road, City: name, State: state, PostalCode: postal,
		StreetAddress: house + " " + road}
	conf := min(street.conf, city.conf) * sureLabel
	var pts []analyzer.DocumentPoint
	for _, p := range boxOf(append(append([]analyzer.Point{}, street.poly...), city.poly...)) {
		pts = append(pts, analyzer.DocumentPoint{X: float64(p.X), Y: float64(p.Y)})
	}
	f := analyzer.DocumentField{Type: analyzer.FieldAddress, Value: a, Content: street.text + "\n" + city.text,
		Confidence: &conf, BoundingPolygon: pts}
	street.used, city.used = true, true
	return f, city, true
}

// nextAddress reads the first address left, with the line just over its
// street as its recipient when that is a name.
func (r *reader) nextAddress() (addr, recipient analyzer.DocumentField, ok bool) {
	for _, l := range r.lines {
		if l.used {
			continue
		}
		if f, _, ok := r.address(l); ok {
			if above := r.lineAbove(l); above != nil && nameLike(above) {
				above.used = true
				recipient = r.field(analyzer.FieldString, above.text, above.text, above, surePosition)
			}
			return f, recipient, true
		}
	}
	return analyzer.DocumentField{}, analyzer.DocumentField{}, false
}

// labelledAddress reads the block under a label such as "BILL TO:": a
// recipient line, a street line and a city line, in that column.
func (r *reader) labelledAddress(addrName, recipientName string, labels ...string) {
	for _, l := range r.lines {
		label, inline := splitLabel(l.text)
		if _, ok := labelMatches(squash(label), labels); l.used || !ok || inline != "" {
			continue
		}
		recipient := below(r.lines, l, nameLike)
		if recipient == nil {
			continue
		}
		street := below(r.lines, recipient, func(o *line) bool { _, _, ok := parseStreet(o.text); return ok })
		if street == nil {
			continue
		}
		if f, _, ok := r.address(street); ok {
			l.used, recipient.used = true, true
			r.set(recipientName, r.field(analyzer.FieldString, recipient.text, recipient.text, recipient, sureLabel))
			r.set(addrName, f)
			return
		}
	}
}

// lineAbove is the nearest unused line over l in its column.
func (r *reader) lineAbove(l *line) *line {
	var best *line
	for _, o := range r.lines {
		if o == l || o.used || o.cy() >= l.y0 || l.y0-o.y1 > 2*l.height() || o.x1 < l.x0 || o.x0 > l.x1 {
			continue
		}
		if best == nil || o.y1 > best.y1 {
			best = o
		}
	}
	return best
}

// titles are headings, not names.
var titles = map[string]bool{"invoice": true, "receipt": true, "taxinvoice": true, "salesreceipt": true,
	"welcome": true, "thankyou": true, "customercopy": true, "merchantcopy": true}

// nameLike: a line that could be a business's or a person's name, not a
// heading, label, amount, date, phone or address.
func nameLike(l *line) bool {
	t := l.text
	letters := strings.Count(strings.Map(func(r rune) rune {
		if isLetter(r) {
			return 'a'
		}
		return -1
	}, t), "a")
	_, _, street := parseStreet(t)
	_, _, _, city := parseCity(t)
	_, _, phone := findPhone(t)
	_, _, clock := findTime(t)
	dates, _ := findDates(t)
	return !l.used && letters >= 3 && !strings.Contains(t, ":") && !titles[squash(t)] &&
		!street && !city && !phone && !clock && len(dates) == 0
}

// name reads the first name-like line: the merchant's or the vendor's.
func (r *reader) name(field string) {
	for _, l := range r.lines {
		if nameLike(l) {
			l.used = true
			r.set(field, r.field(analyzer.FieldString, l.text, l.text, l, surePosition))
			return
		}
	}
}
