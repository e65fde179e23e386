package probonusotel_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Credentials no attribute may show.
const (
	testAPIKey   = "otel-test-key-Zq9rT"
	testLogin    = "otel-login-Xy7pK"
	testPassword = "otel-password-Wv5mN"
)

// Personal data no attribute may show, in the forms a caller might write it.
var (
	guestPhones = []string{"+7 (916) 555-01-23", "79165550123", "9165550123"}
	otherPhone  = "+7 916 555-98-76" // nobody's
	guestNames  = []string{"Снежана", "Котлярова", "snezhana.k@example.org"}
)

func newServer(t *testing.T, opts ...probonustest.Option) *probonustest.Server {
	t.Helper()
	return probonustest.NewServer(t, append([]probonustest.Option{
		probonustest.WithCredentials(testAPIKey, testLogin, testPassword),
		probonustest.WithBasePath("/bonus"),
	}, opts...)...)
}

func newClient(t *testing.T, base string, h *harness, opts ...probonus.Option) *probonus.Client {
	t.Helper()
	c, err := probonus.New(append([]probonus.Option{
		probonus.WithBaseURL(base),
		probonus.WithRetry(probonus.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		probonus.WithObserver(h.obs),
	}, opts...)...)
	require.NoError(t, err)
	return c
}

// traceparentOf reads the span context a request carried.
func traceparentOf(header http.Header) trace.SpanContext {
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(),
		propagation.HeaderCarrier(header)))
}

// assertEveryRequestTraced checks that each request the server received carried the traceparent of
// an attempt span for that method and path, and that each attempt span is a child of a call span.
func assertEveryRequestTraced(t *testing.T, h *harness, reqs []probonustest.Request) {
	t.Helper()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range h.spans.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		sc := traceparentOf(r.Header)
		require.True(t, sc.IsValid(), "%s %s arrived without a traceparent", r.Method, r.Path)
		span, ok := byID[sc.SpanID()]
		require.True(t, ok, "%s %s: its traceparent names no ended span", r.Method, r.Path)
		assert.Equal(t, r.Method+" /bonus"+r.Path, span.Name(), "probonustest reports paths below its base path")
		call, ok := byID[span.Parent().SpanID()]
		require.True(t, ok, "the attempt span %s has an ended parent", span.Name())
		assert.True(t, strings.HasPrefix(call.Name(), "probonus "), "the attempt %s hangs under %s", span.Name(), call.Name())
	}
}

func TestIntegrationRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := newServer(t)
	srv.FailNext(http.MethodGet, probonustest.PathAccountGroupsList, http.StatusServiceUnavailable, `{"detail":"busy"}`, 0)
	client := newClient(t, srv.URL(), h, probonus.WithAPIKey(srv.APIKey()))

	groups, err := client.AccountGroups.List(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, groups)

	call := h.one(t, "probonus AccountGroups.List")
	assert.Equal(t, trace.SpanKindClient, call.SpanKind())
	assert.Equal(t, codes.Unset, call.Status().Code)
	ca := attrs(call.Attributes())
	assert.Equal(t, int64(2), ca["probonus.attempts"])
	assert.Equal(t, "127.0.0.1", ca["server.address"])

	attempts := h.ended("GET /bonus/api/v0/account_groups/list")
	require.Len(t, attempts, 2)
	first, second := attrs(attempts[0].Attributes()), attrs(attempts[1].Attributes())
	assert.Equal(t, int64(503), first["http.response.status_code"])
	assert.Equal(t, "503", first["error.type"])
	assert.Equal(t, "server unavailable (503)", first["probonus.retry.reason"])
	assert.Equal(t, codes.Error, attempts[0].Status().Code)
	assert.Equal(t, int64(200), second["http.response.status_code"])
	assert.Equal(t, int64(1), second["http.request.resend_count"])
	assert.Equal(t, true, second["probonus.retry"])
	assert.NotContains(t, second, "error.type")
	for _, a := range attempts {
		assert.Equal(t, call.SpanContext().SpanID(), a.Parent().SpanID())
		assert.Equal(t, "/bonus/api/v0/account_groups/list", attrs(a.Attributes())["url.template"], "the path the server saw, the base path included")
	}
	assertEveryRequestTraced(t, h, srv.Requests())

	rm := h.collect(t)
	dur := metricNamed(t, rm, "http.client.request.duration")
	assert.Equal(t, uint64(1), histogramCount(t, dur, map[string]any{"http.response.status_code": int64(503), "error.type": "503"}))
	assert.Equal(t, uint64(1), histogramCount(t, dur, map[string]any{"http.response.status_code": int64(200)}))
	assert.Equal(t, int64(1), counted(t, rm, "probonus.client.retries",
		map[string]any{"probonus.operation": "AccountGroups.List", "probonus.retry.reason": "server unavailable (503)"}))
	assert.Equal(t, uint64(1), histogramCount(t, metricNamed(t, rm, "probonus.client.operation.duration"),
		map[string]any{"probonus.operation": "AccountGroups.List"}))
	h.assertNothingLeaks(t, testAPIKey)
}

func TestIntegrationTokenRefreshUnderLoad(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Tokens live 600ms and are renewed in the background from 480ms: a second of calls sees
	// the first login and at least one refresh.
	srv := newServer(t, probonustest.WithTokenLifetime(600*time.Millisecond))
	client := newClient(t, srv.URL(), h, probonus.WithLogin(testLogin, testPassword))
	ctx := context.Background()
	guest, err := client.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 3, Phone: guestPhones[0],
		FirstName: &guestNames[0], LastName: &guestNames[1], Email: &guestNames[2]})
	require.NoError(t, err)

	deadline := time.Now().Add(1200 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				var err error
				switch (i + n) % 3 {
				case 0:
					_, err = client.AccountGroups.List(ctx)
				case 1:
					_, err = client.Accounts.FindByPhone(ctx, guestPhones[n%len(guestPhones)])
				case 2:
					_, err = client.Accounts.BalanceExtended(ctx, guest.ID)
				}
				if err != nil {
					errs <- err
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A background refresh started by the last calls may still be under way.
	require.Eventually(t, func() bool {
		logins, refreshes := srv.AuthCounts()
		return len(h.ended("probonus Auth.Login"))+len(h.ended("probonus Auth.Refresh")) == logins+refreshes
	}, 5*time.Second, 10*time.Millisecond)

	logins, refreshes := srv.AuthCounts()
	assert.Equal(t, 1, logins, "one login, then refreshes")
	require.GreaterOrEqual(t, refreshes, 1)
	t.Logf("%d requests, %d login, %d refreshes, %d spans", len(srv.Requests()), logins, refreshes, len(h.spans.Ended()))

	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range h.spans.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	for _, name := range []string{"probonus Auth.Login", "probonus Auth.Refresh"} {
		for _, s := range h.ended(name) {
			assert.Equal(t, codes.Unset, s.Status().Code)
			parent, ok := byID[s.Parent().SpanID()]
			require.True(t, ok, "%s has an ended parent", name)
			assert.Equal(t, trace.SpanKindClient, parent.SpanKind())
			assert.False(t, strings.HasPrefix(parent.Name(), "probonus "),
				"%s hangs under the attempt that needed the token, not under %s", name, parent.Name())
			assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID())
		}
	}
	assertEveryRequestTraced(t, h, srv.Requests())

	rm := h.collect(t)
	assert.Equal(t, int64(logins), counted(t, rm, "probonus.client.token.refreshes", map[string]any{"probonus.operation": "Auth.Login"}))
	assert.Equal(t, int64(refreshes), counted(t, rm, "probonus.client.token.refreshes", map[string]any{"probonus.operation": "Auth.Refresh"}))

	secrets := append([]string{testLogin, testPassword}, guestPhones...)
	secrets = append(secrets, guestNames...)
	h.assertNothingLeaks(t, append(secrets, issuedTokens(t, srv)...)...)
}

// issuedTokens are the access and refresh tokens the client sent: its requests' bearer tokens and
// the refresh tokens in its refresh requests.
func issuedTokens(t *testing.T, srv *probonustest.Server) []string {
	t.Helper()
	var toks []string
	for _, r := range srv.Requests() {
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			// a JWT's signature is the part that is secret and unique
			toks = append(toks, v[strings.LastIndex(v, ".")+1:])
		}
		if r.Path == probonustest.PathRefreshToken {
			var body struct{ RefreshToken string }
			require.NoError(t, json.Unmarshal(r.Body, &body))
			toks = append(toks, body.RefreshToken)
		}
	}
	require.NotEmpty(t, toks)
	return toks
}

func TestIntegrationUncertainRefill(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := newServer(t)
	client := newClient(t, srv.URL(), h, probonus.WithAPIKey(srv.APIKey()))
	ctx := context.Background()
	guest, err := client.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 3, Phone: guestPhones[1],
		FirstName: &guestNames[0], LastName: &guestNames[1]})
	require.NoError(t, err)

	srv.Inject(http.MethodPost, probonustest.PathRefill, probonustest.Fault{AfterApply: true, Status: http.StatusInternalServerError,
		Body: `{"detail":"refill of ` + guestNames[1] + ` failed"}`})
	_, err = client.Accounts.Refill(ctx, probonus.Refill{AccountID: guest.ID, Amount: probonus.MustAmount("150.50"),
		Reason: probonus.Ptr("birthday of " + guestNames[0])})
	require.ErrorIs(t, err, probonus.ErrOutcomeUnknown)

	call := h.one(t, "probonus Accounts.Refill")
	ca := attrs(call.Attributes())
	assert.Equal(t, true, ca["probonus.outcome_unknown"])
	assert.Equal(t, "500", ca["error.type"])
	assert.Equal(t, int64(1), ca["probonus.attempts"], "an uncertain write is not resent")
	assert.Equal(t, codes.Error, call.Status().Code)
	attempt := h.one(t, "POST /bonus/api/v0/accounts/refill")
	assert.Equal(t, int64(500), attrs(attempt.Attributes())["http.response.status_code"])
	assert.NotContains(t, attrs(h.one(t, "probonus Accounts.InsertByTemplate").Attributes()), "probonus.outcome_unknown")

	rm := h.collect(t)
	assert.Equal(t, int64(1), counted(t, rm, "probonus.client.outcome_unknown", map[string]any{"probonus.operation": "Accounts.Refill"}))
	assert.Equal(t, int64(1), counted(t, rm, "probonus.client.outcome_unknown", nil))
	assertEveryRequestTraced(t, h, srv.Requests())
	h.assertNothingLeaks(t, append(append([]string{testAPIKey}, guestPhones...), guestNames...)...)
}

// A redirect to another origin carries no traceparent there: a trace id says which requests
// belong together, and the other host is not ours to tell.
func TestIntegrationCrossOriginRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := newServer(t) // the other origin: another port
	var mu sync.Mutex
	var atRedirector []http.Header
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		atRedirector = append(atRedirector, r.Header.Clone())
		mu.Unlock()
		http.Redirect(w, r, srv.URL()+strings.TrimPrefix(r.URL.Path, "/bonus"), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	client := newClient(t, redirector.URL+"/bonus", h, probonus.WithAPIKey(srv.APIKey()))

	_, err := client.AccountGroups.List(context.Background())
	// The key stays home too, so the other origin refuses the request.
	require.ErrorIs(t, err, probonus.ErrUnauthorized)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, atRedirector, 1)
	sent := traceparentOf(atRedirector[0])
	require.True(t, sent.IsValid(), "the base URL's origin gets the traceparent")
	attempt := h.one(t, "GET /bonus/api/v0/account_groups/list")
	assert.Equal(t, attempt.SpanContext().SpanID(), sent.SpanID())

	reqs := srv.Requests()
	require.Len(t, reqs, 1, "the redirect was followed")
	assert.Empty(t, reqs[0].Header.Values("Traceparent"), "no traceparent reaches another origin")
	assert.Empty(t, reqs[0].Header.Values("Tracestate"))
	assert.Empty(t, reqs[0].Header.Values("X-Api-Key"))
	assert.Equal(t, int64(401), attrs(attempt.Attributes())["http.response.status_code"])
}

// Every attribute of every span and metric of a busy session, failures included, is searched for
// the guest's phone, name and email, and for the credentials.
func TestIntegrationNoPersonalDataInAnyAttribute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := newServer(t)
	client := newClient(t, srv.URL(), h, probonus.WithLogin(testLogin, testPassword))
	ctx := context.Background()

	guest, err := client.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 3, Phone: guestPhones[0],
		FirstName: &guestNames[0], LastName: &guestNames[1], Email: &guestNames[2]})
	require.NoError(t, err)
	_, err = client.Accounts.InsertByTemplate(ctx, probonus.NewAccount{GroupID: 3, Phone: guestPhones[2],
		FirstName: &guestNames[0]})
	require.Error(t, err, "the guest exists already")
	for _, p := range guestPhones {
		_, err = client.Accounts.FindByPhone(ctx, p)
		require.NoError(t, err)
	}
	_, err = client.Accounts.FindByPhone(ctx, otherPhone)
	require.ErrorIs(t, err, probonus.ErrNotFound)
	_, err = client.Accounts.Update(ctx, probonus.AccountUpdate{AccountID: guest.ID, LastName: probonus.Ptr(guestNames[1] + "-Лис")})
	require.NoError(t, err)
	srv.FailNext(http.MethodGet, probonustest.PathFindByPhone, http.StatusBadGateway,
		"<html><title>502 for "+guestPhones[1]+"</title></html>", 0)
	_, err = client.Accounts.FindByPhone(ctx, guestPhones[1])
	require.NoError(t, err)
	srv.FailNext(http.MethodGet, probonustest.PathFindByPhone, http.StatusNotFound,
		`{"detail":"no account `+guestPhones[1]+` (`+guestNames[0]+`)"}`, 0)
	_, err = client.Accounts.FindByPhone(ctx, guestPhones[1])
	require.ErrorIs(t, err, probonus.ErrNotFound)
	require.Contains(t, err.Error(), guestNames[0], "the error's text holds what no attribute may")
	var raw json.RawMessage
	err = client.Do(ctx, http.MethodPost, probonustest.PathRefill, nil,
		map[string]any{"accountId": guest.ID, "amount": guestNames[0]}, &raw)
	apiErr, ok := errors.AsType[*probonus.APIError](err)
	require.True(t, ok, "%v", err)
	require.NotEmpty(t, apiErr.Validation)
	require.Equal(t, guestNames[0], apiErr.Validation[0].Input, "the server echoes the refused input into the error")

	require.GreaterOrEqual(t, len(h.spans.Ended()), 16)
	secrets := []string{testAPIKey, testLogin, testPassword, otherPhone}
	secrets = append(append(secrets, guestPhones...), guestNames...)
	h.assertNothingLeaks(t, append(secrets, issuedTokens(t, srv)...)...)
}

// A Client.Do path is the caller's literal one and may hold a phone: without a template it reaches
// no span name, span attribute or metric attribute, nor does the base path pass for a template;
// with WithPathTemplate the template is shown; a typed method keeps its own.
func TestIntegrationDoPathStaysOutOfTelemetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := newServer(t)
	client := newClient(t, srv.URL(), h, probonus.WithAPIKey(srv.APIKey()))
	const phone = "79991234567"
	path := "/api/v0/accounts/" + phone + "/x"
	ctx := context.Background()

	var raw json.RawMessage
	err := client.Do(ctx, http.MethodGet, path, nil, nil, &raw)
	require.ErrorIs(t, err, probonus.ErrNotFound, "the fake server has no such endpoint; what matters is what was recorded")
	const tmpl = "/api/v0/accounts/{phone}/x"
	err = client.Do(probonus.WithPathTemplate(ctx, tmpl), http.MethodGet, path, nil, nil, &raw)
	require.ErrorIs(t, err, probonus.ErrNotFound)
	_, err = client.AccountGroups.List(ctx)
	require.NoError(t, err)
	require.Len(t, srv.Requests(), 3)
	assert.Equal(t, path, srv.Requests()[0].Path, "the literal path went to the server")

	// The Do calls: one without a template, one with.
	var untemplated, templated []sdktrace.ReadOnlySpan
	for _, s := range h.ended("probonus Do") {
		if tm, ok := attrs(s.Attributes())["url.template"]; ok {
			assert.Equal(t, "/bonus"+tmpl, tm)
			templated = append(templated, s)
		} else {
			untemplated = append(untemplated, s)
		}
	}
	require.Len(t, untemplated, 1, "the Do call without a template is the span probonus Do, with no url.template")
	require.Len(t, templated, 1)
	attempt := h.one(t, "GET") // the conventions' name for a request without a template
	assert.Equal(t, untemplated[0].SpanContext().SpanID(), attempt.Parent().SpanID())
	assert.NotContains(t, attrs(attempt.Attributes()), "url.template", "no path, not even the base path")
	assert.Equal(t, int64(404), attrs(attempt.Attributes())["http.response.status_code"])
	withTmpl := h.one(t, "GET /bonus"+tmpl)
	assert.Equal(t, templated[0].SpanContext().SpanID(), withTmpl.Parent().SpanID())
	assert.Equal(t, "/bonus"+tmpl, attrs(withTmpl.Attributes())["url.template"])
	typed := h.one(t, "GET /bonus/api/v0/account_groups/list")
	assert.Equal(t, "/bonus/api/v0/account_groups/list", attrs(typed.Attributes())["url.template"])
	assertEveryRequestTracedAs(t, h, srv.Requests(), []string{"GET", "GET /bonus" + tmpl, "GET /bonus/api/v0/account_groups/list"})

	// The duration metric: one series without a path, one per template.
	series := map[string]uint64{}
	for _, p := range histogramPoints(t, metricNamed(t, h.collect(t), "http.client.request.duration")) {
		tm, _ := attrs(p.Attributes.ToSlice())["url.template"].(string)
		series[tm] += p.Count
	}
	assert.Equal(t, map[string]uint64{"": 1, "/bonus" + tmpl: 1, "/bonus/api/v0/account_groups/list": 1}, series)

	h.assertNothingLeaks(t, phone, path, testAPIKey)
}

// assertEveryRequestTracedAs checks that the i-th request the server received carried the
// traceparent of an ended span named names[i].
func assertEveryRequestTracedAs(t *testing.T, h *harness, reqs []probonustest.Request, names []string) {
	t.Helper()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range h.spans.Ended() {
		byID[s.SpanContext().SpanID()] = s
	}
	require.Len(t, reqs, len(names))
	for i, r := range reqs {
		span, ok := byID[traceparentOf(r.Header).SpanID()]
		require.True(t, ok, "%s %s: its traceparent names no ended span", r.Method, r.Path)
		assert.Equal(t, names[i], span.Name())
	}
}
