package text

import (
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"plain", 0, "plain"},
		{"two\nlines\r\n\tand tabs", 0, "two lines and tabs"},
		{"  spaces   inside  ", 0, "spaces inside"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"},    // never half a character
		{"日本語のテキスト", 9, "日本…"}, // three-byte runes
	}
	for _, tt := range tests {
		got := OneLine(tt.in, tt.limit)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("OneLine(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		if tt.limit > 0 && len(got) > tt.limit {
			t.Errorf("OneLine(%q, %d) is %d bytes", tt.in, tt.limit, len(got))
		}
	}
}
