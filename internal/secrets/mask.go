package secrets

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mask hides a secret: the first four characters stay (enough to tell an
// AKIA key from a ghp_ token), the rest becomes at most twelve asterisks and
// the length. Control characters and invalid UTF-8 in the kept prefix are
// replaced, so a masked value is always safe to print.
func Mask(v string) string {
	if len(v) <= 4 {
		return strings.Repeat("*", len(v))
	}
	n := len(v) - 4
	if n > 12 {
		n = 12
	}
	return printable(v[:4]) + strings.Repeat("*", n) + "(" + strconv.Itoa(len(v)) + " chars)"
}

// printable turns line breaks and tabs into spaces and replaces other
// control characters and invalid UTF-8 with '?'.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\n' || r == '\r' || r == '\t' {
			b.WriteByte(' ')
		} else if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// MaskIn masks secret wherever it appears in text (a matched line, say) and
// makes the result printable. The text is cut to limit bytes around the
// secret first.
func MaskIn(text, secret string, limit int) string {
	if secret == "" {
		return clip(printable(text), limit)
	}
	i := strings.Index(text, secret)
	if i < 0 {
		return clip(printable(text), limit)
	}
	before, after := text[:i], text[i+len(secret):]
	room := max(limit-16, 8) / 2
	if len(before) > room {
		before = "…" + before[len(before)-room:]
	}
	if len(after) > room {
		after = after[:room] + "…"
	}
	return printable(before) + Mask(secret) + printable(strings.ReplaceAll(after, secret, Mask(secret)))
}

func clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
