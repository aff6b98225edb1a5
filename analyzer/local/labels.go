package local

import "strings"

// splitLabels reads a labels.txt: one name per line, blank lines ignored,
// surrounding spaces and a Windows line end trimmed.
func splitLabels(s string) []string {
	var names []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			names = append(names, l)
		}
	}
	return names
}
