package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// TestCampaignSignup: guests signed up through FindOrInsert, both flavours; a guest who has an
// account is left as is; a second run creates no one.
func TestCampaignSignup(t *testing.T) {
	t.Parallel()
	text := "phone,first_name,last_name,email,gender,birth_date\n" +
		"+7 999 123-45-67,Анна,Иванова,anna@example.com,female,01.05.1990\n" +
		guestPhone + ",Иван,,,,\n" +
		"8 999 765-43-21,,,,,\n" +
		"79997654321,Дубль,,,,\n" +
		"12345,,,,robot,\n"
	for _, flavor := range flavors {
		t.Run(flavor.String(), func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, flavor)
			path := writeCSV(t, "guests.csv", text)
			out := filepath.Join(filepath.Dir(path), "results.csv")
			r := runCLI(t, keyEnv(srv), "signup", "--file", path, "--group", "3", "--yes", "--out", out)
			campaignGolden(t, "campaign-signup", r, filepath.Dir(path))
			assert.Equal(t, 2, srv.Count("POST", insertPath))
			header, rows := readResults(t, out)
			assert.Equal(t, []string{"line", "phone", "account", "status", "error"}, header)
			assert.Equal(t, map[string]int{"created": 2, "already-exists": 1, "skipped": 2}, statuses(rows))
			assert.Equal(t, "1001", rows["3"]["account"])

			r = runCLI(t, keyEnv(srv), "signup", "--file", path, "--group", "3", "--yes", "--out", out)
			assert.Equal(t, exitFailed, r.code, "the bad rows are still skipped")
			assert.Equal(t, 2, srv.Count("POST", insertPath), "a second run creates no one")
			_, rows = readResults(t, out)
			assert.Equal(t, map[string]int{"already-exists": 3, "skipped": 2}, statuses(rows))
		})
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
