package probonus

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Date is a calendar date without a time or location: birth dates, burn dates.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads "YYYY-MM-DD"; a timestamp's date part ("2026-02-16T09:42:00") is accepted too.
func ParseDate(s string) (Date, error) {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("probonus: date %.30q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String formats as "YYYY-MM-DD".
func (d Date) String() string {
	if b, ok := d.appendTo(make([]byte, 0, 10)); ok {
		return string(b)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// appendTo appends what String's Sprintf writes, for a year 0..9999 and a month and day 0..99.
func (d Date) appendTo(b []byte) (_ []byte, ok bool) {
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		return b, false
	}
	y, m := d.Year, int(d.Month)
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d.Day/10), byte('0'+d.Day%10)), true
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// In returns midnight of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is earlier than other.
func (d Date) Before(other Date) bool { return d.In(time.UTC).Before(other.In(time.UTC)) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if b, ok := d.appendTo(append(make([]byte, 0, 12), '"')); ok {
		return append(b, '"'), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD"; null and "" leave the date zero.
func (d *Date) UnmarshalJSON(b []byte) error {
	// The usual form, straight from the bytes; anything else takes the general way.
	if len(b) >= 12 && b[0] == '"' && b[len(b)-1] == '"' {
		if v, ok := parseDateBytes(b[1 : len(b)-1]); ok {
			*d = v
			return nil
		}
	}
	if string(b) == "null" {
		return nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("probonus: date: want a string, got %.20q", b)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Time is a timestamp from the server. It reads "Z", numeric offsets, fractional seconds, and
// timestamps without an offset, which are the server's wall-clock time and are read in the
// client's location (WithLocation; default Moscow). It embeds time.Time, so t.Format, t.Before
// and the rest work on it directly.
//
// A Time read without an offset is written back the same way, as the server's wall clock, only
// while t.Time still holds exactly the value that was read (the same instant in the same
// location). Any assignment to t.Time that changes it (t.Time = time.Now(), t.Time =
// t.Time.Add(time.Hour), t.Time.In(time.UTC), ...) makes it an ordinary time, written with its
// offset: no hidden flag outlives the value it described. A Time built as Time{Time: x} is always
// written with its offset.
type Time struct {
	time.Time
	// wall is the value read from a timestamp without an offset (zero for any other Time).
	wall time.Time
}

// floating reports whether t is still the offset-less server time it was read as.
func (t Time) floating() bool { return !t.wall.IsZero() && t.Time == t.wall }

// wallClock makes the Time of a timestamp read without an offset.
func wallClock(v time.Time) Time { return Time{Time: v, wall: v} }

// wireLayout is how the server writes timestamps: local wall-clock time, no offset.
const wireLayout = "2006-01-02T15:04:05"

// UnmarshalJSON reads a timestamp string; null and "" leave the time zero.
func (t *Time) UnmarshalJSON(b []byte) error {
	// The usual forms, straight from the bytes; anything else takes the general way.
	if len(b) >= 21 && b[0] == '"' && b[len(b)-1] == '"' {
		if v, ok := parseTimeBytes(b[1:len(b)-1], defaultLocation); ok {
			*t = v
			return nil
		}
	}
	if string(b) == "null" {
		return nil
	}
	s, err := unquote(b)
	if err != nil || len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("probonus: time: want a string, got %.20q", b)
	}
	v, err := parseTime(s, defaultLocation)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// parseTime reads every timestamp form the server may send; one without an offset is read in loc.
func parseTime(s string, loc *time.Location) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Time{}, nil
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	// The server's own form, without an offset, is the common case: try it first, and try the
	// layouts with an offset only for a string that ends in one.
	if !hasOffset(s) {
		if v, ok := parseWallClock(s, loc); ok {
			return wallClock(v), nil
		}
		for _, layout := range []string{wireLayout, "2006-01-02T15:04", time.DateOnly} {
			if v, err := time.ParseInLocation(layout, s, loc); err == nil {
				return wallClock(v), nil
			}
		}
	} else {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
			if v, err := time.Parse(layout, s); err == nil {
				return Time{Time: v}, nil
			}
		}
	}
	return Time{}, fmt.Errorf("probonus: time %.40q: not a timestamp", s)
}

// parseDateBytes reads what ParseDate reads ("YYYY-MM-DD", or a timestamp's date part) when it
// is plain digits and dashes, without a string or time.Parse; ok is false for anything else,
// which ParseDate then reads or refuses.
func parseDateBytes(s []byte) (Date, bool) {
	if len(s) < 10 || len(s) > 10 && s[10] != 'T' && s[10] != ' ' || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	// What follows the date is ignored, but must be what a JSON string may hold unescaped, as the
	// general way (unquote) requires.
	for _, c := range s[10:] {
		if c == '"' || c == '\\' || c < 0x20 {
			return Date{}, false
		}
	}
	if !utf8.Valid(s[10:]) {
		return Date{}, false
	}
	y, ok1 := atoiDigits(s[0:4])
	m, ok2 := atoiDigits(s[5:7])
	d, ok3 := atoiDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return Date{}, false
	}
	return Date{y, time.Month(m), d}, true
}

// atoiDigits reads s when it is all ASCII digits.
func atoiDigits[T string | []byte](s T) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseTimeBytes reads the usual forms, "2006-01-02T15:04:05" (a space for the T, too) with up to
// nine digits of a second's fraction, then nothing (the server's wall clock, read in loc) or "Z"
// (UTC), without a string or time.Parse. ok is false for anything else, which parseTime then reads
// or refuses; where both read a timestamp they read the same.
func parseTimeBytes(s []byte, loc *time.Location) (Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return Time{}, false
	}
	var f [6]int
	for i, pos := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		v, ok := atoiDigits(s[pos[0]:pos[1]])
		if !ok {
			return Time{}, false
		}
		f[i] = v
	}
	y, mo, d := f[0], f[1], f[2]
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return Time{}, false
	}
	rest, ns := s[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return Time{}, false // no digit, or more than nine: left to time.Parse
		}
		ns, _ = atoiDigits(rest[1:n])
		for range 10 - n {
			ns *= 10
		}
		rest = rest[n:]
	}
	switch string(rest) {
	case "":
		return wallClock(time.Date(y, time.Month(mo), d, f[3], f[4], f[5], ns, loc)), true
	case "Z":
		return Time{Time: time.Date(y, time.Month(mo), d, f[3], f[4], f[5], ns, time.UTC)}, true
	}
	return Time{}, false
}

// parseWallClock reads exactly "2006-01-02T15:04:05", the server's own form and by far the most
// common, without time.Parse's layout machinery; anything else is left to time.Parse.
func parseWallClock(s string, loc *time.Location) (time.Time, bool) {
	if len(s) != len(wireLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	for i, pos := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for _, c := range []byte(s[pos[0]:pos[1]]) {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			f[i] = f[i]*10 + int(c-'0')
		}
	}
	y, mo, d := f[0], f[1], f[2]
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, f[3], f[4], f[5], 0, loc), true
}

func daysIn(month, year int) int {
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
}

// hasOffset reports whether a timestamp ends in "Z" or a numeric offset.
func hasOffset(s string) bool {
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return true
	}
	// an offset's sign comes after the time: "…T09:42:00+03:00", "…T09:42-0300"
	return len(s) > 16 && strings.ContainsAny(s[16:], "+-")
}

// MarshalJSON writes the form it was read in: without an offset when the server sent none and
// t.Time has not been changed since; with its offset otherwise.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	if t.Year() < 0 || t.Year() > 9999 {
		return nil, errors.New("probonus: time: year outside 0..9999")
	}
	if t.floating() {
		return []byte(`"` + t.Time.Format(wireLayout+".999999999") + `"`), nil
	}
	return []byte(`"` + t.Time.Format(time.RFC3339Nano) + `"`), nil
}

// formatWireTime writes t as the server expects it in requests: wall-clock time in loc, no offset.
func formatWireTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(wireLayout) }
