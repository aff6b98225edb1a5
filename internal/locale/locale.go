// Package locale gives the process a locale Fyne can parse. Imported first
// by main, its init runs before Fyne's, which otherwise logs "Error parsing
// user locale C" on every start in containers and CI, where LANG is C.
package locale

import "os"

// Fallback replaces a locale that names no language.
const Fallback = "en_US.UTF-8"

func init() { fix(os.Getenv, os.Setenv) }

// fix replaces the variable Fyne reads (the first set of LC_ALL,
// LC_MESSAGES and LANG) when it is the C or POSIX locale, or sets LANG when
// none is set. A real language is left alone.
func fix(getenv func(string) string, setenv func(string, string) error) {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		if languageless(v) {
			_ = setenv(name, Fallback)
		}
		return
	}
	_ = setenv("LANG", Fallback)
}

func languageless(v string) bool {
	switch v {
	case "C", "POSIX":
		return true
	}
	return len(v) > 2 && v[:2] == "C." // C.UTF-8
}
