// Package errmsg keeps error lines short: a value from config.json (a path,
// a hostname, a sysctl name...) is echoed in the error that names it, and a
// config can hold a megabyte in one string. Cut shortens every quoted value
// of a line, and any other long run without spaces, to MaxValue bytes and
// says how long it was, so that the line still names the field and shows
// enough of the value to find it.
package errmsg

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxValue is how many bytes of one value an error line keeps.
const MaxValue = 200

// Cut returns msg with each Go-quoted string whose value is longer than
// MaxValue, and each other run of non-space bytes longer than that, cut to
// MaxValue bytes (on a rune boundary) followed by "...(N bytes)".
func Cut(msg string) string {
	if len(msg) <= MaxValue {
		return msg // nothing in it can be too long: the usual case costs nothing
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		switch {
		case msg[i] == '"':
			if q, err := strconv.QuotedPrefix(msg[i:]); err == nil {
				v, _ := strconv.Unquote(q)
				if len(v) > MaxValue && !alreadyCut(v) {
					b.WriteString(strconv.Quote(prefix(v)))
					b.WriteString(more(len(v)))
				} else {
					b.WriteString(q)
				}
				i += len(q)
				continue
			}
			b.WriteByte('"')
			i++
		case msg[i] == ' ' || msg[i] == '\n' || msg[i] == '\t':
			b.WriteByte(msg[i])
			i++
		default:
			j := i
			for j < len(msg) && msg[j] != ' ' && msg[j] != '"' && msg[j] != '\n' && msg[j] != '\t' {
				j++
			}
			if w := msg[i:j]; len(w) > MaxValue && !alreadyCut(w) {
				// a colon or comma ending the run is the line's, not the value's
				tail := ""
				if strings.ContainsRune(":,;", rune(w[len(w)-1])) {
					w, tail = w[:len(w)-1], w[len(w)-1:]
				}
				b.WriteString(prefix(w))
				b.WriteString(more(len(w)))
				b.WriteString(tail)
			} else {
				b.WriteString(w)
			}
			i = j
		}
	}
	return b.String()
}

// Value is one value cut as Cut cuts it, for an error built where the
// value is known (the library's callers may print errors without Cut).
func Value(s string) string {
	if len(s) <= MaxValue {
		return s
	}
	return prefix(s) + more(len(s))
}

// prefix is the first MaxValue bytes of s, not splitting a UTF-8 sequence.
func prefix(s string) string {
	n := MaxValue
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func more(n int) string { return "...(" + strconv.Itoa(n) + " bytes)" }

// alreadyCut says whether s is a value Value (or Cut) has cut: at most
// MaxValue bytes and the "...(N bytes)" that says so. Cutting it again
// would count the marker as the value's length.
func alreadyCut(s string) bool {
	i := strings.LastIndex(s, "...(")
	if i < 0 || i > MaxValue || !strings.HasSuffix(s, " bytes)") {
		return false
	}
	_, err := strconv.Atoi(s[i+4 : len(s)-len(" bytes)")])
	return err == nil
}
