package docrules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/analyzer"
)

// Parsers of the values documents print, in en-US conventions (what the
// prebuilt models assume without a locale): month/day/year dates, a dot
// before the cents.

var (
	moneyRe = regexp.MustCompile(`^([$€£])?\s*(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?)$`)
	// amountIn finds an amount at the end of a line ("Total $14.50").
	amountIn = regexp.MustCompile(`[$€£]?\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}$|[$€£]\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$`)
)

var currencyCodes = map[string]string{"$": "USD", "€": "EUR", "£": "GBP"}

// parseMoney reads "$1,998.00", "$ 11.70", "9.5" or "$9.5". strict wants
// a currency symbol or cents, so that quantities and postcodes are not
// taken for amounts.
func parseMoney(s string, strict bool) (analyzer.Currency, bool) {
	m := moneyRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || (strict && m[1] == "" && !strings.Contains(m[2], ".")) {
		return analyzer.Currency{}, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(m[2], ",", ""), 64)
	if err != nil {
		return analyzer.Currency{}, false
	}
	return analyzer.Currency{Amount: v, CurrencyCode: currencyCodes[m[1]]}, true
}

var (
	dateUS    = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b`)
	dateISO   = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	dateDots  = regexp.MustCompile(`\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b`)
	dateNamed = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b`)
	months    = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

// gluedTime is a date whose time OCR joined to it: "6/10/201913:59".
var gluedTime = regexp.MustCompile(`(\d{1,2}/\d{1,2}/\d{4})(\d{1,2}:\d{2})`)

// unglue puts back the space OCR lost between a date and its time.
func unglue(s string) string { return gluedTime.ReplaceAllString(s, "$1 $2") }

// findDates returns the dates in s, normalised to YYYY-MM-DD, with the
// text each was read from.
func findDates(s string) (iso, text []string) {
	s = unglue(s)
	add := func(y, m, d int, t string) {
		if y < 100 {
			y += 2000
		}
		tm := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if tm.Year() == y && int(tm.Month()) == m && tm.Day() == d { // 2/30 is no date
			iso = append(iso, tm.Format(time.DateOnly))
			text = append(text, t)
		}
	}
	for _, m := range dateUS.FindAllStringSubmatch(s, -1) {
		add(atoi(m[3]), atoi(m[1]), atoi(m[2]), m[0])
	}
	for _, m := range dateISO.FindAllStringSubmatch(s, -1) {
		add(atoi(m[1]), atoi(m[2]), atoi(m[3]), m[0])
	}
	for _, m := range dateDots.FindAllStringSubmatch(s, -1) {
		add(atoi(m[3]), atoi(m[2]), atoi(m[1]), m[0])
	}
	for _, m := range dateNamed.FindAllStringSubmatch(s, -1) {
		month := 1 + slices.Index(months, strings.ToLower(m[1][:3]))
		add(atoi(m[3]), month, atoi(m[2]), m[0])
	}
	return iso, text
}

var timeRe = regexp.MustCompile(`\b([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?:\s*([AaPp])\.?[Mm]\.?)?`)

// findTime returns the first time of day in s as hh:mm:ss.
func findTime(s string) (iso, text string, ok bool) {
	m := timeRe.FindStringSubmatch(unglue(s))
	if m == nil {
		return "", "", false
	}
	h := atoi(m[1])
	switch strings.ToLower(m[4]) {
	case "p":
		if h < 12 {
			h += 12
		}
	case "a":
		if h == 12 {
			h = 0
		}
	}
	sec := 0
	if m[3] != "" {
		sec = atoi(m[3])
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, atoi(m[2]), sec), m[0], true
}

var phoneRe = regexp.MustCompile(`(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b`)

// findPhone returns the first North American phone number in s in E.164.
func findPhone(s string) (e164, text string, ok bool) {
	t := phoneRe.FindString(s)
	if t == "" {
		return "", "", false
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, t)
	if len(digits) == 10 {
		digits = "1" + digits
	}
	return "+" + digits, strings.TrimSpace(t), true
}

var (
	// The space after the number may be lost: "123MainStreet".
	streetRe = regexp.MustCompile(`^(\d+[A-Za-z]?)(?:\s+([A-Za-z0-9].*?)|([A-Z][a-z].*?))[,.]?$`)
	cityRe   = regexp.MustCompile(`^([A-Za-z][A-Za-z .'-]*?)[,\s]*\b([A-Z]{2})[,\s]*(\d{5}(?:-\d{4})?)$`)
)

// parseStreet reads "123 Main Street" (or "123 Other St,").
func parseStreet(s string) (house, road string, ok bool) {
	m := streetRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", "", false
	}
	road = m[2] + m[3] // one of them matched
	if !strings.ContainsFunc(road, isLetter) {
		return "", "", false
	}
	return m[1], road, true
}

// parseCity reads "Redmond, WA 98052", "Redmond WA, 98052" or "Redmond,WA98052".
func parseCity(s string) (city, state, postal string, ok bool) {
	m := cityRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", "", "", false
	}
	return strings.TrimRight(m[1], " ,."), m[2], m[3], true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func isLetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
