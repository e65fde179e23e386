package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/probonus-go/probonus"
)

// The columns a file is read by, named by its header (case, spaces and dashes aside).
const (
	colPhone      = "phone"
	colAccount    = "account"
	colAmount     = "amount"
	colReason     = "reason"
	colBurnDate   = "burn_date"
	colFirstName  = "first_name"
	colLastName   = "last_name"
	colMiddleName = "middle_name"
	colEmail      = "email"
	colGender     = "gender"
	colBirthDate  = "birth_date"
	colCard       = "card"
)

// campaignFile is a file's header and dialect, so the results are written in it too, and what
// checking its rows found: their count, their total, the first of their problems. The rows are
// not kept: a run reads them again, one at a time, so a file of any length runs in bounded memory.
type campaignFile struct {
	name     string
	comma    rune
	bom      bool
	width    int      // the header's number of values: every row has as many
	header   []string // the header's cells, as written
	idColumn string   // phone or account
	columns  []string // the columns read, in the file's order
	ignored  []string // the header's other columns
	cols     map[string]int

	rows      int             // the rows of data, blank lines aside
	valid     int             // the rows that can be sent
	sum       probonus.Amount // the total of their amounts
	bad       int             // the rows that cannot
	problems  []rowProblem    // the first listedRows of their problems
	nProblems int             // all of their problems
	prints    []uint64        // each row's fingerprint: a second reading must find the same rows
}

// campaignRow is one line of data. The raw values are kept for the results file.
type campaignRow struct {
	line      int
	rawID     string // the phone or account as written
	rawAmount string
	phone     string // normalised; "" in a file by account
	account   int64
	amount    probonus.Amount
	reason    string
	burn      *probonus.Date
	guest     probonus.NewAccount // signup: all but the group
	problems  []rowProblem        // nil: the row can be sent
}

func (r *campaignRow) valid() bool { return len(r.problems) == 0 }

// rowProblem is why a row is not sent: its line, its column ("" for the whole row) and what is wrong.
type rowProblem struct {
	line   int
	column string
	msg    string
}

func (p rowProblem) String() string {
	if p.column == "" {
		return fmt.Sprintf("line %d: %s", p.line, p.msg)
	}
	return fmt.Sprintf("line %d, column %s: %s", p.line, p.column, p.msg)
}

// campaignReader reads a file for one kind of campaign; normalize is the client's phone rule,
// today the server's date (a burn date before it is a mistake).
type campaignReader struct {
	kind      campaignKind
	normalize func(string) (string, error)
	today     probonus.Date
}

// check reads a whole file and checks every row, keeping only what the rows add up to. A file
// that cannot be read as a campaign (no header, a required column missing, not UTF-8, a quote
// that does not close, lines the rows do not account for) is an error; a bad row is a problem of
// its own row, the others stay good.
func (cr campaignReader) check(name string, in io.Reader) (*campaignFile, error) {
	f, rr, err := cr.open(name, in, nil)
	if err != nil {
		return nil, err
	}
	for {
		row, err := rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		f.rows++
		f.prints = append(f.prints, rr.print)
		if row.valid() {
			f.valid++
			f.sum = f.sum.Add(row.amount)
			continue
		}
		f.bad++
		f.nProblems += len(row.problems)
		if n := listedRows - len(f.problems); n > 0 {
			f.problems = append(f.problems, row.problems[:min(n, len(row.problems))]...)
		}
	}
	if f.rows == 0 {
		return nil, usageErrorf("%s has a header and no rows", name)
	}
	return f, nil
}

// rowReader reads a file's rows one at a time, each checked, a repeated one flagged.
type rowReader struct {
	cr    campaignReader
	f     *campaignFile
	r     *csv.Reader
	lines *lineCounter
	spans int // the lines the records read so far cover
	seen  map[[2]uint64]int
	seeds [2]maphash.Seed
	print uint64   // the last row's fingerprint
	want  []uint64 // the fingerprints a first reading found; nil: this is the first
	n     int      // the rows read
}

// open reads a file's header. want is what check found, for a second reading of the same file:
// a row that differs from it (the file was changed in between) is an error.
func (cr campaignReader) open(name string, in io.Reader, want *campaignFile) (*campaignFile, *rowReader, error) {
	f := &campaignFile{name: name}
	r, lines, comma, bom, wide := csvReader(in)
	f.comma, f.bom = comma, bom
	if wide {
		return nil, nil, usageErrorf("%s is UTF-16 (Excel's \"Unicode Text\" writes it), not UTF-8: "+
			"save as \"CSV UTF-8 (comma delimited)\"", name)
	}
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, usageErrorf("%s is empty: want a header line such as %s", name, cr.kind.example(','))
	}
	if err != nil {
		return nil, nil, fileErr(name, err)
	}
	// Before the header is read as names: a header that is not UTF-8 is a file saved as
	// Windows-1251, which the hint fixes, not a header without the columns.
	if err := notUTF8(name, 1, header, nil); err != nil {
		return nil, nil, err
	}
	f.header, f.width = slices.Clone(header), len(header) // the reader reuses its record
	if f.cols, err = cr.header(f, f.header); err != nil {
		return nil, nil, err
	}
	rr := &rowReader{cr: cr, f: f, r: r, lines: lines, spans: span(header), seen: map[[2]uint64]int{}}
	for i := range rr.seeds {
		rr.seeds[i] = maphash.MakeSeed()
	}
	if want != nil {
		rr.want = want.prints
	}
	return f, rr, nil
}

// next returns the next row, io.EOF after the last.
func (rr *rowReader) next() (campaignRow, error) {
	f := rr.f
	for {
		rec, err := rr.r.Read()
		if errors.Is(err, io.EOF) {
			return campaignRow{}, rr.end()
		}
		if err != nil {
			return campaignRow{}, fileErr(f.name, err)
		}
		rr.spans += span(rec)
		line, _ := rr.r.FieldPos(0)
		if blank(rec) {
			continue // Excel ends a sheet with ";;;" lines
		}
		if err := notUTF8(f.name, line, rec, f.header); err != nil {
			return campaignRow{}, err
		}
		rr.print = rr.fingerprint(line, rec)
		if rr.want != nil {
			if rr.n >= len(rr.want) || rr.want[rr.n] != rr.print {
				return campaignRow{}, fmt.Errorf("%s changed since it was checked (line %d differs): the rows from it on were not read; run the same file again", f.name, line)
			}
		}
		rr.n++
		row := rr.cr.row(line, rec, f)
		if row.valid() {
			key := rr.key(&row)
			if first, dup := rr.seen[key]; dup {
				row.problems = append(row.problems, rowProblem{line: line, msg: rr.cr.kind.duplicate(first)})
			} else {
				rr.seen[key] = line
			}
		}
		return row, nil
	}
}

// end checks, at the end of the file, that the rows read account for every line that is not
// blank, and on a second reading that no row is missing.
func (rr *rowReader) end() error {
	f := rr.f
	if got, want := rr.spans, rr.lines.nonEmpty(); got != want {
		return usageErrorf("%s: %d lines are not blank, but the rows read cover %d: the file is not read as it was meant; check its quotes", f.name, want, got)
	}
	if rr.want != nil && rr.n != len(rr.want) {
		return fmt.Errorf("%s changed since it was checked (%d rows, then %d): run the same file again", f.name, len(rr.want), rr.n)
	}
	return io.EOF
}

// key is what makes two rows the same, hashed (128 bits: a false match is out of reach): RefillOnce's
// key (account or phone, reason, amount), or a sign-up's phone.
func (rr *rowReader) key(r *campaignRow) [2]uint64 {
	k := rr.cr.kind.key(r)
	return [2]uint64{maphash.String(rr.seeds[0], k), maphash.String(rr.seeds[1], k)}
}

// fingerprint is a record's hash with its line, to tell a second reading found the same row.
func (rr *rowReader) fingerprint(line int, rec []string) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, strconv.Itoa(line))
	for _, v := range rec {
		_, _ = h.Write([]byte{0})
		_, _ = io.WriteString(h, v)
	}
	return h.Sum64()
}

// headerName is a header cell as a column name: "Burn date", "burn-date" and "Дата сгорания" are
// burn_date.
func headerName(v string) string {
	v = strings.ToLower(strings.Join(strings.Fields(v), " "))
	v = strings.NewReplacer(" ", "_", "-", "_", "ё", "е").Replace(v)
	if name, ok := russianColumns[v]; ok {
		return name
	}
	return v
}

// russianColumns are the columns' names as a Russian spreadsheet heads them (lower case, spaces
// as underscores, ё as е).
var russianColumns = map[string]string{
	"телефон":       colPhone,
	"счет":          colAccount,
	"сумма":         colAmount,
	"причина":       colReason,
	"дата_сгорания": colBurnDate,
	"имя":           colFirstName,
	"фамилия":       colLastName,
	"отчество":      colMiddleName,
	"почта":         colEmail,
	"пол":           colGender,
	"дата_рождения": colBirthDate,
	"карта":         colCard,
}

// header maps the columns read to their positions; the kind checks the ones it needs are there.
func (cr campaignReader) header(f *campaignFile, header []string) (map[string]int, error) {
	cols := map[string]int{}
	known := map[string]bool{}
	for _, c := range cr.kind.columns() {
		known[c] = true
	}
	for i, h := range header {
		name := headerName(h)
		if name == "account_id" && known[colAccount] {
			name = colAccount
		}
		if !known[name] {
			if name != "" {
				f.ignored = append(f.ignored, strings.TrimSpace(h))
			}
			continue
		}
		if _, dup := cols[name]; dup {
			return nil, usageErrorf("%s: the header has the column %s twice", f.name, name)
		}
		cols[name] = i
		f.columns = append(f.columns, name)
	}
	if err := cr.kind.header(f, cols); err != nil {
		return nil, err
	}
	return cols, nil
}

// row reads and checks one record.
func (cr campaignReader) row(line int, rec []string, f *campaignFile) campaignRow {
	row := campaignRow{line: line}
	get := func(c string) (string, bool) {
		i, ok := f.cols[c]
		if !ok {
			return "", false
		}
		if i >= len(rec) {
			return "", true
		}
		return strings.TrimSpace(rec[i]), true
	}
	bad := func(c, format string, args ...any) {
		row.problems = append(row.problems, rowProblem{line: line, column: c, msg: fmt.Sprintf(format, args...)})
	}
	row.rawID, _ = get(f.idColumn)
	if len(rec) != f.width {
		// The values are not where the header says: an unquoted 1,000 is two of them.
		row.rawAmount, _ = get(colAmount)
		row.reason, _ = get(colReason)
		msg := fmt.Sprintf("%d values where the header has %d", len(rec), f.width)
		if len(rec) > f.width {
			msg += fmt.Sprintf(" (a %s inside a value that is not quoted splits it in two: quote the value, "+
				"and write an amount without a thousands separator, such as 1000)", separatorName(f.comma))
		}
		row.problems = []rowProblem{{line: line, msg: msg}}
		return row
	}
	switch {
	case row.rawID == "":
		bad(f.idColumn, "empty")
	case f.idColumn == colPhone:
		p, err := cr.normalize(row.rawID)
		if err != nil {
			bad(colPhone, "%q: %s", row.rawID, plainErr(err))
		}
		row.phone = p
	default:
		n, err := strconv.ParseInt(row.rawID, 10, 64)
		if err != nil || n <= 0 {
			bad(colAccount, "%q: want an account number such as 1001", row.rawID)
		}
		row.account = n
	}
	cr.kind.parse(cr, &row, f, get, bad)
	return row
}
