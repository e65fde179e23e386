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
