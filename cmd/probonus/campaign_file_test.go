package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

func testReader(kind campaignKind) campaignReader {
	return campaignReader{kind: kind, normalize: probonus.NormalizePhone, today: probonus.Date{Year: 2026, Month: 1, Day: 15}}
}

// readFile is a file checked and then read row by row, as a run reads it, its rows kept.
type readFile struct {
	*campaignFile
	rows []campaignRow
}

// read checks a file and reads its rows again, as a run does.
func (cr campaignReader) read(name string, in io.ReadSeeker) (readFile, error) {
	checked, err := cr.check(name, in)
	if err != nil {
		return readFile{}, err
	}
	_, err = in.Seek(0, io.SeekStart)
	if err != nil {
		return readFile{}, err
	}
	f, rr, err := cr.open(name, in, checked)
	if err != nil {
		return readFile{}, err
	}
	rf := readFile{campaignFile: f}
	for {
		row, err := rr.next()
		if errors.Is(err, io.EOF) {
			return rf, nil
		}
		if err != nil {
			return readFile{}, err
		}
		rf.rows = append(rf.rows, row)
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

// TestCampaignFileAmounts: exact to the kopeck, positive, the decimal comma only where it cannot
// be a separator of thousands.
func TestCampaignFileAmounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		comma rune
		want  string // the amount, or the problem
	}{
		{"50", ',', "50.00"},
		{"12.5", ',', "12.50"},
		{"50,00", ';', "50.00"},
		{"1 000,50", ';', "1000.50"},
		{"1\u202f000,50", ';', "1000.50"},
		{"1 000.50", ',', "1000.50"},
		{"0", ',', `"0": must be positive`},
		{"-5", ',', `"-5": must be positive`},
		{"0.001", ',', `"0.001" has a fraction of a kopeck`},
		{"1e3", ',', `"1e3": want a number such as 50 or 12.50`},
		{"fifty", ',', `"fifty": want a number such as 50 or 12.50`},
		{"10 00", ';', `"10 00": want a number such as 50 or 12.50`},
		{"", ',', "empty"},
	} {
		a, msg := parseCampaignAmount(tc.in, tc.comma)
		if msg != "" {
			assert.Equal(t, tc.want, msg, "%q", tc.in)
			continue
		}
		assert.Equal(t, tc.want, a.String(), "%q", tc.in)
	}
}

// TestCampaignFileBadRows: each problem names its line (the file's, past a quoted line break) and
// its column; the good rows stay good; a duplicate is flagged.
func TestCampaignFileBadRows(t *testing.T) {
	t.Parallel()
	text := "account;amount;reason;burn_date;comment\n" +
		"1001;50;\"Отзыв\nо заказе\";31.12.2030;two lines\n" + // line 2–3
		"1002;abc;Ноябрь;;\n" + // line 4
		"x;-1;;2020-01-01;\n" + // line 5
		"1001;50,00;\"Отзыв\nо заказе\";;\n" + // line 6: line 2 again
		"1003;10;Ноябрь;2030-02-30;\n" + // line 8
		"1004;10\n" // line 9: short
	f, err := testReader(refillCampaign).read("c.csv", strings.NewReader(text))
	require.NoError(t, err)
	assert.Equal(t, colAccount, f.idColumn)
	assert.Equal(t, []string{"comment"}, f.ignored)
	var got []string
	for _, r := range f.rows {
		for _, p := range r.problems {
			got = append(got, p.String())
		}
	}
	assert.Equal(t, []string{
		`line 4, column amount: "abc": want a number such as 50 or 12.50`,
		`line 5, column account: "x": want an account number such as 1001`,
		`line 5, column amount: "-1": must be positive`,
		`line 5, column reason: empty: the reason is shown in the guest's history, and a rerun finds the credit by it`,
		`line 5, column burn_date: 2020-01-01 is in the past`,
		`line 6: the same guest, amount and reason as line 2: a second credit would be taken for the first one`,
		`line 8, column burn_date: "2030-02-30": want YYYY-MM-DD or DD.MM.YYYY`,
		`line 9: 2 values where the header has 5`, // issue 26 item 2: a short row is refused too
	}, got)
	require.True(t, f.rows[0].valid())
	assert.Equal(t, "2030-12-31", f.rows[0].burn.String())
	assert.Equal(t, "Отзыв\nо заказе", f.rows[0].reason)
}

// TestCampaignFileRefused: a file that cannot be read as a campaign is refused whole, saying why.
func TestCampaignFileRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind campaignKind
		text string
		want string
	}{
		{refillCampaign, "", "c.csv is empty: want a header line such as phone,amount,reason,burn_date"},
		{refillCampaign, "phone,amount,reason\n", "c.csv has a header and no rows"},
		{refillCampaign, "phone;account;amount;reason\n1;1;1;x\n", "the header has both phone and account"},
		{refillCampaign, "name;amount;reason\nx;1;x\n", "the header has neither a phone nor an account column (want phone;amount;reason;burn_date)"},
		{refillCampaign, "phone,reason\n79161234567,x\n", "the header has no amount column"},
		{refillCampaign, "phone,amount,Amount,reason\n", "the header has the column amount twice"},
		{refillCampaign, "phone;amount;reason\n79161234567;50;\xce\xee\xff\xe1\xf0\xfc\n", // "Ноябрь" in Windows-1251
			`c.csv line 2, column reason: not UTF-8 (Excel's "CSV (comma delimited)" writes Windows-1251: save as "CSV UTF-8 (comma delimited)")`},
		{signupCampaign, "first_name\nАнна\n", "the header has no phone column"},
	} {
		_, err := testReader(tc.kind).read("c.csv", strings.NewReader(tc.text))
		require.Error(t, err, "%q", tc.text)
		assert.Contains(t, err.Error(), tc.want)
		assert.Equal(t, exitUsage, exitCode(err))
	}
}

// TestCampaignFileSignup: a guest's fields, phones normalised, a phone twice flagged.
func TestCampaignFileSignup(t *testing.T) {
	t.Parallel()
	text := "phone,first_name,last_name,email,gender,birth_date,card,note\n" +
		"+7 999 123-45-67,Анна,Иванова,anna@example.com,female,01.05.1990,7001009999,x\n" +
		"8 999 765-43-21,,,,,,,\n" +
		"89991234567,Анна,,,,,,\n" +
		"12,,,,robot,1990-13-01,,\n"
	f, err := testReader(signupCampaign).read("g.csv", strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, f.rows, 4)
	g := f.rows[0].guest
	assert.Equal(t, "79991234567", g.Phone)
	assert.Equal(t, "Анна", *g.FirstName)
	assert.Equal(t, probonus.GenderFemale, *g.Gender)
	assert.Equal(t, "1990-05-01", g.BirthDate.String())
	assert.Equal(t, []probonus.Identifier{{Type: probonus.IdentifierCard, Value: "7001009999"}}, g.Identifiers)
	assert.True(t, f.rows[1].valid())
	assert.Nil(t, f.rows[1].guest.FirstName, "an empty cell sends nothing")
	assert.Equal(t, "line 4: the same phone as line 2", f.rows[2].problems[0].String())
	var bad []string
	for _, p := range f.rows[3].problems {
		bad = append(bad, p.column)
	}
	assert.Equal(t, []string{colPhone, colGender, colBirthDate}, bad)
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

// issue 26 item 2: a row with more or fewer fields than the header (an unquoted 1,000 in a comma
// file) is refused naming its line, never read with its values shifted.
func TestCampaignFileFieldCount(t *testing.T) {
	t.Parallel()
	text := "phone,amount,reason\n" +
		"79161234567,1,000,Ноябрь\n" +
		"79161234568,50\n" +
		"79161234569,50,Ноябрь\n"
	f, err := testReader(refillCampaign).read("c.csv", strings.NewReader(text))
	require.NoError(t, err)
	require.Len(t, f.rows, 3)
	require.Len(t, f.rows[0].problems, 1)
	assert.Equal(t, "line 2: 4 values where the header has 3 (a comma inside a value that is not quoted splits it in two: quote the value, "+
		"and write an amount without a thousands separator, such as 1000)",
		f.rows[0].problems[0].String())
	require.Len(t, f.rows[1].problems, 1)
	assert.Equal(t, "line 3: 2 values where the header has 3", f.rows[1].problems[0].String())
	assert.True(t, f.rows[2].valid())
}

// issue 26 item 3: in a semicolon (decimal comma) file a dot before three digits may be a
// thousands separator, as a comma is in a comma file: refused, saying what to write.
func TestCampaignFileDotThousands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		comma rune
		want  string
	}{
		{"1.000", ';', `"1.000": in a semicolon file the decimal separator is the comma, and a dot before three digits may separate thousands: write 1000 (no separator) or 1,00 (the decimal comma)`},
		{"12.500", ';', `"12.500": in a semicolon file the decimal separator is the comma, and a dot before three digits may separate thousands: write 12500 (no separator) or 12,50 (the decimal comma)`},
		{"1.000.000", ';', `"1.000.000": in a semicolon file the decimal separator is the comma: write the amount without a thousands separator, 1000000`},
		{"1.000,50", ';', `"1.000,50": in a semicolon file the decimal separator is the comma: write the amount without a thousands separator, 1000,50`},
		{"1,000.50", ';', `"1,000.50": in a semicolon file the decimal separator is the comma: write the amount without a thousands separator, 1000,50`},
		{"1,000", ',', `"1,000": a comma in an amount is read only in a semicolon file, and before three digits it may separate thousands: write 1000 (no separator) or 1.00 (the decimal point)`},
		{"1,000.50", ',', `"1,000.50": a comma in an amount is read only in a semicolon file: write the amount without a thousands separator, 1000.50`},
		{"50,00", ',', `"50,00": a comma in an amount is read only in a semicolon file: write 50.00`},
	} {
		_, msg := parseCampaignAmount(tc.in, tc.comma)
		assert.Equal(t, tc.want, msg, "%q in a %q file", tc.in, tc.comma)
	}
	for _, ok := range []struct{ in, want string }{{"1.5", "1.50"}, {"1.50", "1.50"}, {"1000", "1000.00"}, {"1000,5", "1000.50"}, {"0.125", ""}} {
		a, msg := parseCampaignAmount(ok.in, ';')
		if ok.want == "" {
			assert.Equal(t, `"0.125" has a fraction of a kopeck`, msg, "a thousands group never starts with 0")
			continue
		}
		assert.Empty(t, msg, ok.in)
		assert.Equal(t, ok.want, a.String(), ok.in)
	}
}

// issue 26 item 14: the headers in Russian, in any case, name the same columns.
func TestCampaignFileRussianHeaders(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"Телефон;Сумма;Причина;Дата сгорания", "ТЕЛЕФОН;сумма;ПРИЧИНА;дата СГОРАНИЯ", "телефон ; Сумма ; Причина ; Дата_сгорания"} {
		f, err := testReader(refillCampaign).read("c.csv", strings.NewReader(header+"\n+7 916 123-45-67;50,00;Ноябрь;31.12.2030\n"))
		require.NoError(t, err, header)
		assert.Equal(t, []string{colPhone, colAmount, colReason, colBurnDate}, f.columns, header)
		require.Len(t, f.rows, 1)
		assert.True(t, f.rows[0].valid(), "%v", f.rows[0].problems)
		assert.Equal(t, "2030-12-31", f.rows[0].burn.String())
	}
	f, err := testReader(signupCampaign).read("g.csv", strings.NewReader("Телефон,Имя,Фамилия,Отчество,Email,Пол,Дата рождения,Карта\n+7 999 123-45-67,Анна,Иванова,Сергеевна,anna@example.com,female,01.05.1990,7001\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{colPhone, colFirstName, colLastName, colMiddleName, colEmail, colGender, colBirthDate, colCard}, f.columns)
	assert.Empty(t, f.ignored)
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
