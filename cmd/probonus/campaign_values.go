package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/probonus-go/probonus"
)

// groupedAmount is an amount with its thousands grouped by spaces, as Excel writes a formatted
// cell into CSV: "1 000,50" (the space may be a no-break one).
var groupedAmount = regexp.MustCompile(`^\d{1,3}([ \x{00A0}\x{202F}]\d{3})+([.,]\d+)?$`)

// thousandsGroup is a number that a separator before three digits may split into thousands:
// 1,000 or 12.500 (a group never starts with 0: 0.125 is a fraction).
var thousandsGroup = regexp.MustCompile(`^[1-9]\d{0,2}[.,]\d{3}$`)

// parseCampaignAmount reads an amount as a spreadsheet writes it: "50", "50.00", and in a
// semicolon file the decimal comma, "50,00" and "1 000,50". A separator that could be either a
// decimal or a thousands one is refused, saying what to write: "1,000" in a comma file, "1.000" in
// a semicolon file (a thousand, as some locales write it, or one).
func parseCampaignAmount(v string, comma rune) (probonus.Amount, string) {
	if v == "" {
		return probonus.Amount{}, "empty"
	}
	s := v
	if groupedAmount.MatchString(s) {
		s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(s)
	}
	decimal, rule := ".", "a comma in an amount is read only in a semicolon file"
	if comma == ';' {
		decimal, rule = ",", "in a semicolon file the decimal separator is the comma"
	}
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	switch {
	case dots+commas > 1 && (commas > 0 || comma == ';'):
		return probonus.Amount{}, fmt.Sprintf("%q: %s: write the amount without a thousands separator, %s", v, rule, ungrouped(s, decimal))
	case commas == 1 && comma != ';', dots == 1 && comma == ';':
		if thousandsGroup.MatchString(s) {
			one, _ := probonus.ParseAmount(strings.ReplaceAll(s, ",", "."))
			why, point := "and before three digits it may separate thousands", "the decimal point"
			if comma == ';' {
				why, point = "and a dot before three digits may separate thousands", "the decimal comma"
			}
			return probonus.Amount{}, fmt.Sprintf("%q: %s, %s: write %s (no separator) or %s (%s)",
				v, rule, why, strings.NewReplacer(".", "", ",", "").Replace(s), strings.Replace(one.String(), ".", decimal, 1), point)
		}
		if comma != ';' {
			return probonus.Amount{}, fmt.Sprintf("%q: %s: write %s", v, rule, strings.Replace(s, ",", ".", 1))
		}
	}
	s = strings.Replace(s, ",", ".", 1)
	a, err := probonus.ParseAmount(s)
	switch {
	case err != nil || strings.ContainsAny(s, "eE"):
		return probonus.Amount{}, fmt.Sprintf("%q: want a number such as 50 or 12.50", v)
	case a.Sign() <= 0:
		return probonus.Amount{}, fmt.Sprintf("%q: must be positive", v)
	case !a.Decimal().Shift(2).IsInteger():
		return probonus.Amount{}, fmt.Sprintf("%q has a fraction of a kopeck", v)
	}
	return a, ""
}

// ungrouped is an amount with more than one separator written without its thousands separators:
// the last separator is the decimal one when the separators differ, else there is none.
func ungrouped(s, decimal string) string {
	digits := strings.NewReplacer(".", "", ",", "")
	last := strings.LastIndexAny(s, ".,")
	if strings.Count(s, s[last:last+1]) > 1 {
		return digits.Replace(s)
	}
	return digits.Replace(s[:last]) + decimal + s[last+1:]
}

// parseFileDate reads YYYY-MM-DD, or DD.MM.YYYY as Excel writes a date in a Russian locale.
func parseFileDate(v string) (probonus.Date, error) {
	if d, m, y, ok := splitDotted(v); ok {
		v = y + "-" + m + "-" + d
	}
	return probonus.ParseDate(v)
}

func splitDotted(v string) (d, m, y string, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || len(parts[2]) != 4 {
		return "", "", "", false
	}
	pad := func(s string) string {
		if len(s) == 1 {
			return "0" + s
		}
		return s
	}
	return pad(parts[0]), pad(parts[1]), parts[2], true
}
