package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/capture"
	"github.com/probonus-go/probonus/internal/fixture"
	"github.com/probonus-go/probonus/probonustest"
)

func TestRecordAgainstProbonustest(t *testing.T) {
	t.Parallel()
	for _, flavor := range []probonustest.Flavor{probonustest.Legacy, probonustest.Modern} {
		for _, mode := range []string{"key", "login"} {
			t.Run(flavor.String()+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := probonustest.NewServer(t, probonustest.WithFlavor(flavor))
				id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "79161234567", FirstName: "Иван", LastName: "Петров",
					Email: "ivan.petrov@mail.ru", BirthDate: "1987-03-14", Balance: "300",
					Identifiers: []probonustest.Identifier{{Type: "card", Value: "4276380012345678"}}})
				for n := range 3 {
					srv.AddCheck(probonustest.Check{AccountID: id, Number: 100 + n, BonusAccrued: "10", RestaurantName: "Пекарня",
						Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "100"}}})
				}
				env := map[string]string{"PROBONUS_BASE_URL": srv.URL()}
				if mode == "key" {
					env["PROBONUS_API_KEY"] = srv.APIKey()
				} else {
					env["PROBONUS_LOGIN"], env["PROBONUS_PASSWORD"] = srv.Login()
				}
				dir := t.TempDir()
				var out bytes.Buffer
				code := run([]string{"-phone", "+7 916 123-45-67", "-out", dir, "-checks", "2"}, func(k string) string { return env[k] }, &out, nil)
				require.Equal(t, 0, code, out.String())
				assert.Contains(t, out.String(), "accounts/find_by_phone               200 (the guest)")
				assert.Contains(t, out.String(), "wrote 7 fixtures")

				for _, r := range srv.Requests() {
					assert.True(t, r.Method == "GET" || strings.HasPrefix(r.Path, "/api/v0/auth/"), "%s %s", r.Method, r.Path)
				}
				var files []string
				require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
					if err == nil && !info.IsDir() {
						files = append(files, p)
					}
					return err
				}))
				require.Len(t, files, 7)
				for _, p := range files {
					raw, err := os.ReadFile(p)
					require.NoError(t, err)
					for _, real := range []string{"79161234567", "Иван", "Петров", "ivan.petrov@mail.ru", "1987-03-14", "4276380012345678", srv.APIKey(), "probonustest-refresh"} {
						assert.NotContains(t, string(raw), real, p)
					}
					f, err := fixture.Parse(raw)
					require.NoError(t, err)
					assert.Equal(t, 200, f.Status)
					name, _ := filepath.Rel(dir, p)
					newV := capture.TypeFor(strings.TrimSuffix(filepath.ToSlash(name), ".http"))
					require.NotNil(t, newV, name)
					assert.NoError(t, fixture.Contract(f.Body, newV()), "the fixture tests accept %s unchanged", name)
				}
			})
		}
	}
}

func TestRecordNeedsAServer(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	assert.Equal(t, 1, run([]string{"-phone", "79161234567"}, func(string) string { return "" }, &out, nil))
	assert.Contains(t, out.String(), "set PROBONUS_BASE_URL")
	out.Reset()
	assert.Equal(t, 1, run(nil, func(string) string { return "" }, &out, nil))
	assert.Contains(t, out.String(), "-phone is required")
}

func TestRecordAGuestThatIsAbsent(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	dir := t.TempDir()
	var out bytes.Buffer
	env := map[string]string{"PROBONUS_BASE_URL": srv.URL(), "PROBONUS_API_KEY": srv.APIKey()}
	require.Equal(t, 0, run([]string{"-phone", "79990000000", "-out", dir}, func(k string) string { return env[k] }, &out, nil), out.String())
	assert.Contains(t, out.String(), "accounts/find_by_phone               404")
	f, err := fixture.Load(filepath.Join(dir, "accounts/find_by_phone.http"))
	require.NoError(t, err)
	assert.Equal(t, 404, f.Status)
	assert.Equal(t, "application/json", f.Header.Get("Content-Type"))
}
