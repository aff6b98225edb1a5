package levenshtein

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"total", "total", 0}, {"tatal", "total", 1}, {"", "abc", 3},
		{"kitten", "sitting", 3}, {"subtotal", "total", 3}, {"Zürich", "Zurich", 1},
	} {
		if got := Distance([]rune(tt.a), []rune(tt.b)); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
