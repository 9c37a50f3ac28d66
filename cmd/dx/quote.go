package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dxdata/dx/internal/repo"
)

// cEscapes are the control characters quotePath writes as C escapes; other
// control bytes become octal escapes.
var cEscapes = map[rune]string{
	'\a': `\a`, '\b': `\b`, '\t': `\t`, '\n': `\n`, '\v': `\v`, '\f': `\f`, '\r': `\r`,
	'"': `\"`, '\\': `\\`,
}

// quotePath is a repository path as printed for people, one per line: as
// it is, unless it holds a control character (a newline, a tab, ...), a
// double quote, a backslash or bytes that are not UTF-8; then it is put in
// double quotes with C-style escapes, as git quotes paths (core.quotePath).
// Unlike git's default, printable non-ASCII characters stay readable (git's
// core.quotePath=false); C1 control characters and invalid bytes are
// escaped in octal, byte by byte. Output for programs (-z, --json) is not
// quoted.
func quotePath(p string) string {
	var b strings.Builder
	escaped := false
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		switch e, ok := cEscapes[r]; {
		case ok:
			b.WriteString(e)
			escaped = true
		case (r == utf8.RuneError && n == 1) || unicode.IsControl(r):
			for _, c := range []byte(p[i : i+n]) {
				fmt.Fprintf(&b, `\%03o`, c)
			}
			escaped = true
		default:
			b.WriteString(p[i : i+n])
		}
		i += n
	}
	if !escaped {
		return p
	}
	return `"` + b.String() + `"`
}

// changeName is a change's path as printed for people; a rename shows
// where it came from, then arrow.
func changeName(c repo.Change, arrow string) string {
	if c.Kind == repo.Renamed {
		return quotePath(c.From) + arrow + quotePath(c.Path)
	}
	return quotePath(c.Path)
}
