package probonustest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
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

func notInt(input any, loc ...any) issue {
	return issue{loc: loc, input: input, v1: [2]string{"value is not a valid integer", "type_error.integer"},
		v2: [2]string{"Input should be a valid integer, unable to parse string as an integer", "int_parsing"}}
}

func notDecimal(input any, loc ...any) issue {
	return issue{loc: loc, input: input, v1: [2]string{"value is not a valid decimal", "type_error.decimal"},
		v2: [2]string{"Input should be a valid decimal", "decimal_parsing"}}
}

// tooManyPlaces is an amount with a fraction of a kopeck, refused as a Decimal field with
// decimal_places=2 refuses it (Pydantic counts the places of the normalised value: 1.500 has one).
func tooManyPlaces(input any, loc ...any) issue {
	return issue{loc: loc, input: input, ctx: map[string]any{"decimal_places": 2}, ctx1: map[string]any{"decimal_places": 2},
		v1: [2]string{"ensure that there are no more than 2 decimal places", "value_error.decimal.max_places"},
		v2: [2]string{"Decimal input should have no more than 2 decimal places", "decimal_max_places"}}
}

func notPositive(input any, loc ...any) issue {
	return issue{loc: loc, input: input, ctx: map[string]any{"gt": 0}, ctx1: map[string]any{"limit_value": 0},
		v1: [2]string{"ensure this value is greater than 0", "value_error.number.not_gt"},
		v2: [2]string{"Input should be greater than 0", "greater_than"}}
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
