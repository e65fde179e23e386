package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
	lines := &lineCounter{r: in}
	br := bufio.NewReaderSize(lines, 64<<10)
	f := &campaignFile{name: name}
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\ufeff")) {
		f.bom = true
		_, _ = br.Discard(3)
	}
	f.comma = sniffComma(br)
	r := csv.NewReader(br)
	r.Comma = f.comma
	r.FieldsPerRecord = -1 // a row of another width is that row's problem, naming its line
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
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

// span is how many lines a record covers: one, and one more for each line break in its values.
func span(rec []string) int {
	n := 1
	for _, v := range rec {
		n += strings.Count(v, "\n")
	}
	return n
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

// lineCounter counts the lines with text that pass through it, as encoding/csv tells them: a line
// holding nothing or a lone carriage return is blank.
type lineCounter struct {
	r     io.Reader
	lines int
	len   int  // the current line's length so far
	cr    bool // it is a lone carriage return so far
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			c.endLine()
			continue
		}
		c.len++
		c.cr = c.len == 1 && b == '\r'
	}
	return n, err
}

func (c *lineCounter) endLine() {
	if c.len > 0 && !(c.len == 1 && c.cr) {
		c.lines++
	}
	c.len, c.cr = 0, false
}

// nonEmpty is the lines with text, the last one (with no line break) included.
func (c *lineCounter) nonEmpty() int {
	n := c.lines
	if c.len > 0 && !(c.len == 1 && c.cr) {
		n++
	}
	return n
}

// notUTF8 refuses a record with a value that is not UTF-8, naming its line and column.
func notUTF8(name string, line int, rec, header []string) error {
	for i, v := range rec {
		if utf8.ValidString(v) {
			continue
		}
		where := fmt.Sprintf("%s line %d", name, line)
		if header != nil {
			col := strconv.Itoa(i + 1)
			if i < len(header) && utf8.ValidString(header[i]) {
				col = strings.TrimSpace(header[i])
			}
			where += ", column " + col
		}
		return usageErrorf("%s: not UTF-8 (Excel's \"CSV (comma delimited)\" writes Windows-1251: "+
			"save as \"CSV UTF-8 (comma delimited)\")", where)
	}
	return nil
}

// quoteExample is how a quote is written inside a value.
const quoteExample = `"Отзыв о ""Пекарне"""`

// fileErr says what is wrong with a file that cannot be read as CSV, naming the line.
func fileErr(name string, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		return usageErrorf("%s line %d: a quote opens a value and is not closed where the value ends, so the lines after it "+
			"would be read into it: close it, and write a quote inside a quoted value as two, %s", name, pe.StartLine, quoteExample)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return usageErrorf("%s line %d: a quote inside a value that is not quoted: quote the value and write the quote as two, %s",
			name, pe.Line, quoteExample)
	}
	return usageErrorf("%s line %d: %v", name, pe.Line, pe.Err)
}

// sniffComma tells a semicolon file (Excel in a Russian locale, whose decimal separator is the
// comma) from a comma one by the header line: the separator it has more of.
func sniffComma(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if bytes.Count(b, []byte(";")) > bytes.Count(b, []byte(",")) {
		return ';'
	}
	return ','
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
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

// separatorName names a file's separator.
func separatorName(comma rune) string {
	if comma == ';' {
		return "semicolon"
	}
	return "comma"
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

// plainErr is an SDK error's text without its package prefix, for a line that names its row.
func plainErr(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(strings.TrimPrefix(msg, "probonus: "), ": probonus: ", ": ")
	return strings.Join(strings.Fields(msg), " ")
}

// resultsFile is --out: a row's result written as it ends, in the file's line order and the input's
// dialect (its separator, a decimal comma in a semicolon file, its BOM), through the scrubber.
type resultsFile struct {
	file   *os.File
	w      *redactingWriter
	csv    *csv.Writer
	kind   campaignKind
	comma  rune
	byID   string // the file's phone or account column
	closed bool
}

func openResults(s *session, path string, f *campaignFile, kind campaignKind) (*resultsFile, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, usageErrorf("--out: %v", err)
	}
	rf := &resultsFile{file: file, w: s.secrets.writer(file), kind: kind, comma: f.comma, byID: f.idColumn}
	if f.bom {
		_, _ = rf.w.Write([]byte("\ufeff"))
	}
	rf.csv = csv.NewWriter(rf.w)
	rf.csv.Comma = f.comma
	header := append(append([]string{"line", "phone", "account"}, kind.resultColumns()...), "error")
	if err := rf.csv.Write(header); err != nil {
		return nil, err
	}
	rf.csv.Flush()
	return rf, rf.csv.Error()
}

func (rf *resultsFile) amount(a probonus.Amount) string {
	if rf.comma == ';' {
		return strings.Replace(money(a), ".", ",", 1)
	}
	return money(a)
}

// write writes one row's result and flushes it, so the file holds every row ended so far. A phone
// that reads is written as its digits (79161234567), which a spreadsheet neither runs nor needs
// quoted; a cell it would run as a formula is quoted (safeCell).
func (rf *resultsFile) write(row *campaignRow, res rowResult, errText string) error {
	phone, account := row.phone, id(res.account)
	switch {
	case rf.byID == colPhone && phone == "":
		phone = row.rawID // a phone that did not read, as written
	case rf.byID == colAccount && row.account == 0:
		account = row.rawID
	case rf.byID == colAccount && account == "":
		account = id(row.account)
	}
	rec := append([]string{strconv.Itoa(row.line), phone, account}, rf.kind.resultCells(rf, row, res)...)
	rec = append(rec, errText)
	for i, v := range rec {
		rec[i] = safeCell(v)
	}
	if err := rf.csv.Write(rec); err != nil {
		return err
	}
	rf.csv.Flush()
	return rf.csv.Error()
}

func (rf *resultsFile) close() error {
	if rf.closed {
		return nil
	}
	rf.closed = true
	rf.csv.Flush()
	rf.w.flush()
	err := rf.csv.Error()
	if cerr := rf.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// negativeAmount is a number, not a formula, though it starts with a minus: -5, -5.00, -5,00.
var negativeAmount = regexp.MustCompile(`^-\d+([.,]\d+)?$`)

// safeCell keeps a spreadsheet from running a cell as a formula (OWASP's CSV injection rule): a
// value starting with =, +, -, @, a tab or a carriage return gets a leading single quote, and stays
// readable. A negative number is left as it is; "+7 916" written as it was read gets the quote too.
func safeCell(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) || negativeAmount.MatchString(v) {
		return v
	}
	return "'" + v
}
