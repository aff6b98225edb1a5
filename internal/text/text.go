// Package text shapes messages for the one line they get: an error in a
// JSON line, a status event, the HUD.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneLine collapses whitespace and control characters and, with limit > 0,
// shortens s to at most limit bytes, ending in "…", without cutting a
// character in two.
func OneLine(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if limit <= 0 || len(s) <= limit {
		return s
	}
	cut := max(0, limit-len("…"))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// SplitList parses "a, b ,c" into its trimmed, non-empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
