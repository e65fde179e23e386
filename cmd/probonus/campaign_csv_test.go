package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// issue 26 item 4: a text cell of --out that a spreadsheet would run as a formula starts with a
// quote; a phone that reads is written as its digits, which need none; numbers stay numbers.
func TestCampaignResultsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", "phone,amount,reason\n"+
		"+7 916 123-45-67,50,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\"\n"+
		"@SUM(1+1),10,Ноябрь\n"+
		"+7 916 123-45-67,-5,Ноябрь\n"+
		"+7 916 123-45-67,7,+1 бонус\n"+
		"+7 916 123-45-67,8,-минус\n")
	s, _, _ := testSession(t, srv)
	o := testOptions(refillCampaign, path)
	o.out = filepath.Join(filepath.Dir(path), "results.csv")
	err := runCampaign(context.Background(), s, o)
	assert.Equal(t, exitFailed, exitCode(err))
	_, rows := readResults(t, o.out)
	assert.Equal(t, `'=HYPERLINK("http://evil.example/","x")`, rows["2"]["reason"])
	assert.Equal(t, "79161234567", rows["2"]["phone"], "a phone that reads is its digits")
	assert.Equal(t, "'@SUM(1+1)", rows["3"]["phone"])
	assert.Equal(t, "-5", rows["4"]["amount"], "a number is not a formula")
	assert.Equal(t, "'+1 бонус", rows["5"]["reason"])
	assert.Equal(t, "'-минус", rows["6"]["reason"])
	for line, row := range rows {
		for col, v := range row {
			if v != "" && strings.ContainsRune("=+@\t\r", rune(v[0])) {
				t.Errorf("line %s, column %s: %q starts a formula", line, col, v)
			}
		}
	}
}

// issue 26 item 4: the rule itself, for every character OWASP names.
func TestSafeCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-x": "'-x", "@a": "'@a", "\tx": "'\tx", "\rx": "'\rx",
		"-5": "-5", "-5,00": "-5,00", "+7": "'+7", "x=1": "x=1", "": "", "79161234567": "79161234567", "-": "'-",
	} {
		assert.Equal(t, want, safeCell(in), "%q", in)
	}
}

// TestCampaignFileDialects: the dialects a spreadsheet writes read to the same rows.
func TestCampaignFileDialects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		comma      rune
		bom        bool
	}{
		{"comma", "phone,amount,reason\n+7 916 123-45-67,50.00,Ноябрь\n", ',', false},
		{"semicolon, BOM, decimal comma", "\ufeffphone;amount;reason\r\n89161234567;50,00;Ноябрь\r\n", ';', true},
		{"header in other case and order, quoted, padded", "Reason , PHONE,Amount\n\"Ноябрь\", 79161234567 , \"50\"\n", ',', false},
		{"blank lines as Excel ends a sheet", "phone;amount;reason\n;;\n79161234567;50;Ноябрь\n;;\n", ';', false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := testReader(refillCampaign).read("c.csv", strings.NewReader(tc.text))
			require.NoError(t, err)
			assert.Equal(t, tc.comma, f.comma)
			assert.Equal(t, tc.bom, f.bom)
			require.Len(t, f.rows, 1)
			row := f.rows[0]
			assert.Empty(t, row.problems)
			assert.Equal(t, "79161234567", row.phone)
			assert.Equal(t, "50.00", row.amount.String())
			assert.Equal(t, "Ноябрь", row.reason)
		})
	}
}

// issue 26 item 1: a quote that opens a field and never closes, or a bare quote inside an
// unquoted value, refuses the whole file naming its line: it never swallows the rows after it.
func TestCampaignFileStrayQuote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unterminated", "phone;amount;reason\n79161234567;50;Ноябрь\n79161234568;50;\"Отзыв\n79161234569;50;Ноябрь\n79161234560;50;Ноябрь\n",
			"c.csv line 3: a quote opens a value and is not closed where the value ends"},
		{"unterminated, closed by a later quoted value", "phone,amount,reason\n79161234568,50,\"Отзыв\n79161234569,50,\"Ноябрь\"\n",
			"c.csv line 2"},
		{"bare quote", "phone;amount;reason\n79161234567;50;Ноябрь\n79161234568;50;Отзыв о \"Пекарне\"\n",
			"c.csv line 3: a quote inside a value that is not quoted"},
		{"in the header", "phone;amount;\"reason\n79161234567;50;Ноябрь\n", "c.csv line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := testReader(refillCampaign).read("c.csv", strings.NewReader(tc.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, exitUsage, exitCode(err))
		})
	}
}

// issue 26 item 1: a value quoted across lines, as Excel writes a reason with a line break, is
// still one row; the rows and the blank lines account for every line.
func TestCampaignFileLinesAccounted(t *testing.T) {
	t.Parallel()
	text := "phone;amount;reason\n\n79161234567;50;\"Отзыв\nо \"\"Пекарне\"\"\"\n\n79161234568;50;Ноябрь\n;;\n"
	f, err := testReader(refillCampaign).read("c.csv", strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, f.rows, 2)
	assert.Equal(t, "Отзыв\nо \"Пекарне\"", f.rows[0].reason)
	assert.Equal(t, []int{3, 6}, []int{f.rows[0].line, f.rows[1].line})
}

// issue 26 item 14: a file saved as Windows-1251 gets the hint to save it as UTF-8, even when
// its header (in Russian) is what does not read.
func TestCampaignFileWindows1251Header(t *testing.T) {
	t.Parallel()
	text := "\xd2\xe5\xeb\xe5\xf4\xee\xed;\xd1\xf3\xec\xec\xe0;\xcf\xf0\xe8\xf7\xe8\xed\xe0\n79161234567;50;\xcd\xee\xff\xe1\xf0\xfc\n"
	_, err := testReader(refillCampaign).read("c.csv", strings.NewReader(text))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `c.csv line 1: not UTF-8 (Excel's "CSV (comma delimited)" writes Windows-1251: save as "CSV UTF-8 (comma delimited)")`)
	assert.NotContains(t, err.Error(), "header")
}

// issue 26 item 1: the lines a file has, as encoding/csv tells them (a line of nothing or a lone
// carriage return is blank), which the rows read must account for.
func TestLineCounter(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]int{
		"":                       0,
		"a\n":                    1,
		"a":                      1,
		"a\r\n\r\nb\r\n":         2,
		"a\n\n\nb\nc":            3,
		"a\n \n\r\n;;\n\"x\ny\"": 5,
	} {
		c := &lineCounter{r: strings.NewReader(text)}
		_, err := io.Copy(io.Discard, c)
		require.NoError(t, err)
		assert.Equal(t, want, c.nonEmpty(), "%q", text)
	}
}

// From the adversarial review of issue 26 (item 1): a record covers as many lines with text as
// lineCounter counts for it, whatever blank lines its quoted values hold (LF and CRLF alike).
func TestSpanCountsTheLinesWithText(t *testing.T) {
	t.Parallel()
	for _, rec := range [][]string{
		{"1", "5", "Отзыв"},
		{"1", "5", "Отзыв:\nспасибо"},
		{"1", "5", "Отзыв:\n\nспасибо"},
		{"1", "5", "Отзыв:\n\n\n\nспасибо"},
		{"1", "5", "\nОтзыв\n"},
		{"1", "5", "\n\n"},
		{"1\n\n2", "5", "a\n \nb"},
	} {
		for _, crlf := range []bool{false, true} {
			var b strings.Builder
			w := csv.NewWriter(&b)
			w.UseCRLF = crlf
			require.NoError(t, w.Write(rec))
			w.Flush()
			c := &lineCounter{r: strings.NewReader(b.String())}
			_, err := io.Copy(io.Discard, c)
			require.NoError(t, err)
			assert.Equal(t, c.nonEmpty(), span(rec), "%q", b.String())
		}
	}
}

// From the adversarial review of issue 26 (item 1).
// issue 26 item 1: a quoted reason holding an empty line is valid CSV, read as one row; the check
// that the rows account for every non-empty line must count the record's lines the same way.
// It was: "3 lines are not blank, but the rows read cover 4: ... check its quotes", exit 2, for a
// file with nothing wrong (LF and CRLF alike).
func TestReview26QuotedBlankLineIsRead(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	for _, eol := range []string{"\n", "\r\n"} {
		text := fmt.Sprintf("account,amount,reason%[1]s%[2]d,5,\"Отзыв:%[1]s%[1]sспасибо\"%[1]s", eol, f.account)
		path := writeCSV(t, "c.csv", text)
		r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--dry-run")
		assert.Equal(t, exitOK, r.code, "%q: %s%s", eol, r.stdout, r.stderr)
		assert.Contains(t, r.stdout, "Would credit up to 5.00 in all: 1 row;", "%q", eol)
	}
}

// From the adversarial review of issue 26 (item 5).
// issue 26 item 5: "--out -" is read by every CSV tool as stdout. The CLI created a file named
// "-" in the working directory (the results a user wanted to see vanished into a file that is
// awkward to remove). The results go to stdout, alone, and the summary to stderr.
// Not parallel: it changes the working directory.
func TestReview26OutDashIsNoFileNamedDash(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	srv, f := newServer(t, probonustest.Modern)
	path := writeCSV(t, "c.csv", fmt.Sprintf("account,amount,reason\n%d,5,Отзыв\n", f.account))
	r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", "-")
	_, err := os.Stat(filepath.Join(dir, "-"))
	assert.True(t, os.IsNotExist(err), "--out - created a file named \"-\" (exit %d)", r.code)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "line,phone,account,amount,reason,status,transaction,balance,error\n"), "--out - writes the results to stdout:\n%s", r.stdout)
	assert.Equal(t, 2, strings.Count(r.stdout, "\n"), "stdout holds the CSV alone:\n%s", r.stdout)
	assert.Contains(t, r.stderr, "Credited 5.00 in all by this run.", "the summary goes to stderr")
}

// From the adversarial review of issue 26 (item 4).
// issue 26 item 4 (arguable: OWASP names the ASCII characters): a full-width equals, plus, minus
// or at sign at a cell's start (＝ U+FF1D, ＋ U+FF0B, － U+FF0D, ＠ U+FF20) is converted to its
// ASCII form by spreadsheets in CJK locales and run as a formula. They were written unchanged.
func TestReview26FullWidthFormula(t *testing.T) {
	t.Parallel()
	srv, f := newServer(t, probonustest.Modern)
	var b strings.Builder
	b.WriteString("account,amount,reason\n")
	reasons := []string{"＝HYPERLINK(\"\"http://evil.example\"\")", "＋1+cmd", "－1+cmd", "＠SUM(1)"}
	for i, reason := range reasons {
		fmt.Fprintf(&b, "%d,%d,\"%s\"\n", f.account, i+1, reason)
	}
	path := writeCSV(t, "c.csv", b.String())
	out := filepath.Join(filepath.Dir(path), "results.csv")
	r := runCLI(t, keyEnv(srv), "refill", "--file", path, "--yes", "--out", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	_, rows := readResults(t, out)
	for i := range reasons {
		v := rows[fmt.Sprint(i+2)]["reason"]
		assert.False(t, strings.ContainsRune("＝＋－＠", []rune(v)[0]), "line %d: %q starts a formula", i+2, v)
	}
}

// From the adversarial review of issue 26 (item 14, noticed): a UTF-16 file (Excel's "Unicode
// Text") got the hint naming Windows-1251; it is told as UTF-16, with or without its BOM.
func TestCampaignFileUTF16(t *testing.T) {
	t.Parallel()
	text := "phone,amount,reason\n79161234567,50,Ноябрь\n"
	u := utf16.Encode([]rune(text))
	for _, bom := range []bool{true, false} {
		var b []byte
		if bom {
			b = append(b, 0xff, 0xfe)
		}
		for _, c := range u {
			b = append(b, byte(c), byte(c>>8))
		}
		_, err := testReader(refillCampaign).read("c.csv", bytes.NewReader(b))
		require.Error(t, err, "BOM %v", bom)
		assert.Equal(t, exitUsage, exitCode(err))
		assert.Contains(t, err.Error(), `c.csv is UTF-16 (Excel's "Unicode Text" writes it), not UTF-8: save as "CSV UTF-8 (comma delimited)"`, "BOM %v", bom)
		assert.NotContains(t, err.Error(), "1251")
	}
}
