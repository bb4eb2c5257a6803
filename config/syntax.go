package config

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// YAML syntax errors. The parser (go.yaml.in/yaml/v3) reports a line but no
// column, often the line after the mistake or the line of the enclosing
// block, in libyaml's words ("did not find expected key"). diagnose reads
// the text itself for the mistakes people make in a hand-written loki.yaml
// and names the first one at its line and column, in plain words with the
// fix; what it does not recognise keeps the parser's line, in plainer
// words.

// syntaxError is a YAML syntax error at a position.
type syntaxError struct {
	pos Pos
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

var yamlLine = lazyRegexp(`^yaml: line (\d+): (.*)$`)

// toSyntaxError turns the parser's error into one at the mistake itself.
func toSyntaxError(err error, data []byte) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine().FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := splitLines(data)
	// The parser's line is at most one past the mistake, except when it
	// names the start of the block it was reading ("did not find expected
	// ...") or read on to the end of the file for a closing quote: then
	// the mistake may be anywhere below it.
	limit := line + 1
	if line == 0 || strings.Contains(msg, "end of stream") || strings.HasPrefix(msg, "did not find expected") {
		limit = len(lines)
	}
	if d, ok := diagnose(lines, limit, msg); ok {
		return &syntaxError{pos: d.pos, msg: "invalid YAML: " + d.msg}
	}
	if line == 0 {
		// libyaml leaves the line out when it is the first one.
		line = 1
	}
	pos := Pos{Line: line}
	if line <= len(lines) {
		pos.Column = lines[line-1].indent + 1
	}
	return &syntaxError{pos: pos, msg: "invalid YAML: " + plainWords(msg)}
}

// plainWords rewords libyaml's messages that diagnose did not place.
func plainWords(msg string) string {
	switch {
	case strings.HasPrefix(msg, "unknown anchor"):
		return msg + " (a value starting with * names an anchor &name; put the value in quotes)"
	case msg == "found character that cannot start any token":
		return "a character that cannot start a value here (a tab? @ or `? put the value in quotes)"
	case msg == "mapping values are not allowed in this context":
		return "a ':' where none can be (a value holding ': ' must be quoted; or is the line indented too far?)"
	case msg == "did not find expected key":
		return "this line does not line up with the keys above it: the keys of one mapping start in the same column"
	case msg == "did not find expected '-' indicator":
		return "this line does not line up with the list above it: each item starts with '- ' in the same column"
	case strings.Contains(msg, "end of stream"):
		return "the file ends inside a quoted value or a bracket: close it"
	case msg == "block sequence entries are not allowed in this context":
		return "a list item ('- ') cannot start here: start the list on the line below its key"
	}
	return msg
}

type diagnosis struct {
	pos Pos
	msg string
}

// line is one line of the file as diagnose sees it.
type line struct {
	n      int    // 1-based number
	text   string // without the line break
	indent int    // leading spaces
	// Filled by scan: the column (0-based) where the line's key or item
	// starts, past any "- "; whether it is a key line, a list item, and
	// whether the key has a value on the same line.
	keyCol        int
	isKey, isItem bool
	hasValue      bool
	opens         bool // ends with "key:" or "-": a block follows
	blank         bool
	block         bool // opens a literal or folded block scalar (| or >)
}

func splitLines(data []byte) []line {
	raw := bytes.Split(data, []byte("\n"))
	out := make([]line, len(raw))
	for i, r := range raw {
		t := strings.TrimSuffix(string(r), "\r")
		out[i] = line{n: i + 1, text: t, indent: indentOf(t)}
	}
	return out
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// diagnose finds the first recognisable mistake on lines 1..limit.
func diagnose(lines []line, limit int, parserMsg string) (diagnosis, bool) {
	s := &scanner{anchors: map[string]bool{}, flowErr: strings.Contains(parserMsg, "','") || strings.Contains(parserMsg, "flow")}
	var prev *line
	var levels []int // indents of the keys and items that enclose the line
	blockIndent := -1
	for i := range lines {
		l := &lines[i]
		if l.n > limit {
			break
		}
		trimmed := strings.TrimSpace(l.text)
		if blockIndent >= 0 {
			if trimmed == "" || l.indent > blockIndent {
				continue // inside a | or > block: any text goes
			}
			blockIndent = -1
		}
		continued := s.inside() // the line goes on a quote or bracket
		if d, ok := s.scan(l); ok {
			return d, true
		}
		if l.blank || continued {
			continue
		}
		if d, ok := structure(l, prev, lines, &levels); ok {
			return d, true
		}
		if l.block {
			blockIndent = l.indent
		}
		prev = l
	}
	if d, ok := s.unclosed(); ok {
		return d, true
	}
	return diagnosis{}, false
}

// structure checks a line's indentation against the line before it.
func structure(l, prev *line, lines []line, levels *[]int) (diagnosis, bool) {
	at := func(col int, format string, args ...any) (diagnosis, bool) {
		return diagnosis{Pos{Line: l.n, Column: col + 1}, fmt.Sprintf(format, args...)}, true
	}
	defer func() {
		*levels = append(*levels, l.indent)
		if l.keyCol != l.indent {
			*levels = append(*levels, l.keyCol)
		}
	}()
	if prev == nil {
		return diagnosis{}, false
	}
	name := keyName(l)
	if !l.isKey && !l.isItem && strings.ContainsRune(strings.TrimSpace(l.text), ':') {
		// "host:loki.example.org" among keys: one plain value, no key.
		if sibling(l, prev, lines) {
			c := strings.IndexRune(l.text, ':')
			return at(c+1, "missing space after the colon: a key is written %s: value", strings.TrimSpace(l.text[:c]))
		}
	}
	if !l.isKey && !l.isItem && sibling(l, prev, lines) {
		word := strings.Fields(l.text)[0]
		return at(l.indent+len(word), "missing ':' after %q: a key is written %s: value", word, word)
	}
	if !l.isKey && !l.isItem {
		return diagnosis{}, false
	}
	switch {
	case l.indent > prev.keyCol && prev.hasValue && !prev.opens:
		return at(l.indent, "%s is indented more than %s on line %d, which already has a value: the keys of one mapping start in the same column (%d)", name, keyName(prev), prev.n, prev.keyCol+1)
	case prev.isItem && prev.isKey && l.isKey && !l.isItem && l.indent > prev.indent && l.indent < prev.keyCol:
		return at(l.indent, "%s does not line up with %s on line %d: the keys of a list item start in the same column (%d)", name, keyName(prev), prev.n, prev.keyCol+1)
	case l.isItem && !prev.isItem && prev.isKey && prev.hasValue && l.indent == prev.indent:
		return at(l.indent, "a list item among the keys of a mapping (after %s on line %d): a list belongs under a key of its own, on the lines below it (e.g. users:)", keyName(prev), prev.n)
	}
	if l.indent < prev.indent {
		known := false
		for _, lv := range *levels {
			known = known || lv == l.indent
		}
		if !known {
			return at(l.indent, "%s is indented to column %d, which lines up with no key above it: align it with the keys of the mapping it belongs to", name, l.indent+1)
		}
	}
	return diagnosis{}, false
}

// sibling reports whether a line stands where a key belongs: the line
// before or after it, at the same indentation, is a key line.
func sibling(l, prev *line, lines []line) bool {
	if prev.isKey && prev.keyCol == l.indent && !prev.opens {
		return true
	}
	for j := l.n; j < len(lines); j++ { // lines[j] is line j+1
		next := lines[j]
		t := strings.TrimSpace(next.text)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return next.indent == l.indent && keyLike(t)
	}
	return false
}

var keyLine = lazyRegexp(`^(- +)*[A-Za-z0-9_./-]+:( |$)`)

func keyLike(t string) bool { return keyLine().MatchString(t) }

func keyName(l *line) string {
	t := strings.TrimSpace(l.text[min(l.keyCol, len(l.text)):])
	if k, _, ok := strings.Cut(t, ":"); ok && l.isKey {
		return strconv.Quote(k)
	}
	return "this line"
}

// scanner reads the lines' tokens: quotes and flow brackets across lines,
// anchors, and the shape of each line.
type scanner struct {
	anchors map[string]bool
	flowErr bool // the parser complained about a flow collection
	quote   *opener
	flow    []opener
}

type opener struct {
	ch        byte
	line, col int // col 0-based
	indent    int
}

func (s *scanner) inside() bool { return s.quote != nil || len(s.flow) > 0 }

// unclosed reports a quote or bracket still open at the end of the file.
func (s *scanner) unclosed() (diagnosis, bool) {
	switch {
	case s.quote != nil:
		return diagnosis{Pos{Line: s.quote.line, Column: s.quote.col + 1}, fmt.Sprintf("this %c is never closed: end the value with %c on the same line", s.quote.ch, s.quote.ch)}, true
	case len(s.flow) > 0:
		o := s.flow[0]
		return diagnosis{Pos{Line: o.line, Column: o.col + 1}, fmt.Sprintf("this %c is never closed: add %c after its last entry", o.ch, closer(o.ch))}, true
	}
	return diagnosis{}, false
}

func closer(c byte) byte {
	if c == '{' {
		return '}'
	}
	return ']'
}

// scan reads one line's tokens and records its shape in l.
func (s *scanner) scan(l *line) (diagnosis, bool) {
	t := l.text
	at := func(col int, format string, args ...any) (diagnosis, bool) {
		return diagnosis{Pos{Line: l.n, Column: col + 1}, fmt.Sprintf(format, args...)}, true
	}
	i := 0
	if s.quote != nil {
		// A quoted value that runs on over lines that look like keys was
		// meant to end on its own line.
		if keyLike(strings.TrimSpace(t)) && l.indent <= s.quote.indent+2 {
			q := s.quote
			return diagnosis{Pos{Line: q.line, Column: q.col + 1}, fmt.Sprintf("this %c is never closed: end the value with %c on the same line", q.ch, q.ch)}, true
		}
		end := closeQuote(t, 0, s.quote.ch)
		if end < 0 {
			return diagnosis{}, false
		}
		s.quote, i = nil, end+1
	} else {
		lead := t[:len(t)-len(strings.TrimLeft(t, " \t"))]
		if c := strings.IndexByte(lead, '\t'); c >= 0 && len(s.flow) == 0 && len(lead) < len(t) {
			return at(c, "a tab indents this line: YAML indents with spaces only; replace the tab with spaces")
		}
		if len(s.flow) > 0 && strings.TrimSpace(t) != "" && l.indent <= s.flow[len(s.flow)-1].indent && s.flowErr {
			o := s.flow[len(s.flow)-1]
			return diagnosis{Pos{Line: o.line, Column: o.col + 1}, fmt.Sprintf("this %c is never closed: add %c after its last entry", o.ch, closer(o.ch))}, true
		}
	}
	trimmed := strings.TrimSpace(t)
	if len(s.flow) == 0 && s.quote == nil && i == 0 {
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			l.blank = true
			return diagnosis{}, false
		}
	}
	i = max(i, l.indent)
	l.keyCol = i
	valuePos := false // after "key: " on this line
	for i < len(t) {
		c := t[i]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '#' && (i == 0 || t[i-1] == ' ' || t[i-1] == '\t'):
			i = len(t)
			continue
		}
		switch {
		case c == '-' && len(s.flow) == 0 && (i+1 == len(t) || t[i+1] == ' '):
			if valuePos {
				return at(i, "a list cannot start on the line of its key: put each '- ' item on its own line below it, or write the list as [a, b]")
			}
			l.isItem = true
			l.keyCol = i + 1 + indentOf(t[i+1:])
			if i+1 == len(t) || strings.TrimSpace(t[i+1:]) == "" {
				l.opens = true
			}
			i++
		case c == '"' || c == '\'':
			end := closeQuote(t, i+1, c)
			if end < 0 {
				s.quote = &opener{ch: c, line: l.n, col: i, indent: l.indent}
				l.hasValue = valuePos
				return diagnosis{}, false
			}
			j := end + 1
			for j < len(t) && t[j] == ' ' {
				j++
			}
			if j < len(t) && !strings.ContainsRune(":#,]}", rune(t[j])) {
				return at(j, "text after the closing %c: put the whole value inside the quotes", c)
			}
			if valuePos {
				l.hasValue = true
			}
			i = j // at a ':', ',', a closing bracket, a comment or the end
			if j < len(t) && t[j] == ':' {
				i, valuePos = s.keyIndicator(l, j)
			}
		case c == '[' || c == '{':
			s.flow = append(s.flow, opener{ch: c, line: l.n, col: i, indent: l.indent})
			if valuePos {
				l.hasValue = true
			}
			i++
		case c == ']' || c == '}':
			if n := len(s.flow); n > 0 {
				s.flow = s.flow[:n-1]
			}
			i++
		case c == ',' && len(s.flow) > 0:
			i++
		case c == '@' || c == '`' || (c == '%' && valuePos):
			return at(i, "a value cannot start with %c: put the value in quotes", c)
		case c == '*':
			name := anchorName(t[i+1:])
			if !s.anchors[name] {
				return at(i, "*%s refers to an anchor &%s that is not defined above: a value starting with * must be quoted", name, name)
			}
			if valuePos {
				l.hasValue = true
			}
			i += 1 + len(name)
		case c == '&':
			name := anchorName(t[i+1:])
			s.anchors[name] = true
			i += 1 + len(name)
		case c == '!':
			i += 1 + len(anchorName(t[i+1:]))
		case (c == '|' || c == '>') && valuePos && len(s.flow) == 0:
			l.block, l.hasValue = true, true
			i = len(t)
		default:
			var d diagnosis
			var bad bool
			i, valuePos, bad, d = s.plain(l, t, i, valuePos)
			if bad {
				return d, true
			}
		}
	}
	return diagnosis{}, false
}

// keyIndicator records the ':' at j as a key's and returns where its value
// starts.
func (s *scanner) keyIndicator(l *line, j int) (int, bool) {
	if len(s.flow) == 0 && !l.isKey {
		l.isKey = true
		l.opens = strings.TrimSpace(stripComment(l.text[j+1:])) == ""
	}
	return j + 1, true
}

// plain reads a plain value starting at i.
func (s *scanner) plain(l *line, t string, i int, valuePos bool) (int, bool, bool, diagnosis) {
	inFlow := len(s.flow) > 0
	for j := i; j < len(t); j++ {
		c := t[j]
		if c == '#' && t[j-1] == ' ' {
			break
		}
		if inFlow && (c == ',' || c == ']' || c == '}') {
			if valuePos {
				l.hasValue = true
			}
			return j, valuePos, false, diagnosis{}
		}
		if c == ':' && (j+1 == len(t) || t[j+1] == ' ' || (inFlow && strings.ContainsRune(",]}", rune(t[j+1])))) {
			if valuePos && !inFlow {
				return j, valuePos, true, diagnosis{Pos{Line: l.n, Column: j + 1}, fmt.Sprintf("a value cannot hold ': ' unquoted: put it in quotes, e.g. %s: %q", strings.TrimSpace(stripKey(t, i)), strings.TrimSpace(stripComment(t[i:])))}
			}
			next, vp := s.keyIndicator(l, j)
			return next, vp, false, diagnosis{}
		}
	}
	if valuePos {
		l.hasValue = true
	}
	return len(t), valuePos, false, diagnosis{}
}

// stripKey returns the key of the line whose value starts at i.
func stripKey(t string, i int) string {
	k := strings.TrimRight(t[:i], " ")
	k = strings.TrimSuffix(k, ":")
	k = strings.TrimLeft(k, " -")
	return k
}

func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		return s[:i]
	}
	if strings.HasPrefix(s, "#") {
		return ""
	}
	return s
}

func anchorName(s string) string {
	end := strings.IndexAny(s, " ,[]{}")
	if end < 0 {
		return s
	}
	return s[:end]
}

// closeQuote returns the index of the quote that ends a quoted value whose
// text starts at i, or -1 when the line ends first.
func closeQuote(t string, i int, q byte) int {
	for j := i; j < len(t); j++ {
		switch {
		case q == '"' && t[j] == '\\':
			j++
		case t[j] == q && q == '\'' && j+1 < len(t) && t[j+1] == '\'':
			j++ // '' is a quote inside a single-quoted value
		case t[j] == q:
			return j
		}
	}
	return -1
}
