package probonus

// The SDK's own values as the generated decoders read them (decode_fast.go's reader): strings,
// integers and booleans into their fields, and Amount, Code, Date and Time from their wire forms,
// each holding encoding/json's result to account through the fuzz targets.

import (
	"strconv"
	"unicode/utf8"
)

// str reads a string field: null leaves it as it is, anything but a string fails.
func (r *reader) str(p *string, slot int) {
	switch r.ws() {
	case '"':
		if s, ok := r.stringValue(slot); ok {
			*p = s
		}
	case 'n':
		r.literal("null")
	default:
		r.fail()
	}
}

// boolean reads a bool field: null leaves it as it is.
func (r *reader) boolean(p *bool) {
	switch r.ws() {
	case 't':
		r.literal("true")
		*p = true
	case 'f':
		r.literal("false")
		*p = false
	case 'n':
		r.literal("null")
	default:
		r.fail()
	}
}

// integer reads an integer field of bits bits as json does (strconv.ParseInt of the number's
// text: a fraction, an exponent or an overflow fails); null leaves it as it is.
func (r *reader) integer(bits int) (n int64, set bool) {
	switch c := r.ws(); {
	case c == '-' || '0' <= c && c <= '9':
		num := r.number()
		if r.bad {
			return 0, false
		}
		if v, ok := smallInt(num); ok {
			return v, true
		}
		v, err := strconv.ParseInt(string(num), 10, bits)
		if err != nil {
			r.fail()
			return 0, false
		}
		return v, true
	case c == 'n':
		r.literal("null")
	default:
		r.fail()
	}
	return 0, false
}

// smallInt reads a valid JSON number of at most 18 digits that is an integer.
func smallInt(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func (r *reader) int64(p *int64) {
	if v, ok := r.integer(64); ok {
		*p = v
	}
}

func (r *reader) int(p *int) {
	if v, ok := r.integer(strconv.IntSize); ok {
		*p = int(v)
	}
}

// amount, code, date and timeValue read a value type as its UnmarshalJSON does, from the bytes json
// would give it. A Code keeps its last value in slot, as strings do.
func (r *reader) amount(p *Amount) {
	if b := r.raw(); !r.bad && p.UnmarshalJSON(b) != nil {
		r.fail()
	}
}

func (r *reader) code(p *Code, slot int) {
	b := r.raw()
	if r.bad {
		return
	}
	var inner []byte
	switch {
	case plainInteger(b):
		inner = b
	case len(b) >= 2 && b[0] == '"' && plainString(b[1:len(b)-1]):
		inner = b[1 : len(b)-1]
	default:
		if p.UnmarshalJSON(b) != nil {
			r.fail()
		}
		return
	}
	if r.intern[slot] != string(inner) {
		r.intern[slot] = string(inner)
	}
	*p = Code(r.intern[slot])
}

// plainString reports whether a string's contents are taken as they are: no escape, no control
// character, valid UTF-8 (what unquote takes without the decoder).
func plainString(b []byte) bool {
	high := false
	for _, c := range b {
		switch strClass[c] {
		case 1:
			return false
		case 2:
			high = true
		}
	}
	return !high || utf8.Valid(b)
}

func (r *reader) date(p *Date) {
	if b := r.raw(); !r.bad && p.UnmarshalJSON(b) != nil {
		r.fail()
	}
}

func (r *reader) timeValue(p *Time) {
	if b := r.raw(); !r.bad && p.UnmarshalJSON(b) != nil {
		r.fail()
	}
}

// timePtr reads a *Time field: null makes it nil; anything else goes into the Time it points to,
// a new one when it is nil.
func (r *reader) timePtr(p **Time) {
	if r.isNullNext() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(Time)
	}
	r.timeValue(*p)
}
