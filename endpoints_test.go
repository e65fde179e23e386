package probonus

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// From the fast paths of issue 11 (fastpath_test.go).
// TestTypedQueriesAreCanonical: every typed method's query is what url.Values.Encode writes (its
// keys sorted, its values escaped), built without url.Values.
func TestTypedQueriesAreCanonical(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	var got []string
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		got = append(got, req.URL.Path+"?"+req.URL.RawQuery)
		body := `{"id":1}` // an account or a check
		if strings.HasSuffix(req.URL.Path, "/transactions") {
			body = `[]`
		}
		return httpmock.NewStringResponse(200, body), nil
	})
	ctx := context.Background()
	from := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	_, err := c.Accounts.FindByPhone(ctx, "+7 (999) 123-45-67")
	require.NoError(t, err)
	_, err = c.Accounts.Transactions(ctx, 1042, from, from.Add(48*time.Hour))
	require.NoError(t, err)
	_, err = c.Accounts.LastTransactions(ctx, 1042, 1000)
	require.NoError(t, err)
	_, err = c.Accounts.BalanceExtended(ctx, 9223372036854775807)
	require.NoError(t, err)
	_, err = c.Checks.GetByID(ctx, 5501)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"/pb/api/v0/accounts/find_by_phone?phone=79991234567",
		"/pb/api/v0/accounts/transactions?accountId=1042&dateFrom=2026-02-01T12%3A30%3A00&dateTo=2026-02-03T12%3A30%3A00",
		"/pb/api/v0/accounts/transactions?accountId=1042&count=1000",
		"/pb/api/v0/accounts/get_balance_extended?accountId=9223372036854775807",
		"/pb/api/v0/checks/get_by_id?checkId=5501",
	}, got)
	for _, g := range got {
		_, raw, _ := strings.Cut(g, "?")
		q, err := url.ParseQuery(raw)
		require.NoError(t, err)
		assert.Equal(t, q.Encode(), raw, "sorted and escaped as url.Values.Encode would")
	}
}

// From the fast paths of issue 11 (fastpath_test.go).
// FuzzEncodeQuery: encodeQuery writes what url.Values.Encode writes, for any keys and values
// given in sorted order, integers included.
func FuzzEncodeQuery(f *testing.F) {
	for _, s := range []string{"", "79991234567", "2026-02-16T09:42:00", "a b&c=d+e", "Пекарня", "%zz", "~-_.", "\x00\xff"} {
		f.Add("k", s, int64(-5))
	}
	f.Fuzz(func(t *testing.T, key, value string, n int64) {
		// A key sorts before its extensions, and "~int" before "~str": the order Encode sorts into.
		want := url.Values{key: {value}, key + "~int": {strconv.FormatInt(n, 10)}, key + "~str": {value}}.Encode()
		got := encodeQuery(qStr(key, value), qInt(key+"~int", n), qStr(key+"~str", value))
		if got != want {
			t.Fatalf("encodeQuery = %q, url.Values.Encode = %q", got, want)
		}
		if q := encodeQuery(qStr(key, value)); q != url.QueryEscape(key)+"="+url.QueryEscape(value) {
			t.Fatalf("one parameter: %q", q)
		}
	})
}
