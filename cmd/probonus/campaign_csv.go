package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/probonus-go/probonus"
)

// csvReader reads a campaign file in the dialect a spreadsheet wrote it in: a UTF-8 BOM skipped
// and said, the separator told from the header line, every row whatever its width. lines counts
// the lines with text, which the records read must account for (rowReader.end). wide says the
// file is UTF-16 (a UTF-16 BOM, or NUL bytes in its first line), which is no CSV the tool reads.
func csvReader(in io.Reader) (r *csv.Reader, lines *lineCounter, comma rune, bom, wide bool) {
	lines = &lineCounter{r: in}
	br := bufio.NewReaderSize(lines, 64<<10)
	wide = utf16File(br)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\ufeff")) {
		bom = true
		_, _ = br.Discard(3)
	}
	comma = sniffComma(br)
	r = csv.NewReader(br)
	r.Comma = comma
	r.FieldsPerRecord = -1 // a row of another width is that row's problem, naming its line
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	return r, lines, comma, bom, wide
}

// utf16File reports whether a file is UTF-16, as Excel's "Unicode Text" and some exports write
// it: a UTF-16 BOM, or a NUL byte in its first line (every ASCII character's other half).
func utf16File(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Size())
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff}) {
		return true
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.IndexByte(b, 0) >= 0
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

// span is how many lines with text a record covers, as lineCounter counts them: one, and one more
// for each line break in its values, less the empty lines inside a quoted value (a reason with a
// paragraph break, "Отзыв:\n\nспасибо", covers two lines with text, not three). A value's first
// and last lines hold its quotes, so only a line between two of its line breaks can be empty.
func span(rec []string) int {
	n := 1
	for _, v := range rec {
		if !strings.Contains(v, "\n") {
			continue
		}
		lines := strings.Split(v, "\n")
		for _, l := range lines[1 : len(lines)-1] {
			if l != "" && l != "\r" {
				n++
			}
		}
		n++ // the value's last line, with its closing quote
	}
	return n
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

// blank reports whether a record holds only spaces, as the lines Excel ends a sheet with (";;;").
func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// separatorName names a file's separator.
func separatorName(comma rune) string {
	if comma == ';' {
		return "semicolon"
	}
	return "comma"
}

// resultsFile is --out: a row's result written as it ends, in the file's line order and the input's
// dialect (its separator, a decimal comma in a semicolon file, its BOM), through the scrubber.
type resultsFile struct {
	file   *os.File // nil for --out -: the results go to stdout, which the command does not close
	w      *redactingWriter
	csv    *csv.Writer
	kind   campaignKind
	comma  rune
	byID   string // the file's phone or account column
	closed bool
}

// stdoutName is the --out that names stdout, as every CSV tool reads "-".
const stdoutName = "-"

// openResults creates --out's file, or for "-" writes to stdout (without the input's BOM on a
// terminal, where it would show as junk).
func openResults(s *session, path string, f *campaignFile, kind campaignKind) (*resultsFile, error) {
	rf := &resultsFile{kind: kind, comma: f.comma, byID: f.idColumn}
	bom := f.bom
	if path == stdoutName {
		w, ok := s.stdout.(*redactingWriter)
		if !ok {
			w = s.secrets.writer(s.stdout)
		}
		rf.w = w
		if out := osFile(s.stdout); out != nil && terminal(out) {
			bom = false
		}
	} else {
		file, err := os.Create(path)
		if err != nil {
			return nil, usageErrorf("--out: %v", err)
		}
		rf.file, rf.w = file, s.secrets.writer(file)
	}
	if bom {
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
	if rf.file == nil {
		return err
	}
	if cerr := rf.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// negativeAmount is a number, not a formula, though it starts with a minus: -5, -5.00, -5,00.
var negativeAmount = regexp.MustCompile(`^-\d+([.,]\d+)?$`)

// formulaStarts are the characters a spreadsheet may take a formula to start with: OWASP's, and
// their full-width forms (＝ ＋ － ＠), which spreadsheets in CJK locales may read as the ASCII ones.
const formulaStarts = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"

// safeCell keeps a spreadsheet from running a cell as a formula (OWASP's CSV injection rule): a
// value starting with =, +, -, @ (or their full-width forms), a tab or a carriage return gets a
// leading single quote, and stays readable. A negative number is left as it is; "+7 916" written
// as it was read gets the quote too.
func safeCell(v string) string {
	first, _ := utf8.DecodeRuneInString(v)
	if v == "" || !strings.ContainsRune(formulaStarts, first) || negativeAmount.MatchString(v) {
		return v
	}
	return "'" + v
}
