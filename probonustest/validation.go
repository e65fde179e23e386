package probonustest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// issue is one 422 item, worded for each Pydantic generation.
type issue struct {
	loc    []any
	input  any
	v1, v2 [2]string      // msg, type
	ctx    map[string]any // Pydantic v2's
	ctx1   map[string]any // Pydantic v1's
}

func missing(loc ...any) issue {
	return issue{loc: loc, v1: [2]string{"field required", "value_error.missing"}, v2: [2]string{"Field required", "missing"}}
}

// tooManyPlaces is an amount with a fraction of a kopeck.
func tooManyPlaces(input any, loc ...any) *issue {
	return &issue{loc: loc, input: input, ctx: map[string]any{"decimal_places": decimalPlaces}, ctx1: map[string]any{"decimal_places": decimalPlaces},
		v1: [2]string{"ensure that there are no more than 2 decimal places", "value_error.decimal.max_places"},
		v2: [2]string{"Decimal input should have no more than 2 decimal places", "decimal_max_places"}}
}

// notDate is a date field's input Pydantic v2 could not read: after its strict parse as a date, its
// lax retry as a datetime failed, and the reason is that retry's.
func notDate(input string, loc ...any) issue {
	is := issue{loc: loc, input: input, v1: [2]string{"invalid date format", "value_error.date"},
		v2: [2]string{"Input should be a valid date or datetime, " + datetimeReason(input), "date_from_datetime_parsing"}}
	if datetimeReason(input) == "" { // a datetime: a date field takes only one at midnight
		is.v2 = [2]string{"Datetimes provided to dates should have zero time - e.g. be exact dates", "date_from_datetime_inexact"}
	}
	return is
}

// notDatetime is a datetime field's input Pydantic v2 could not read: after its strict parse as
// a datetime, its lax retry as a date failed, and the reason is that retry's (issue 26 item 19:
// every refusal said "invalid character in year", and as a date's).
func notDatetime(input string, loc ...any) issue {
	return issue{loc: loc, input: input, v1: [2]string{"invalid datetime format", "value_error.datetime"},
		v2: [2]string{"Input should be a valid datetime or date, " + dateReason(input), "datetime_from_date_parsing"}}
}

// jsonValue is raw as the Python value FastAPI validates (json.Number for a number), for an
// issue's input; nil when raw is not JSON.
func jsonValue(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// invalid answers 422 with the items in the flavour's shape.
func (s *Server) invalid(w http.ResponseWriter, issues ...issue) {
	items := make([]map[string]any, len(issues))
	for i, is := range issues {
		if s.flavor == Legacy {
			items[i] = map[string]any{"loc": is.loc, "msg": is.v1[0], "type": is.v1[1]}
			if is.ctx1 != nil {
				items[i]["ctx"] = is.ctx1
			}
			continue
		}
		items[i] = map[string]any{"type": is.v2[1], "loc": is.loc, "msg": is.v2[0], "input": is.input}
		if is.ctx != nil {
			items[i]["ctx"] = is.ctx
		}
	}
	s.writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": items})
}

// The reasons speedate (the parser under Pydantic v2) gives, in its words.
const (
	tooShort     = "input is too short"
	extraChars   = "unexpected extra characters at the end of the input"
	dateSep      = "invalid date separator, expected `-`"
	datetimeSep  = "invalid datetime separator, expected `T`, `t`, `_` or space"
	timeSep      = "invalid time separator, expected `:`"
	monthRange   = "month value is outside expected range of 1-12"
	dayRange     = "day value is outside expected range"
	hourRange    = "hour value is outside expected range of 0-23"
	minuteRange  = "minute value is outside expected range of 0-59"
	secondRange  = "second value is outside expected range of 0-59"
	fractionLong = "second fraction value is more than 6 digits long"
	tzSign       = "invalid timezone sign"
	tzHour       = "invalid timezone hour"
	tzMinute     = "invalid timezone minute"
	tzRange      = "timezone offset must be less than 24 hours"
)

// twoDigits reads v[i:i+2] as a number; false when either is not a digit or is missing.
func twoDigits(v string, i int) (int, bool) {
	if i+2 > len(v) || v[i] < '0' || v[i] > '9' || v[i+1] < '0' || v[i+1] > '9' {
		return 0, false
	}
	return int(v[i]-'0')*10 + int(v[i+1]-'0'), true
}

// datePart is speedate's reason for the first ten characters of v as YYYY-MM-DD; "" when they are one.
func datePart(v string) string {
	if len(v) < 10 {
		return tooShort
	}
	for i := range 4 {
		if v[i] < '0' || v[i] > '9' {
			return "invalid character in year"
		}
	}
	if v[4] != '-' {
		return dateSep
	}
	month, ok := twoDigits(v, 5)
	if !ok {
		return "invalid character in month"
	}
	if v[7] != '-' {
		return dateSep
	}
	day, ok := twoDigits(v, 8)
	if !ok {
		return "invalid character in day"
	}
	year := int(v[0]-'0')*1000 + int(v[1]-'0')*100 + int(v[2]-'0')*10 + int(v[3]-'0')
	days := map[int]int{1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	switch {
	case days == 0:
		return monthRange
	case day < 1 || day > days:
		return dayRange
	}
	return ""
}

// dateReason is speedate's reason for refusing v as a date (Date::parse_bytes).
func dateReason(v string) string {
	if r := datePart(v); r != "" {
		return r
	}
	if len(v) > 10 {
		return extraChars
	}
	return ""
}

// datetimeReason is speedate's reason for refusing v as a datetime (DateTime::parse_bytes); "" for
// one it reads.
func datetimeReason(v string) string {
	if r := datePart(v); r != "" {
		return r
	}
	if len(v) < 11 || (v[10] != 'T' && v[10] != 't' && v[10] != ' ' && v[10] != '_') {
		return datetimeSep
	}
	t := v[11:]
	if len(t) < 5 {
		return tooShort
	}
	hour, ok := twoDigits(t, 0)
	if !ok {
		return "invalid character in hour"
	}
	if t[2] != ':' {
		return timeSep
	}
	minute, ok := twoDigits(t, 3)
	switch {
	case !ok:
		return "invalid character in minute"
	case hour > 23:
		return hourRange
	case minute > 59:
		return minuteRange
	}
	pos := 5
	if pos < len(t) && t[pos] == ':' {
		second, ok := twoDigits(t, pos+1)
		switch {
		case !ok:
			return "invalid character in second"
		case second > 59:
			return secondRange
		}
		pos += 3
		if pos < len(t) && (t[pos] == '.' || t[pos] == ',') {
			pos++
			n := 0
			for pos < len(t) && t[pos] >= '0' && t[pos] <= '9' {
				pos++
				n++
			}
			if n > 6 {
				return fractionLong
			}
		}
	}
	if pos < len(t) {
		switch t[pos] {
		case 'Z', 'z':
			pos++
		case '+', '-':
			h, ok := twoDigits(t, pos+1)
			if !ok {
				return tzHour
			}
			pos += 3
			if pos < len(t) && t[pos] == ':' {
				pos++
			}
			m := 0
			if pos < len(t) {
				if m, ok = twoDigits(t, pos); !ok {
					return tzMinute
				}
				pos += 2
			}
			if h*60+m >= 24*60 {
				return tzRange
			}
		default:
			return tzSign
		}
	}
	if pos < len(t) {
		return extraChars
	}
	return ""
}

// readDate reads a date field: YYYY-MM-DD, or in Pydantic v2 (Modern) a datetime at midnight
// exactly (its date); false for anything else.
func (s *Server) readDate(v string) (string, bool) {
	if _, err := time.Parse(time.DateOnly, v); err == nil {
		return v, true
	}
	if s.flavor == Legacy || datetimeReason(v) != "" {
		return "", false
	}
	clock := v[11:]
	if i := strings.IndexAny(clock, "Zz+-"); i >= 0 {
		clock = clock[:i]
	}
	if strings.Trim(clock, "0:.,") != "" {
		return "", false
	}
	return v[:10], true
}

// form reads a body's fields as Pydantic validates a FastAPI body model: every field is checked
// and every fault reported in one 422, in the model's order (issue 26 item 19: the fake stopped
// at the first). Each reader returns the field's value, or its zero value after noting the issue.
type form struct {
	s      *Server
	fields map[string]json.RawMessage
	issues []issue
}

func (s *Server) form(fields map[string]json.RawMessage) *form { return &form{s: s, fields: fields} }

// failed answers the 422 when any field was at fault.
func (f *form) failed(w http.ResponseWriter) bool {
	if len(f.issues) == 0 {
		return false
	}
	f.s.invalid(w, f.issues...)
	return true
}

func (f *form) add(is *issue) {
	if is != nil {
		f.issues = append(f.issues, *is)
	}
}

// value is the field as the Python value Pydantic sees; present is false when it was not sent.
// A required field sent as null is refused as its type refuses None (Pydantic v1: "none is not an
// allowed value"); an optional one is absent.
func (f *form) value(name string, required bool) (v any, present bool) {
	raw, ok := f.fields[name]
	if !ok {
		if required {
			is := missing("body", name)
			is.input = f.object()
			f.add(&is)
		}
		return nil, false
	}
	v = jsonValue(raw)
	return v, v != nil || required
}

// object is the body, Pydantic v2's input for a field missing from it.
func (f *form) object() map[string]any {
	m := make(map[string]any, len(f.fields))
	for k, raw := range f.fields {
		m[k] = jsonValue(raw)
	}
	return m
}

// noneNotAllowed is a required field sent as null: Pydantic v2's type error for None (its v2
// msg and type given), v1's none.not_allowed.
func noneNotAllowed(v2 [2]string, loc ...any) *issue {
	return &issue{loc: loc, v1: [2]string{"none is not an allowed value", "type_error.none.not_allowed"}, v2: v2}
}

var (
	intType     = [2]string{"Input should be a valid integer", "int_type"}
	stringType  = [2]string{"Input should be a valid string", "string_type"}
	decimalType = [2]string{"Decimal input should be an integer, float, string or Decimal object", "decimal_type"}
	finite      = [2]string{"Input should be a finite number", "finite_number"}
)

// int reads a required integer field.
func (f *form) int(name string) int64 {
	v, ok := f.value(name, true)
	if !ok {
		return 0
	}
	n, is := f.s.readInt(v, "body", name)
	f.add(is)
	return n
}

// optInt reads an optional integer field: (value, present).
func (f *form) optInt(name string) (int64, bool) {
	v, ok := f.value(name, false)
	if !ok {
		return 0, false
	}
	n, is := f.s.readInt(v, "body", name)
	f.add(is)
	return n, is == nil
}

// readInt is an int field's value from the Python value v, in Pydantic's lax mode: an integral
// number, a bool, or a string of one (v2: with ".0…" allowed; v1: Python's int()). v1 truncates a
// fractional number, as int() does. An integer past int64 (Python's are unbounded) reads as -1,
// which no account or group has.
func (s *Server) readInt(v any, loc ...any) (int64, *issue) {
	notInteger := func(v2 [2]string) *issue {
		return &issue{loc: loc, input: v, v1: [2]string{"value is not a valid integer", "type_error.integer"}, v2: v2}
	}
	switch x := v.(type) {
	case nil:
		return 0, noneNotAllowed(intType, loc...)
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		return s.intFromString(x, loc...)
	case json.Number:
		text := x.String()
		if !strings.ContainsAny(text, ".eE") {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return -1, nil
			}
			return n, nil
		}
		fl, _ := strconv.ParseFloat(text, 64) // Python reads it as a float
		switch {
		case math.IsInf(fl, 0):
			return 0, notInteger(finite)
		case fl != math.Trunc(fl) && s.flavor == Modern:
			return 0, notInteger([2]string{"Input should be a valid integer, got a number with a fractional part", "int_from_float"})
		case math.Abs(fl) >= 1<<63:
			return -1, nil
		}
		return int64(fl), nil
	}
	return 0, notInteger(intType)
}

// intFromString reads an int field sent as a string (a query parameter always is).
func (s *Server) intFromString(v string, loc ...any) (int64, *issue) {
	text := strings.TrimSpace(v)
	if s.flavor == Modern { // pydantic-core's strip_decimal_zeros: "5.00" is 5
		if whole, frac, ok := strings.Cut(text, "."); ok && strings.Trim(frac, "0") == "" {
			text = whole
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return -1, nil
	case err != nil:
		return 0, &issue{loc: loc, input: v, v1: [2]string{"value is not a valid integer", "type_error.integer"},
			v2: [2]string{"Input should be a valid integer, unable to parse string as an integer", "int_parsing"}}
	}
	return n, nil
}

// str reads a required string field.
func (f *form) str(name string) string {
	v, ok := f.value(name, true)
	if !ok {
		return ""
	}
	out, is := f.s.readString(v, "body", name)
	f.add(is)
	return out
}

// optStr reads an optional string field: (value, present).
func (f *form) optStr(name string) (string, bool) {
	v, ok := f.value(name, false)
	if !ok {
		return "", false
	}
	out, is := f.s.readString(v, "body", name)
	f.add(is)
	return out, is == nil
}

// readString is a str field's value: Pydantic v2 takes a string only; v1 also a number, as its
// text (str(v): a bool is "True").
func (s *Server) readString(v any, loc ...any) (string, *issue) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", noneNotAllowed(stringType, loc...)
	case json.Number:
		if s.flavor == Legacy {
			return x.String(), nil
		}
	case bool:
		if s.flavor == Legacy {
			return map[bool]string{true: "True", false: "False"}[x], nil
		}
	}
	return "", &issue{loc: loc, input: v, v1: [2]string{"str type expected", "type_error.str"}, v2: stringType}
}

// optDate reads an optional date field: (YYYY-MM-DD, present).
func (f *form) optDate(name string) (string, bool) {
	v, ok := f.value(name, false)
	if !ok {
		return "", false
	}
	text, isText := v.(string)
	if !isText {
		f.add(&issue{loc: []any{"body", name}, input: v, v1: [2]string{"invalid date format", "value_error.date"},
			v2: [2]string{"Input should be a valid date", "date_type"}})
		return "", false
	}
	d, ok := f.s.readDate(text)
	if !ok {
		is := notDate(text, "body", name)
		f.add(&is)
	}
	return d, ok
}

// amount reads a required money field, greater than 0.
func (f *form) amount(name string) money {
	v, ok := f.value(name, true)
	if !ok {
		return 0
	}
	m, is := f.s.readAmount(v, "body", name)
	if is == nil && m <= 0 {
		is = &issue{loc: []any{"body", name}, input: v, ctx: map[string]any{"gt": 0}, ctx1: map[string]any{"limit_value": 0},
			v1: [2]string{"ensure this value is greater than 0", "value_error.number.not_gt"},
			v2: [2]string{"Input should be greater than 0", "greater_than"}}
	}
	f.add(is)
	return m
}

// The amount field is condecimal(max_digits=18, decimal_places=2): a NUMERIC(18,2) column, whose
// largest value, 9999999999999999.99, is well inside int64 kopecks (the adversarial review of
// issue 26: past int64 the fake wrapped around, crediting 2^64+1 kopecks as 0.01).
const (
	maxDigits     = 18
	decimalPlaces = 2
)

// readAmount is a money field's value from the Python value v, as Pydantic's condecimal does: a
// number or a numeric string, finite; then its digits in all, after the point, and before it.
// Pydantic (v2, and v1 since 1.10) counts the digits of the normalised value: 1.500 has one place.
func (s *Server) readAmount(v any, loc ...any) (money, *issue) {
	notDecimal := &issue{loc: loc, input: v, v1: [2]string{"value is not a valid decimal", "type_error.decimal"},
		v2: [2]string{"Input should be a valid decimal", "decimal_parsing"}}
	var text string
	switch x := v.(type) {
	case nil:
		return 0, noneNotAllowed(decimalType, loc...)
	case string:
		text = strings.TrimSpace(x)
	case json.Number:
		text = x.String()
		if strings.ContainsAny(text, ".eE") { // Python reads it as a float, and Decimal its repr
			f, err := strconv.ParseFloat(text, 64)
			if err != nil && !math.IsInf(f, 0) {
				return 0, notDecimal
			}
			text = strconv.FormatFloat(f, 'e', -1, 64) // +Inf past float64: not finite
		}
	default: // a bool, a list, an object (v1: str(v), which Decimal does not read)
		notDecimal.v2 = decimalType
		return 0, notDecimal
	}
	switch strings.ToLower(strings.TrimLeft(text, "+-")) {
	case "nan", "snan", "inf", "infinity": // Python's Decimal reads them; Pydantic refuses them after
		return 0, &issue{loc: loc, input: v, v1: [2]string{"value is not a valid decimal", "value_error.decimal.not_finite"}, v2: finite}
	}
	d, err := decimal.NewFromString(text)
	if err != nil || text == "" || strings.ContainsAny(text, " _") {
		return 0, notDecimal
	}
	digits, places := decimalDigits(d)
	whole := maxDigits - decimalPlaces
	switch {
	case digits > maxDigits:
		return 0, &issue{loc: loc, input: v, ctx: map[string]any{"max_digits": maxDigits}, ctx1: map[string]any{"max_digits": maxDigits},
			v1: [2]string{fmt.Sprintf("ensure that there are no more than %d digits in total", maxDigits), "value_error.decimal.max_digits"},
			v2: [2]string{fmt.Sprintf("Decimal input should have no more than %d digits in total", maxDigits), "decimal_max_digits"}}
	case places > decimalPlaces:
		return 0, tooManyPlaces(v, loc...)
	case digits-places > whole:
		return 0, &issue{loc: loc, input: v, ctx: map[string]any{"whole_digits": whole}, ctx1: map[string]any{"whole_digits": whole},
			v1: [2]string{fmt.Sprintf("ensure that there are no more than %d digits before the decimal point", whole), "value_error.decimal.whole_digits"},
			v2: [2]string{fmt.Sprintf("Decimal input should have no more than %d digits before the decimal point", whole), "decimal_whole_digits"}}
	}
	m, err := parseMoney(d.String())
	if err != nil { // cannot happen within 18 digits and 2 places; refuse rather than wrap
		return 0, tooManyPlaces(v, loc...)
	}
	return m, nil
}

// decimalDigits is Pydantic's count of d's digits, in all and after the point, once normalised
// (without trailing zeros).
func decimalDigits(d decimal.Decimal) (digits, places int) {
	coef := new(big.Int).Abs(d.Coefficient())
	exp := int(d.Exponent())
	ten := big.NewInt(10)
	for coef.Sign() != 0 {
		q, r := new(big.Int).QuoRem(coef, ten, new(big.Int))
		if r.Sign() != 0 {
			break
		}
		coef, exp = q, exp+1
	}
	if coef.Sign() == 0 {
		exp = 0
	}
	digits = len(coef.String())
	if exp >= 0 {
		return digits + exp, 0
	}
	return max(digits, -exp), -exp
}

// optBool reads an optional boolean field: (value, present). Pydantic's lax bool takes a bool,
// 0 or 1, and the words Python's validators know ("true", "off", "y"…).
func (f *form) optBool(name string) (bool, bool) {
	v, ok := f.value(name, false)
	if !ok {
		return false, false
	}
	var word string
	switch x := v.(type) {
	case bool:
		return x, true
	case json.Number:
		word = x.String()
	case string:
		word = strings.ToLower(strings.TrimSpace(x))
	}
	switch word {
	case "1", "true", "t", "yes", "y", "on":
		return true, true
	case "0", "false", "f", "no", "n", "off":
		return false, true
	}
	v2 := [2]string{"Input should be a valid boolean", "bool_type"}
	if _, isText := v.(string); isText {
		v2 = [2]string{"Input should be a valid boolean, unable to interpret input", "bool_parsing"}
	}
	f.add(&issue{loc: []any{"body", name}, input: v, v1: [2]string{"value could not be parsed to a boolean", "type_error.bool"}, v2: v2})
	return false, false
}
