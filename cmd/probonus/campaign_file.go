package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
)

// campaignKind is what a file's rows do: credit bonuses, or sign guests up.
type campaignKind int

const (
	refillCampaign campaignKind = iota
	signupCampaign
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

// knownColumns are the columns each kind reads; any other column is ignored, and said to be.
var knownColumns = map[campaignKind][]string{
	refillCampaign: {colPhone, colAccount, colAmount, colReason, colBurnDate},
	signupCampaign: {colPhone, colFirstName, colLastName, colMiddleName, colEmail, colGender, colBirthDate, colCard},
}

// campaignFile is a file read and checked: its dialect, so the results are written in it too,
// and its rows, each valid or with the problems that keep it from being sent.
type campaignFile struct {
	name     string
	comma    rune
	bom      bool
	idColumn string   // phone or account
	columns  []string // the columns read, in the file's order
	ignored  []string // the header's other columns
	rows     []campaignRow
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

// read reads and checks a whole file. A file that cannot be read as a campaign (no header, a
// required column missing, not UTF-8, broken quoting) is an error; a bad row is a problem of
// its own row, the others stay good.
func (cr campaignReader) read(name string, in io.Reader) (*campaignFile, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	f := &campaignFile{name: name}
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\ufeff")) {
		f.bom = true
		_, _ = br.Discard(3)
	}
	f.comma = sniffComma(br)
	r := csv.NewReader(br)
	r.Comma = f.comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true // a quote inside an unquoted reason (Отзыв о "Пекарне") is text
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, usageErrorf("%s is empty: want a header line such as %s", name, exampleHeader(cr.kind, ','))
	}
	if err != nil {
		return nil, fileErr(name, err)
	}
	header = slices.Clone(header) // the reader reuses its record
	cols, err := cr.header(f, header)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{} // a row's key → the line that has it first
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fileErr(name, err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue // Excel ends a sheet with ";;;" lines
		}
		for i, v := range rec {
			if !utf8.ValidString(v) {
				col := fmt.Sprintf("%d", i+1)
				if i < len(header) {
					col = header[i]
				}
				return nil, usageErrorf("%s line %d, column %s: not UTF-8 (Excel's \"CSV (comma delimited)\" writes Windows-1251: "+
					"save as \"CSV UTF-8 (comma delimited)\")", name, line, col)
			}
		}
		row := cr.row(line, cols, rec, f)
		if row.valid() {
			key := row.key()
			if first, dup := seen[key]; dup {
				row.problems = append(row.problems, rowProblem{line: line, msg: cr.duplicate(first)})
			} else {
				seen[key] = line
			}
		}
		f.rows = append(f.rows, row)
	}
	if len(f.rows) == 0 {
		return nil, usageErrorf("%s has a header and no rows", name)
	}
	return f, nil
}

func fileErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return usageErrorf("%s line %d: %v", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("reading %s: %w", name, err)
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

// headerName is a header cell as a column name: "Burn date" and "burn-date" are burn_date.
func headerName(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(v)
}

// header maps the columns read to their positions and checks the required ones are there.
func (cr campaignReader) header(f *campaignFile, header []string) (map[string]int, error) {
	cols := map[string]int{}
	known := map[string]bool{}
	for _, c := range knownColumns[cr.kind] {
		known[c] = true
	}
	if cr.kind == refillCampaign {
		known["account_id"] = true
	}
	for i, h := range header {
		name := headerName(h)
		if name == "account_id" {
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
	_, phone := cols[colPhone]
	_, account := cols[colAccount]
	switch {
	case cr.kind == signupCampaign && !phone:
		return nil, usageErrorf("%s: the header has no phone column (want %s)", f.name, exampleHeader(cr.kind, f.comma))
	case cr.kind == signupCampaign:
		f.idColumn = colPhone
		return cols, nil
	case phone && account:
		return nil, usageErrorf("%s: the header has both phone and account: keep one (rows are found by it)", f.name)
	case !phone && !account:
		return nil, usageErrorf("%s: the header has neither a phone nor an account column (want %s)", f.name, exampleHeader(cr.kind, f.comma))
	case phone:
		f.idColumn = colPhone
	default:
		f.idColumn = colAccount
	}
	for _, c := range []string{colAmount, colReason} {
		if _, ok := cols[c]; !ok {
			return nil, usageErrorf("%s: the header has no %s column (want %s)", f.name, c, exampleHeader(cr.kind, f.comma))
		}
	}
	return cols, nil
}

func exampleHeader(kind campaignKind, comma rune) string {
	cols := []string{colPhone, colAmount, colReason, colBurnDate}
	if kind == signupCampaign {
		cols = []string{colPhone, colFirstName, colLastName, colEmail}
	}
	return strings.Join(cols, string(comma))
}

// row reads and checks one record.
func (cr campaignReader) row(line int, cols map[string]int, rec []string, f *campaignFile) campaignRow {
	row := campaignRow{line: line}
	get := func(c string) (string, bool) {
		i, ok := cols[c]
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
	if cr.kind == signupCampaign {
		cr.guest(&row, get, bad)
		return row
	}
	row.rawAmount, _ = get(colAmount)
	if a, msg := parseCampaignAmount(row.rawAmount, f.comma); msg != "" {
		bad(colAmount, "%s", msg)
	} else {
		row.amount = a
	}
	row.reason, _ = get(colReason)
	if row.reason == "" {
		bad(colReason, "empty: the reason is shown in the guest's history, and a rerun finds the credit by it")
	}
	if v, ok := get(colBurnDate); ok && v != "" {
		d, err := parseFileDate(v)
		switch {
		case err != nil:
			bad(colBurnDate, "%q: want YYYY-MM-DD or DD.MM.YYYY", v)
		case d.Before(cr.today):
			bad(colBurnDate, "%s is in the past", d)
		default:
			row.burn = &d
		}
	}
	return row
}

// guest reads a signup row's optional fields.
func (cr campaignReader) guest(row *campaignRow, get func(string) (string, bool), bad func(c, format string, args ...any)) {
	g := &row.guest
	g.Phone = row.phone
	opt := func(c string) *string {
		if v, _ := get(c); v != "" {
			return &v
		}
		return nil
	}
	g.FirstName, g.LastName, g.MiddleName, g.Email = opt(colFirstName), opt(colLastName), opt(colMiddleName), opt(colEmail)
	if v := opt(colGender); v != nil {
		if gender, err := parseGender(*v); err != nil {
			bad(colGender, "%q: want male or female", *v)
		} else {
			g.Gender = &gender
		}
	}
	if v := opt(colBirthDate); v != nil {
		if d, err := parseFileDate(*v); err != nil {
			bad(colBirthDate, "%q: want YYYY-MM-DD or DD.MM.YYYY", *v)
		} else {
			g.BirthDate = &d
		}
	}
	if v := opt(colCard); v != nil {
		g.Identifiers = []probonus.Identifier{{Type: probonus.IdentifierCard, Value: *v}}
	}
}

// key is what makes two rows the same: RefillOnce's key (account or phone, reason, amount), or
// a sign-up's phone.
func (r *campaignRow) key() string {
	id := r.phone
	if id == "" {
		id = strconv.FormatInt(r.account, 10)
	}
	if r.reason == "" {
		return id
	}
	return id + "\x00" + r.reason + "\x00" + r.amount.Decimal().String()
}

func (cr campaignReader) duplicate(first int) string {
	if cr.kind == signupCampaign {
		return fmt.Sprintf("the same phone as line %d", first)
	}
	return fmt.Sprintf("the same guest, amount and reason as line %d: a second credit would be taken for the first one", first)
}

// groupedAmount is an amount with its thousands grouped by spaces, as Excel writes a formatted
// cell into CSV: "1 000,50" (the space may be a no-break one).
var groupedAmount = regexp.MustCompile(`^\d{1,3}([ \x{00A0}\x{202F}]\d{3})+([.,]\d+)?$`)

// parseCampaignAmount reads an amount as a spreadsheet writes it: "50", "50.00", and in a
// semicolon file the decimal comma, "50,00" and "1 000,50". In a comma file a comma inside a
// quoted amount is refused: "1,000" could be a thousand or one.
func parseCampaignAmount(v string, comma rune) (probonus.Amount, string) {
	if v == "" {
		return probonus.Amount{}, "empty"
	}
	s := v
	if groupedAmount.MatchString(s) {
		s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(s)
	}
	if strings.Contains(s, ",") {
		if comma != ';' || strings.Count(s, ",") > 1 || strings.Contains(s, ".") {
			return probonus.Amount{}, fmt.Sprintf("%q: a comma in an amount is read only in a semicolon file; write 50.00", v)
		}
		s = strings.Replace(s, ",", ".", 1)
	}
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
