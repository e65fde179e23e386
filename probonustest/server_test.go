package probonustest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probonus-go/probonus/probonustest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// call sends a raw request: these tests read the wire, not any SDK type.
func call(t *testing.T, srv *probonustest.Server, method, path, body string, header map[string]string) (*http.Response, map[string]any, []any) {
	t.Helper()
	var rdr io.Reader
	if body != "" {
		rdr = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL()+path, rdr)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if _, ok := header["X-API-Key"]; !ok {
		req.Header.Set("X-API-Key", srv.APIKey())
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	obj, _ := v.(map[string]any)
	list, _ := v.([]any)
	return resp, obj, list
}

func TestFlavoursWriteMoneyAndRefusalsDifferently(t *testing.T) {
	t.Parallel()
	legacy := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
	modern := probonustest.NewServer(t)
	for _, srv := range []*probonustest.Server{legacy, modern} {
		srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567", Balance: "150.5"})
	}
	_, l, _ := call(t, legacy, "GET", probonustest.PathFindByPhone+"?phone=79991234567", "", nil)
	_, m, _ := call(t, modern, "GET", probonustest.PathFindByPhone+"?phone=79991234567", "", nil)
	assert.Equal(t, json.Number("150.5"), l["balance"], "Pydantic v1: a number")
	assert.Equal(t, "150.50", m["balance"], "Pydantic v2: a string")
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`, m["createdAt"], "no offset")
	assert.Nil(t, m["middleName"], "absent optional fields are null")

	resp, body, _ := call(t, legacy, "GET", probonustest.PathAccountGroupsList, "", map[string]string{"X-API-Key": ""})
	assert.Equal(t, 403, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "Not authenticated", body["detail"])
	resp, body, _ = call(t, modern, "GET", probonustest.PathAccountGroupsList, "", map[string]string{"X-API-Key": ""})
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "Not authenticated", body["detail"])
	resp, body, _ = call(t, modern, "GET", probonustest.PathAccountGroupsList, "", map[string]string{"X-API-Key": "wrong"})
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "Could not validate credentials", body["detail"])
}

func TestValidationShapes(t *testing.T) {
	t.Parallel()
	legacy := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
	modern := probonustest.NewServer(t)
	resp, l, _ := call(t, legacy, "POST", probonustest.PathRefill, `{"accountId":1001,"amount":-5}`, nil)
	assert.Equal(t, 422, resp.StatusCode)
	item := l["detail"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"body", "amount"}, item["loc"])
	assert.Equal(t, "value_error.number.not_gt", item["type"])
	assert.NotContains(t, item, "input")
	_, m, _ := call(t, modern, "POST", probonustest.PathRefill, `{"accountId":1001,"amount":"-5"}`, nil)
	item = m["detail"].([]any)[0].(map[string]any)
	assert.Equal(t, "greater_than", item["type"])
	assert.Equal(t, "-5", item["input"])
	assert.Equal(t, map[string]any{"gt": json.Number("0")}, item["ctx"])

	_, m, _ = call(t, modern, "POST", probonustest.PathRefill, `{"amount":"5"}`, nil)
	item = m["detail"].([]any)[0].(map[string]any)
	assert.Equal(t, "missing", item["type"])
	_, m, _ = call(t, modern, "GET", probonustest.PathCheckByID+"?checkId=abc", "", nil)
	assert.Equal(t, "int_parsing", m["detail"].([]any)[0].(map[string]any)["type"])

	// FastAPI ≥ 0.132 refuses a JSON body without its content type
	req, _ := http.NewRequest("POST", modern.URL()+probonustest.PathRefill, strings.NewReader(`{"accountId":1001,"amount":5}`))
	req.Header.Set("X-API-Key", modern.APIKey())
	r, err := modern.Client().Do(req)
	require.NoError(t, err)
	_ = r.Body.Close()
	assert.Equal(t, 422, r.StatusCode)
}

func TestRoutesBehaveLikeFastAPI(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithBasePath("/pb"))
	resp, body, _ := call(t, srv, "GET", "/api/v0/nope", "", nil)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "Not Found", body["detail"])
	resp, body, _ = call(t, srv, "GET", probonustest.PathRefill, "", nil)
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "Method Not Allowed", body["detail"])
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	resp, _, list := call(t, srv, "GET", probonustest.PathAccountGroupsList+"/", "", nil)
	assert.Equal(t, 200, resp.StatusCode, "a trailing slash is redirected (307) and followed")
	assert.Len(t, list, 2)
	assert.Equal(t, "/pb"+probonustest.PathAccountGroupsList, resp.Request.URL.Path)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567"})
	srv.FailNext("GET", probonustest.PathAccountGroupsList, 503, "<html><title>503</title></html>", 2*time.Second)
	resp, _, _ := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assert.Equal(t, "text/html", resp.Header.Get("Content-Type"))
	resp, _, _ = call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	assert.Equal(t, 200, resp.StatusCode, "one fault, one request")

	srv.Inject("POST", probonustest.PathRefill, probonustest.Fault{Reset: true, AfterApply: true})
	req, _ := http.NewRequest("POST", srv.URL()+probonustest.PathRefill, strings.NewReader(`{"accountId":`+itoa(id)+`,"amount":10}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", srv.APIKey())
	_, err := srv.Client().Do(req)
	require.Error(t, err, "the connection is dropped")
	assert.Equal(t, "10.00", srv.Balance(id), "but the refill was applied")
	assert.Equal(t, 1, srv.TransactionCount(id, "refill"))
	assert.Equal(t, 1, srv.Count("POST", probonustest.PathRefill))
	assert.Len(t, srv.Requests(), 3)
}

func TestLoginAndRefresh(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithTokenLifetime(200*time.Millisecond), probonustest.WithCredentials("k", "u", "p"))
	resp, body, _ := call(t, srv, "POST", probonustest.PathLogin, `{"login":"u","password":"bad"}`, nil)
	assert.Equal(t, 401, resp.StatusCode)
	assert.Equal(t, "Incorrect login or password", body["detail"])
	_, body, _ = call(t, srv, "POST", probonustest.PathLogin, `{"login":"u","password":"p"}`, nil)
	access := body["accessToken"].(string)
	assert.Len(t, strings.Split(access, "."), 3, "a JWT")
	resp, _, _ = call(t, srv, "GET", probonustest.PathAccountGroupsList, "", map[string]string{"X-API-Key": "", "Authorization": "bearer " + access})
	assert.Equal(t, 200, resp.StatusCode, "the scheme is case-insensitive")
	time.Sleep(250 * time.Millisecond)
	resp, body, _ = call(t, srv, "GET", probonustest.PathAccountGroupsList, "", map[string]string{"X-API-Key": "", "Authorization": "Bearer " + access})
	assert.Equal(t, 401, resp.StatusCode, "expired")
	assert.Equal(t, "Could not validate credentials", body["detail"])
	_, body, _ = call(t, srv, "POST", probonustest.PathRefreshToken, `{"refreshToken":"probonustest-refresh-1"}`, nil)
	assert.NotEmpty(t, body["accessToken"])
	resp, _, _ = call(t, srv, "POST", probonustest.PathRefreshToken, `{"refreshToken":"probonustest-refresh-1"}`, nil)
	assert.Equal(t, 401, resp.StatusCode, "a refresh token works once")
	logins, refreshes := srv.AuthCounts()
	assert.Equal(t, 1, logins)
	assert.Equal(t, 1, refreshes)
}

func TestExtraAndRenamedFields(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithExtraField("group", "colour", "green"), probonustest.WithRenamedField("group", "haveTemplate", "isTemplate"))
	_, _, list := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	g := list[1].(map[string]any)
	assert.Equal(t, "green", g["colour"])
	assert.Equal(t, true, g["isTemplate"])
	assert.NotContains(t, g, "haveTemplate")
}

func TestCloseWithoutT(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(nil)
	_, _, list := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
	assert.Len(t, list, 2)
	srv.Close()
	srv.Close()
}

func TestSeedingPanicsOnBadInput(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	assert.Panics(t, func() { srv.AddAccount(probonustest.Account{GroupID: 42}) })
	srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567"})
	assert.Panics(t, func() { srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "8 999 123-45-67"}) }, "the same phone")
	assert.Panics(t, func() { srv.AddCheck(probonustest.Check{AccountID: 1}) })
	assert.Equal(t, int64(10), srv.AddGroup(probonustest.Group{ID: 10, Name: "VIP"}))
	assert.Equal(t, int64(11), srv.AddGroup(probonustest.Group{Name: "next"}))
}

func TestDeferredAccrualAndBurnings(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567", Balance: "300", BurnDate: "2027-01-31"})
	srv.AddCheck(probonustest.Check{AccountID: id, BonusPaid: "100", BonusAccrued: "42.35", AccrueOn: "2026-12-10",
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "1000"}}})
	_, b, _ := call(t, srv, "GET", probonustest.PathBalanceExtended+"?accountId="+itoa(id), "", nil)
	assert.Equal(t, json.Number("200"), b["bonusBalance"])
	assert.Equal(t, json.Number("42.35"), b["bonusAwaitingIssue"])
	assert.Equal(t, []any{map[string]any{"sum": json.Number("42.35"), "date": "2026-12-10"}}, b["lateIssues"])
	assert.Equal(t, []any{map[string]any{"sum": json.Number("200"), "date": "2027-01-31"}}, b["burnings"])
	assert.Equal(t, json.Number("0"), b["neverBurns"])
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestLatencyAndLocation(t *testing.T) {
	t.Parallel()
	yekt := time.FixedZone("YEKT", 5*3600)
	srv := probonustest.NewServer(t, probonustest.WithLatency(50*time.Millisecond), probonustest.WithLocation(yekt))
	id := srv.AddAccount(probonustest.Account{GroupID: 1, Phone: "79991234567"})
	checkID := srv.AddCheck(probonustest.Check{AccountID: id, Datetime: time.Date(2026, 11, 26, 16, 31, 12, 0, time.UTC),
		Dishes: []probonustest.Dish{{Code: 1, Name: "Чай", Quantity: "1", Price: "100"}}})
	start := time.Now()
	_, c, _ := call(t, srv, "GET", probonustest.PathCheckByID+"?checkId="+itoa(checkID), "", nil)
	// a lower bound the server guarantees, not a timing of anything under test
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	assert.Equal(t, "2026-11-26T21:31:12", c["datetime"], "wall-clock time in the server's location, no offset")
}

func TestBasePath(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/", "//"} {
		srv := probonustest.NewServer(t, probonustest.WithBasePath(base))
		assert.NotRegexp(t, `/$`, srv.URL(), "base %q", base)
		resp, _, list := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
		assert.Equal(t, 200, resp.StatusCode, "base %q", base)
		assert.Len(t, list, 2, "base %q", base)
	}
	for _, base := range []string{"pb", "/pb/", "/pb"} {
		srv := probonustest.NewServer(t, probonustest.WithBasePath(base))
		assert.Regexp(t, `^http://[^/]+/pb$`, srv.URL(), "base %q", base)
		resp, _, _ := call(t, srv, "GET", probonustest.PathAccountGroupsList, "", nil)
		assert.Equal(t, 200, resp.StatusCode, "base %q", base)
	}
	srv := probonustest.NewServer(t, probonustest.WithBasePath("/pb"))
	req, err := http.NewRequest("GET", strings.TrimSuffix(srv.URL(), "/pb")+"/pbx"+probonustest.PathAccountGroupsList, nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", srv.APIKey())
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode, "a prefix ends at a segment boundary")
}

// From the adversarial review of issue 26 (item 8).
// issue 26 item 8: a refill whose body the client never finished (Content-Length promises 100
// bytes more than are sent, then the client half-closes, or stalls past the read timeout) is not
// served: the server cannot know what the rest said, and the client, whose write failed, rightly
// believes nothing was done. The JSON prefix was parsed and the account credited 50.00 per
// attempt: the fake applied writes real servers (uvicorn raises ClientDisconnect) never see.
func TestReview26TruncatedBodyIsNotServed(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"client closes mid-body", "read timeout mid-body"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t, probonustest.WithTimeouts(probonustest.Timeouts{
				ReadHeader: 5 * time.Second, Read: 300 * time.Millisecond, Idle: 5 * time.Second}))
			id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000001", Balance: "0"})
			u, err := url.Parse(srv.URL())
			require.NoError(t, err)
			c, err := net.Dial("tcp", u.Host)
			require.NoError(t, err)
			defer c.Close()
			body := fmt.Sprintf(`{"accountId":%d,"amount":"50"}`, id)
			_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nX-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				u.Path+probonustest.PathRefill, u.Host, srv.APIKey(), len(body)+100, body)
			require.NoError(t, err)
			if how == "client closes mid-body" {
				require.NoError(t, c.(*net.TCPConn).CloseWrite())
			}
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			answer, _ := io.ReadAll(c) // until the server closes
			assert.Equal(t, "0.00", srv.Balance(id), "a refill whose body was cut short was credited")
			// FastAPI's answer when reading the body fails, for a client still there to read it
			assert.True(t, strings.HasPrefix(string(answer), "HTTP/1.1 400 "), "%s", answer)
			assert.Contains(t, string(answer), `{"detail":"There was an error parsing the body"}`)
		})
	}
}
