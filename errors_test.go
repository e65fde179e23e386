package probonus

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/internal/redact"
)

// newRedactor is the redactor of an attempt whose request carried the header values found and the
// client no credential of its own (attemptSecrets for such a request).
func newRedactor(found ...string) *redact.Set {
	s := redact.New()
	s.AddSeen(found...)
	return s
}

// errorFixtures are the error responses of the wire model, in testdata/errors.
var errorFixtures = []string{
	"400_bad_login", "400_detail_object", "400_duplicate_account",
	"401_could_not_validate", "401_not_authenticated_apikey", "401_not_authenticated_bearer",
	"403_could_not_validate", "403_forbidden", "403_not_authenticated",
	"404_account_not_found", "404_unknown_route", "405_method_not_allowed",
	"422_expired_signature", "422_pydantic_v1", "422_pydantic_v2",
	"429_detail", "429_error", "500_plain", "502_html", "503_html", "504_json",
}

var sentinels = []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited, ErrServer}

func TestEveryErrorShapeDecodes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sentinels  []error
		detail     string
		validation []string // Field(): Msg
		retryAfter bool
		requestID  string
		message    string // in Error()
	}{
		"400_bad_login":                {[]error{ErrBadRequest}, "Неверный логин или пароль", nil, false, "", "400 Bad Request: Неверный логин или пароль"},
		"400_detail_object":            {[]error{ErrBadRequest}, `{"code":"ACCOUNT_EXISTS","accountId":1042}`, nil, false, "", `ACCOUNT_EXISTS`},
		"400_duplicate_account":        {[]error{ErrBadRequest}, "Счёт с телефоном 79991234567 уже существует", nil, false, "", "уже существует"},
		"401_could_not_validate":       {[]error{ErrUnauthorized}, "Could not validate credentials", nil, false, "", "401 Unauthorized"},
		"401_not_authenticated_apikey": {[]error{ErrUnauthorized}, "Not authenticated", nil, false, "", "Not authenticated"},
		"401_not_authenticated_bearer": {[]error{ErrUnauthorized}, "Not authenticated", nil, false, "", "Not authenticated"},
		"403_could_not_validate":       {[]error{ErrUnauthorized}, "Could not validate credentials", nil, false, "", "403 Forbidden"},
		"403_forbidden":                {[]error{ErrForbidden}, "Недостаточно прав для операции", nil, false, "", "403 Forbidden"},
		"403_not_authenticated":        {[]error{ErrUnauthorized}, "Not authenticated", nil, false, "", "Not authenticated"},
		"404_account_not_found":        {[]error{ErrNotFound}, "Счёт не найден", nil, false, "", "404 Not Found"},
		"404_unknown_route":            {[]error{ErrNotFound}, "Not Found", nil, false, "", "404 Not Found"},
		"405_method_not_allowed":       {nil, "Method Not Allowed", nil, false, "", "405 Method Not Allowed"},
		"422_expired_signature":        {[]error{ErrValidation, ErrUnauthorized}, "Signature has expired", nil, false, "", "Signature has expired"},
		"422_pydantic_v1": {[]error{ErrValidation}, "", []string{"body.amount: value is not a valid decimal", "body.identifiers.0.value: field required"}, false, "",
			"422 Unprocessable Entity: body.amount: value is not a valid decimal; body.identifiers.0.value: field required"},
		"422_pydantic_v2": {[]error{ErrValidation}, "", []string{"body.amount: Input should be greater than 0", "query.phone: Field required"}, false, "",
			"body.amount: Input should be greater than 0"},
		"429_detail": {[]error{ErrRateLimited}, "Too Many Requests", nil, true, "", "429 Too Many Requests"},
		"429_error":  {[]error{ErrRateLimited}, "Rate limit exceeded: 5 per 1 minute", nil, false, "req-7f3a", "(request id req-7f3a)"},
		"500_plain":  {[]error{ErrServer}, "Internal Server Error", nil, false, "", "500 Internal Server Error"},
		"502_html":   {[]error{ErrServer}, "502 Bad Gateway", nil, false, "", "502 Bad Gateway"},
		"503_html":   {[]error{ErrServer}, "503 Service Temporarily Unavailable", nil, false, "", "503 Service Unavailable"},
		"504_json":   {[]error{ErrServer}, "Gateway Timeout", nil, false, "", "504 Gateway Timeout"},
	}
	require.Len(t, tests, len(errorFixtures), "every fixture has a row")
	for _, name := range errorFixtures {
		tt := tests[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t, WithRetry(RetryPolicy{MaxAttempts: 1}))
			mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), serveFixture(t, "errors/"+name+".http"))
			err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			for _, s := range sentinels {
				want := false
				for _, w := range tt.sentinels {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(err, s), "errors.Is(%v)", s)
			}
			assert.Equal(t, tt.detail, apiErr.Detail)
			var got []string
			for _, v := range apiErr.Validation {
				got = append(got, v.Field()+": "+v.Msg)
			}
			assert.Equal(t, tt.validation, got)
			assert.Equal(t, tt.retryAfter, apiErr.RetryAfter > 0)
			assert.Equal(t, tt.requestID, apiErr.RequestID)
			assert.Equal(t, http.MethodGet, apiErr.Method)
			assert.Equal(t, "/pb/api/v0/x", apiErr.Path, "the path the server saw, the base URL's prefix included")
			assert.NotEmpty(t, apiErr.Body)
			assert.Contains(t, err.Error(), tt.message)
			assert.True(t, strings.HasPrefix(err.Error(), "probonus: GET /pb/api/v0/x: "), err.Error())
		})
	}
}

func TestPydanticV2ItemsKeepInputAndCtx(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockURL("/api/v0/accounts/refill"), serveFixture(t, "errors/422_pydantic_v2.http"))
	_, err := c.Accounts.Refill(context.Background(), Refill{AccountID: 1, Amount: MustAmount("1")})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Len(t, apiErr.Validation, 2)
	v := apiErr.Validation[0]
	assert.Equal(t, []any{"body", "amount"}, v.Loc)
	assert.Equal(t, "greater_than", v.Type)
	assert.Equal(t, "-5", v.Input)
	assert.Equal(t, map[string]any{"gt": float64(0)}, v.Ctx)
	assert.Contains(t, v.URL, "errors.pydantic.dev")
}

func TestValidationLocKeepsInts(t *testing.T) {
	t.Parallel()
	_, items, _ := parseErrorBody([]byte(`{"detail":[{"loc":["body","identifiers",0,"value"],"msg":"field required","type":"value_error.missing"}]}`))
	require.Len(t, items, 1)
	assert.Equal(t, "body.identifiers.0.value", items[0].Field())
	assert.Equal(t, float64(0), items[0].Loc[2])
}

func TestErrorBodyShapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, detail string }{
		{``, ""},
		{`   `, ""},
		{`{"detail":"x"}`, "x"},
		{`{"message":"m"}`, "m"},
		{`{"other":1}`, `{"other":1}`},
		{`{"detail":[1,2]}`, `[1,2]`},
		{`{"detail":[]}`, `[]`},
		{`{"detail":null}`, ""},
		{"line one\nline two", "line one"},
		{`<html><h1 class="x">Down</h1></html>`, "Down"},
		{`[1,2`, "[1,2"},
		{strings.Repeat("é", 300), strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: 400, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
		assert.Equal(t, tt.detail, parseError(resp, "GET", "/p", newRedactor()).Detail, tt.body)
	}
}

func TestErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/api/v0/x"), func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 400, Body: readCloser{endless{}}, Header: http.Header{}, ContentLength: -1}, nil
	})
	err := c.Do(context.Background(), http.MethodGet, "/api/v0/x", nil, nil, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, keptErrorBody)
}

type readCloser struct{ endless }

func (readCloser) Close() error { return nil }

func TestInputAndAuthErrors(t *testing.T) {
	t.Parallel()
	ie := &InputError{Field: "Refill.Amount", Reason: "must be positive"}
	assert.Equal(t, "probonus: invalid Refill.Amount: must be positive", ie.Error())
	assert.ErrorIs(t, ie, ErrInvalidInput)
	assert.NotErrorIs(t, ie, ErrBadRequest)

	cause := &APIError{StatusCode: 400, Method: "POST", Path: "/api/v0/auth/login", Detail: "bad"}
	ae := &AuthError{Op: "login", Err: cause}
	assert.ErrorIs(t, ae, ErrUnauthorized)
	assert.NotErrorIs(t, ae, ErrBadRequest, "a refused login is not a refused request")
	timeout := &AuthError{Op: "login", Err: fmt.Errorf("probonus: POST /api/v0/auth/login: %w", context.DeadlineExceeded)}
	assert.ErrorIs(t, timeout, context.DeadlineExceeded, "a transport or context cause stays reachable")
	assert.Equal(t, "login failed: POST /api/v0/auth/login: 400 Bad Request: bad", ae.Error())

	de := &DecodeError{StatusCode: 200, Method: "GET", Path: "/p", Sample: "<", Err: errors.New("boom")}
	assert.Equal(t, "boom", errors.Unwrap(de).Error())
}

func TestManyValidationItemsAreSummarised(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 422, Method: "POST", Path: "/p", RetryAfter: time.Second}
	for i := range 5 {
		e.Validation = append(e.Validation, ValidationIssue{Loc: []any{"body", float64(i)}, Msg: "bad"})
	}
	assert.Equal(t, "probonus: POST /p: 422 Unprocessable Entity: body.0: bad; body.1: bad; body.2: bad; and 2 more", e.Error())
}

// TestSentinelsListsEverySentinel: every exported Err… variable of the package is in Sentinels, so
// code that classifies errors by it misses none.
func TestSentinelsListsEverySentinel(t *testing.T) {
	t.Parallel()
	var names []string
	for _, f := range parseSources(t, ".", 0) {
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == gotoken.VAR {
				for _, spec := range gd.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						if strings.HasPrefix(n.Name, "Err") {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	assert.Len(t, Sentinels(), len(names), "sentinels declared: %v", names)
}

// parseSources parses the package's files in dir, tests left out (go/parser's ParseDir is
// deprecated: it ignores build tags, which none of these files have).
func parseSources(t *testing.T, dir string, mode parser.Mode) map[string]*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	fset := gotoken.NewFileSet()
	files := map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, mode)
		require.NoError(t, err)
		files[name] = f
	}
	return files
}

// From the hardening of issue 10.
// TestMessagesDoNotRepeatThemselves: "503 Service Unavailable: 503 Service Unavailable" and
// "404 Not Found: Not Found" read once; a cancelled context does not speak of a limiter the client
// does not have; an input error names the call.
func TestMessagesDoNotRepeatThemselves(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status int
		detail string
		want   string
	}{
		{503, "503 Service Unavailable", "503 Service Unavailable"},
		{503, "503 Service Temporarily Unavailable", "503 Service Unavailable"},
		{404, "Not Found", "404 Not Found"},
		{504, "504 Gateway Time-out", "504 Gateway Timeout"},
		{404, "Аккаунт не найден", "404 Not Found: Аккаунт не найден"},
		{500, "500 rows were locked by another transaction, try again", "500 Internal Server Error: 500 rows were locked by another transaction, try again"},
	} {
		e := &APIError{StatusCode: tt.status, Method: "GET", Path: "/api/v0/x", Detail: tt.detail}
		assert.Equal(t, "probonus: GET /api/v0/x: "+tt.want, e.Error())
	}

	c, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Do(ctx, http.MethodGet, "/api/v0/x", nil, nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "probonus: GET /pb/api/v0/x: context canceled", err.Error())

	_, err = c.Accounts.FindByPhone(context.Background(), "12")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.True(t, strings.HasPrefix(err.Error(), "probonus: Accounts.FindByPhone: invalid phone: "), err.Error())
	_, err = c.Accounts.Refill(context.Background(), Refill{AccountID: 1})
	assert.EqualError(t, err, "probonus: Accounts.Refill: invalid Refill.Amount: must be positive")
}
