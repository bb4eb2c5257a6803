package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// writeYAML appends the YAML form of a JSON-like value (map[string]any,
// []any, string, json.Number, bool, nil) to buf: keys sorted, block style,
// lists at their key's indentation (as kubectl writes them), multi-line
// strings as literal blocks. Strings are plain only where YAML 1.1 and 1.2
// parsers both read them back as the same string; otherwise they are
// double-quoted with Go's escapes, which YAML accepts. It stays because it
// pays: with sigs.k8s.io/yaml.Marshal of the same trees instead (a JSON →
// YAML round trip through go-yaml's reflection), a whole `generate
// --dry-run` of the seed executes 37.6 M instructions instead of 11.6 M
// (callgrind, 2026-12-01, docs/performance.md). TestYAMLRoundTrip and
// FuzzYAML check that both YAML libraries read the output back unchanged.
func writeYAML(buf *bytes.Buffer, v map[string]any) {
	writeMap(buf, v, 0, false)
}

func writeMap(buf *bytes.Buffer, m map[string]any, indent int, inline bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if !(inline && i == 0) {
			pad(buf, indent)
		}
		if len(k) > maxImplicitKey {
			// YAML limits implicit keys to 1024 characters: say "? key".
			buf.WriteString("? ")
			writeString(buf, k)
			buf.WriteByte('\n')
			pad(buf, indent)
		} else {
			writeString(buf, k)
		}
		buf.WriteByte(':')
		writeChild(buf, m[k], indent, true)
	}
}

func writeList(buf *bytes.Buffer, l []any, indent int) {
	for _, item := range l {
		pad(buf, indent)
		buf.WriteByte('-')
		writeChild(buf, item, indent, false)
	}
}

// writeChild writes a value after "key:" or "-": scalars and empty
// collections on the same line, others on the following lines.
func writeChild(buf *bytes.Buffer, v any, indent int, afterKey bool) {
	switch x := v.(type) {
	case map[string]any:
		switch {
		case len(x) == 0:
			buf.WriteString(" {}\n")
		case afterKey:
			buf.WriteByte('\n')
			writeMap(buf, x, indent+2, false)
		default: // "- key: value" with the other keys under the first
			buf.WriteByte(' ')
			writeMap(buf, x, indent+2, true)
		}
	case []any:
		switch {
		case len(x) == 0:
			buf.WriteString(" []\n")
		case afterKey:
			buf.WriteByte('\n')
			writeList(buf, x, indent)
		default:
			buf.WriteByte('\n')
			writeList(buf, x, indent+2)
		}
	case string:
		if literalOK(x) {
			writeLiteral(buf, x, indent+2)
			return
		}
		buf.WriteByte(' ')
		writeString(buf, x)
		buf.WriteByte('\n')
	default:
		buf.WriteByte(' ')
		writeScalar(buf, x)
		buf.WriteByte('\n')
	}
}

func writeScalar(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		fmt.Fprint(buf, x)
	case json.Number:
		buf.WriteString(x.String())
	default:
		panic(fmt.Sprintf("generator: cannot write %T as YAML", v))
	}
}

// plainOK reports whether s can be written without quotes and still be
// read back as the same string by YAML 1.1 and 1.2 parsers. Two shapes
// qualify (checked by hand: this runs for every string of the output):
//
//   - words: a letter, "_" or "/" first, then letters, digits and
//     _ . / @ + = -, with ":" only between two such characters, and not a
//     word YAML reads as a boolean or null (yes, off, null, ...);
//   - numbers with a unit, such as 10Gi, 500m, 744h or 1m30s: digits
//     (optionally with a fraction), then a letter that cannot continue a
//     number (not e for exponents, o or x for octal and hex, b for
//     binary), then letters and digits.
func plainOK(s string) bool {
	if s == "" {
		return false
	}
	if isDigit(s[0]) {
		return numberWithUnit(s)
	}
	if !isLetter(s[0]) && s[0] != '_' && s[0] != '/' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			if i+1 == len(s) || !wordByte(s[i+1]) {
				return false
			}
			continue
		}
		if !wordByte(c) {
			return false
		}
	}
	return len(s) > 5 || !specialWords[strings.ToLower(s)]
}

func numberWithUnit(s string) bool {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	if i == len(s) || !isLetter(s[i]) || strings.IndexByte("eEoOxXbB", s[i]) >= 0 {
		return false
	}
	for i++; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func wordByte(c byte) bool { return wordBytes[c] }

// wordBytes is wordByte's table: plainOK asks it for every byte of every
// string in the output.
var wordBytes = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isLetter(byte(c)) || isDigit(byte(c)) || strings.IndexByte("_./@+=-", byte(c)) >= 0
	}
	return t
}()

// specialWords are strings that YAML 1.1 (yes, on, ...) or 1.2 read as
// booleans or null.
var specialWords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true,
}

// maxImplicitKey leaves room for quotes and escapes below YAML's 1024.
const maxImplicitKey = 200

func writeString(buf *bytes.Buffer, s string) {
	if plainOK(s) {
		buf.WriteString(s)
		return
	}
	// Go's escapes (\n, \t, \a, \v, \xNN, \uNNNN, ...) are all YAML
	// double-quote escapes, and strconv escapes every rune that is not
	// printable, YAML's extra line breaks (U+0085, U+2028) included.
	buf.WriteString(strconv.Quote(s))
}

// literalOK: multi-line text without control characters (but tab), not
// starting with a space, which a literal block would need an indentation
// indicator for, and no line starting with a tab, which go-yaml's block
// scalar indentation refuses ("found a tab character where an indentation
// space is expected"; found by FuzzYAML).
func literalOK(s string) bool {
	if !strings.Contains(s, "\n") || strings.HasPrefix(s, " ") || strings.HasPrefix(s, "\n") {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || r == 0x85 || r == 0xfeff || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
			return false // trailing blanks: keep them visible in quotes
		}
		if strings.HasPrefix(line, "\t") {
			return false
		}
	}
	return true
}

// writeLiteral writes a literal block scalar: "|" keeps one final newline,
// "|-" none, "|+" several.
func writeLiteral(buf *bytes.Buffer, s string, indent int) {
	body := strings.TrimRight(s, "\n")
	switch trailing := len(s) - len(body); {
	case trailing == 0:
		buf.WriteString(" |-\n")
	case trailing == 1:
		buf.WriteString(" |\n")
	default:
		buf.WriteString(" |+\n")
	}
	for _, line := range strings.Split(s[:len(body)], "\n") {
		if line != "" {
			pad(buf, indent)
			buf.WriteString(line)
		}
		buf.WriteByte('\n')
	}
	for i := 1; i < len(s)-len(body); i++ {
		buf.WriteByte('\n')
	}
}

func pad(buf *bytes.Buffer, n int) {
	for i := 0; i < n; i++ {
		buf.WriteByte(' ')
	}
}
