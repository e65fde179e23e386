package probonustest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// From the adversarial review of issue 26 (money in the fake).
// Money in the fake: an amount beyond what int64 kopecks hold wrapped around. 2^64+1 kopecks
// ("184467440737095516.17") was credited as 0.01 and answered 200: a client test of large
// amounts passed against a fake that silently changed the amount. It is refused (the amount is
// condecimal(max_digits=18, decimal_places=2)), never credited as another amount.
func TestReview26HugeAmountIsNotWrapped(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000003", Balance: "0"})
	status, out := postBody(t, srv, probonustest.PathRefill, "application/json", fmt.Sprintf(`{"accountId":%d,"amount":"184467440737095516.17"}`, id))
	if status == http.StatusOK {
		assert.Equal(t, "184467440737095516.17", out["balance"], "credited as another amount")
	} else {
		assert.Equal(t, "0.00", srv.Balance(id))
	}
	assert.NotEqual(t, "0.01", srv.Balance(id))
}

// A balance the column cannot hold is refused as the database would (500), and nothing is
// credited: many refills of the largest amount never wrap the balance around int64 either.
func TestRefillBeyondTheLargestBalanceIsRefused(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000004", Balance: "9999999999999999.00"})
	body := fmt.Sprintf(`{"accountId":%d,"amount":"0.99"}`, id)
	status, _ := postBody(t, srv, probonustest.PathRefill, "application/json", body)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "9999999999999999.99", srv.Balance(id))

	req, err := http.NewRequest(http.MethodPost, srv.URL()+probonustest.PathRefill, strings.NewReader(
		fmt.Sprintf(`{"accountId":%d,"amount":"0.01"}`, id)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", srv.APIKey())
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "9999999999999999.99", srv.Balance(id), "nothing credited")
}

// issue 26 item 19: a body is read as fastapi/routing.py reads it. JSON that Python's json
// refuses is json_invalid at the character (not byte) where CPython's scanner stopped, with its
// message; Pydantic v1's FastAPI gave value_error.jsondecode with the error's fields as ctx. The
// fake answered every such body as model_attributes_type, the text as input.
func TestBodyIsReadAsFastAPIReadsIt(t *testing.T) {
	t.Parallel()
	n := func(i int) json.Number { return json.Number(strconv.Itoa(i)) }
	for _, tc := range []struct {
		name, body, msg string
		pos, line, col  int
	}{
		{"a missing colon", `{"a" 1}`, "Expecting ':' delimiter", 5, 1, 6},
		{"positions count characters", `{"имя" 1}`, "Expecting ':' delimiter", 7, 1, 8},
		{"a trailing comma (Python 3.13)", `{"accountId":1,"amount":5,}`, "Illegal trailing comma before end of object", 25, 1, 26},
		{"a value on the second line", "{\n  \"a\": tru\n}", "Expecting value", 9, 2, 8},
		{"only spaces", "   ", "Expecting value", 3, 1, 4},
		{"an unknown escape", `{"a":"x\q"}`, `Invalid \escape`, 7, 1, 8},
		{"an unterminated string", `{"a`, "Unterminated string starting at", 1, 1, 2},
		{"a control character", "{\"a\":\"x\ty\"}", "Invalid control character at", 7, 1, 8},
		{"a short unicode escape", `{"a":"\u12"}`, `Invalid \uXXXX escape`, 7, 1, 8},
		{"extra data", `{} {}`, "Extra data", 3, 1, 4},
		{"a number without digits", `{"a":-}`, "Expecting value", 5, 1, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probonustest.NewServer(t)
			status, out := postBody(t, srv, probonustest.PathRefill, "application/json", tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status)
			assert.Equal(t, []map[string]any{{"type": "json_invalid", "loc": []any{"body", n(tc.pos)}, "msg": "JSON decode error",
				"input": map[string]any{}, "ctx": map[string]any{"error": tc.msg}}}, detailItems(t, out))

			legacy := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
			status, out = postBody(t, legacy, probonustest.PathRefill, "application/json", tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status)
			assert.Equal(t, []map[string]any{{"loc": []any{"body", n(tc.pos)},
				"msg":  fmt.Sprintf("%s: line %d column %d (char %d)", tc.msg, tc.line, tc.col, tc.pos),
				"type": "value_error.jsondecode",
				"ctx":  map[string]any{"msg": tc.msg, "doc": tc.body, "pos": n(tc.pos), "lineno": n(tc.line), "colno": n(tc.col)}}}, detailItems(t, out))
		})
	}
}

// issue 26 item 19: the body's other shapes, as FastAPI answers them.
func TestBodyThatIsNoObject(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	legacy := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
	notObject := func(input any) []map[string]any {
		return []map[string]any{{"type": "model_attributes_type", "loc": []any{"body"},
			"msg": "Input should be a valid dictionary or object to extract fields from", "input": input}}
	}
	for _, tc := range []struct {
		name, contentType, body string
		modern                  []map[string]any
		legacy                  []map[string]any
	}{
		{"a list", "application/json", `[1,"a"]`, notObject([]any{json.Number("1"), "a"}),
			[]map[string]any{{"loc": []any{"body"}, "msg": "value is not a valid dict", "type": "type_error.dict"}}},
		{"null", "application/json", `null`, []map[string]any{{"type": "missing", "loc": []any{"body"}, "msg": "Field required", "input": nil}},
			[]map[string]any{{"loc": []any{"body"}, "msg": "field required", "type": "value_error.missing"}}},
		{"JSON declared as text: its text", "text/plain", `{"accountId":1}`, notObject(`{"accountId":1}`),
			[]map[string]any{{"loc": []any{"body"}, "msg": "value is not a valid dict", "type": "type_error.dict"}}},
	} {
		for f, want := range map[*probonustest.Server][]map[string]any{srv: tc.modern, legacy: tc.legacy} {
			status, out := postBody(t, f, probonustest.PathRefill, tc.contentType, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status, tc.name)
			assert.Equal(t, want, detailItems(t, out), tc.name)
		}
	}

	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000006", Balance: "0"})
	// a +json media type is JSON
	status, _ := postBody(t, srv, probonustest.PathRefill, "application/vnd.api+json", fmt.Sprintf(`{"accountId":%d,"amount":"1"}`, id))
	assert.Equal(t, http.StatusOK, status)
	// bytes that are not UTF-8: FastAPI's 400 when reading the body fails
	status, out := postBody(t, srv, probonustest.PathRefill, "application/json", "{\"accountId\":\xff}")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, map[string]any{"detail": "There was an error parsing the body"}, out)
	// nesting past Python's recursion limit: a RecursionError, FastAPI's 400
	status, out = postBody(t, srv, probonustest.PathRefill, "application/json", strings.Repeat("[", 20000)+strings.Repeat("]", 20000))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, map[string]any{"detail": "There was an error parsing the body"}, out)
	// NaN: Python reads it, Pydantic refuses it, Starlette cannot write the refusal: 500, nothing credited
	req, err := http.NewRequest(http.MethodPost, srv.URL()+probonustest.PathRefill, strings.NewReader(fmt.Sprintf(`{"accountId":%d,"amount":NaN}`, id)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", srv.APIKey())
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "1.00", srv.Balance(id))
}
