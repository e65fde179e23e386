package probonustest

import "strings"

// pyJSONError is why Python's json.loads (CPython 3.13's C scanner, which FastAPI's
// request.json() runs) refuses doc: its message and the index, in characters, where it stopped;
// ok when doc is JSON to it (pos -1 when it nests too deep for Python), and nonFinite when it holds NaN, Infinity or -Infinity, which Python
// reads and Go's decoder does not. FastAPI quotes both in its 422 (issue 26 item 19: the fake
// answered model_attributes_type with the text as input).
func pyJSONError(doc []rune) (msg string, pos int, ok, nonFinite bool) {
	p := &pyScanner{s: doc}
	defer func() {
		if r := recover(); r != nil {
			e, failed := r.(pyJSONFailure)
			if !failed {
				panic(r)
			}
			msg, pos, ok = e.msg, e.pos, false
		}
	}()
	end := p.value(p.ws(0))
	if end = p.ws(end); end != len(doc) {
		return "Extra data", end, false, false
	}
	return "", 0, true, p.nonFinite
}

type pyJSONFailure struct {
	msg string
	pos int
}

type pyScanner struct {
	s         []rune
	nonFinite bool
	depth     int
}

// pyMaxDepth is about where CPython's scanner raises RecursionError (not a JSONDecodeError:
// FastAPI's 400); pyJSONError reports it as pos -1.
const pyMaxDepth = 10000

func (p *pyScanner) nest() {
	if p.depth++; p.depth > pyMaxDepth {
		p.fail("maximum recursion depth exceeded", -1)
	}
}

func (p *pyScanner) fail(msg string, pos int) { panic(pyJSONFailure{msg, pos}) }

func (p *pyScanner) ws(i int) int {
	for i < len(p.s) && strings.ContainsRune(" \t\n\r", p.s[i]) {
		i++
	}
	return i
}

func (p *pyScanner) at(i int, lit string) bool {
	return i+len(lit) <= len(p.s) && string(p.s[i:i+len(lit)]) == lit
}

// value scans the value at i and returns the index after it; "Expecting value" where there is none.
func (p *pyScanner) value(i int) int {
	if i >= len(p.s) {
		p.fail("Expecting value", i)
	}
	switch c := p.s[i]; {
	case c == '"':
		return p.str(i + 1)
	case c == '{':
		return p.object(i + 1)
	case c == '[':
		return p.array(i + 1)
	}
	for _, lit := range []string{"null", "true", "false", "NaN", "Infinity", "-Infinity"} {
		if p.at(i, lit) {
			p.nonFinite = p.nonFinite || lit[0] != 'n' && lit[0] != 't' && lit[0] != 'f'
			return i + len(lit)
		}
	}
	return p.number(i)
}

func digit(r rune) bool { return r >= '0' && r <= '9' }

// number is the C scanner's _match_number: a missing integer part is "Expecting value"; a '.'
// or exponent without digits after it is left for the caller (so "1." stops at the '.').
func (p *pyScanner) number(start int) int {
	i := start
	if i < len(p.s) && p.s[i] == '-' {
		i++
	}
	switch {
	case i < len(p.s) && p.s[i] >= '1' && p.s[i] <= '9':
		for i < len(p.s) && digit(p.s[i]) {
			i++
		}
	case i < len(p.s) && p.s[i] == '0':
		i++
	default:
		p.fail("Expecting value", start)
	}
	if i+1 < len(p.s) && p.s[i] == '.' && digit(p.s[i+1]) {
		i += 2
		for i < len(p.s) && digit(p.s[i]) {
			i++
		}
	}
	if i < len(p.s) && (p.s[i] == 'e' || p.s[i] == 'E') {
		e := i
		i++
		if i < len(p.s) && (p.s[i] == '+' || p.s[i] == '-') {
			i++
		}
		for i < len(p.s) && digit(p.s[i]) {
			i++
		}
		if !digit(p.s[i-1]) {
			i = e
		}
	}
	return i
}

// str scans a string whose opening quote is at i-1 (scanstring, strict).
func (p *pyScanner) str(i int) int {
	begin := i - 1
	for {
		if i >= len(p.s) {
			p.fail("Unterminated string starting at", begin)
		}
		switch c := p.s[i]; {
		case c == '"':
			return i + 1
		case c <= 0x1f:
			p.fail("Invalid control character at", i)
		case c == '\\':
			i++
			if i >= len(p.s) {
				p.fail("Unterminated string starting at", begin)
			}
			if p.s[i] != 'u' {
				if !strings.ContainsRune(`"\/bfnrt`, p.s[i]) {
					p.fail(`Invalid \escape`, i-1)
				}
				i++
				continue
			}
			if i+5 >= len(p.s) { // the C scanner's test: a closing quote must follow anyway
				p.fail(`Invalid \uXXXX escape`, i)
			}
			for _, h := range p.s[i+1 : i+5] {
				if !strings.ContainsRune("0123456789abcdefABCDEF", h) {
					p.fail(`Invalid \uXXXX escape`, i)
				}
			}
			i += 5
		default:
			i++
		}
	}
}

func (p *pyScanner) object(i int) int {
	p.nest()
	defer func() { p.depth-- }()
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(p.s) || p.s[i] != '"' {
			p.fail("Expecting property name enclosed in double quotes", i)
		}
		i = p.ws(p.str(i + 1))
		if i >= len(p.s) || p.s[i] != ':' {
			p.fail("Expecting ':' delimiter", i)
		}
		i = p.ws(p.value(p.ws(i + 1)))
		if i < len(p.s) && p.s[i] == '}' {
			return i + 1
		}
		if i >= len(p.s) || p.s[i] != ',' {
			p.fail("Expecting ',' delimiter", i)
		}
		comma := i
		if i = p.ws(i + 1); i < len(p.s) && p.s[i] == '}' {
			p.fail("Illegal trailing comma before end of object", comma)
		}
	}
}

func (p *pyScanner) array(i int) int {
	p.nest()
	defer func() { p.depth-- }()
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == ']' {
		return i + 1
	}
	for {
		i = p.ws(p.value(i))
		if i < len(p.s) && p.s[i] == ']' {
			return i + 1
		}
		if i >= len(p.s) || p.s[i] != ',' {
			p.fail("Expecting ',' delimiter", i)
		}
		comma := i
		if i = p.ws(i + 1); i < len(p.s) && p.s[i] == ']' {
			p.fail("Illegal trailing comma before end of array", comma)
		}
	}
}
