package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
)

// printJSON writes v as indented JSON: the SDK's types keep their wire names, which are stable.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table is aligned columns; right-aligned ones (money, counts) are padded to their width first, so
// tabwriter's left alignment keeps them flush right.
type table struct {
	titles []string // nil: no header line
	right  []bool
	rows   [][]string
}

// newTable makes a table; a title ending in ">" is a right-aligned column, the ">" dropped.
func newTable(titles ...string) *table {
	t := &table{right: make([]bool, len(titles))}
	for i, title := range titles {
		if strings.HasSuffix(title, ">") {
			t.right[i] = true
			titles[i] = strings.TrimSuffix(title, ">")
		}
	}
	t.titles = titles
	return t
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	rows := t.rows
	if t.titles != nil && !allEmpty(t.titles) {
		rows = append([][]string{t.titles}, rows...)
	}
	widths := make([]int, len(t.right))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		for i, c := range r {
			if t.right[i] {
				c = strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)) + c
			}
			if i > 0 {
				_, _ = io.WriteString(tw, "\t")
			}
			_, _ = io.WriteString(tw, c)
		}
		_, _ = io.WriteString(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeTrimmed(w, buf.String())
}

func allEmpty(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return false
		}
	}
	return true
}

// writeTrimmed writes text without the spaces tabwriter leaves at the end of a line whose last
// cells are empty.
func writeTrimmed(w io.Writer, text string) error {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for _, l := range lines {
		nl := strings.HasSuffix(l, "\n")
		b.WriteString(strings.TrimRight(l, " \n"))
		if nl {
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fields is a block of "name  value" lines. Money values are padded to the widest of them, so
// their decimal points line up while text values stay left-aligned.
type fields struct {
	rows  [][2]string
	money []bool
}

func newFields() *fields { return &fields{} }

// add adds a line when the value is not empty.
func (f *fields) add(name, value string) {
	if value != "" {
		f.rows = append(f.rows, [2]string{name, value})
		f.money = append(f.money, false)
	}
}

// addMoney adds a line with an amount, always (a zero balance is news).
func (f *fields) addMoney(name string, a probonus.Amount) {
	f.rows = append(f.rows, [2]string{name, money(a)})
	f.money = append(f.money, true)
}

func (f *fields) write(w io.Writer) error {
	width := 0
	for i, r := range f.rows {
		if f.money[i] {
			width = max(width, utf8.RuneCountInString(r[1]))
		}
	}
	t := newTable("", "")
	for i, r := range f.rows {
		v := r[1]
		if f.money[i] {
			v = strings.Repeat(" ", width-utf8.RuneCountInString(v)) + v
		}
		t.add(r[0], v)
	}
	return t.write(w)
}

// money formats an amount with two decimals: "150.50".
func money(a probonus.Amount) string { return a.String() }

// number formats a quantity or a percentage without trailing zeros: "0.5", "5".
func number(a probonus.Amount) string { return a.Decimal().String() }

// stamp formats a server time in the client's location (the server's own): "2026-02-16 09:42".
func stamp(t probonus.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04")
}

// date formats a date, "" when unset.
func date(d probonus.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// id formats an id, "" when zero.
func id(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// join joins the non-empty parts with sep.
func join(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
