package probonustest_test

// Review of issue 26's fixes to the fake (adversarial; these tests FAIL on the branch as reviewed).
//
// Findings:
//   - item 8 (timeouts): a request whose body was cut short (the client closed mid-body, or the
//     read timeout ended a slow-loris body) is served as if complete: readBody treats any read
//     error as the end of the body, so a refill whose JSON prefix parses is credited although
//     the client never finished sending it (TestReview26TruncatedBodyIsNotServed).
//   - item 19 (Pydantic/FastAPI messages), each checked against FastAPI ≥ 0.100 with Pydantic v2:
//     `{}` reports only the first missing field (FastAPI reports every one) and a missing body
//     field's input is null (Pydantic gives the body object); Legacy (Pydantic v1) likewise one item (TestReview26ValidationEveryMissingField);
//     a body that is not JSON is model_attributes_type (FastAPI: json_invalid, "JSON decode error",
//     loc ["body", pos], input {}), an empty body likewise (FastAPI: missing at ["body"])
//     (TestReview26ValidationBodyNotJSON); a string accountId's input keeps its JSON quotes and a
//     fractional one is int_parsing of a string (Pydantic: int_from_float, input the number)
//     (TestReview26ValidationInputIsTheValueSent); "NaN" and true as amounts are decimal_parsing
//     (Pydantic: finite_number, decimal_type) (TestReview26ValidationAmountKinds).
//   - money: an amount past int64 kopecks wraps: "184467440737095516.17" is credited as 0.01
//     (TestReview26HugeAmountIsNotWrapped).
//
// Held: the admin Host check (port, [::1], trailing dot, upper case, localhost.attacker.com
// refused), Origin null and cross-origin refused, CORS preflight refusals (Starlette's words),
// --cors with a path refused, the request log's bounds (Max, MaxBytes, AuthenticatedOnly), and
// FastAPI's omission of Pydantic's "url".

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus/probonustest"
)

// issue 26 item 19: FastAPI validates the whole body model and reports every field at fault, and
// Pydantic v2's input of a missing field is the object it was missing from. `{}` to refill is
// two items, accountId and amount, each with input {}; today one item, input null.
func TestReview26ValidationEveryMissingField(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	status, out := postBody(t, srv, probonustest.PathRefill, "application/json", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	items := detailItems(t, out)
	var locs []any
	for _, it := range items {
		locs = append(locs, it["loc"])
		assert.Equal(t, "missing", it["type"])
		assert.Equal(t, map[string]any{}, it["input"], "a missing field's input is the body object: %v", it)
	}
	assert.Equal(t, []any{[]any{"body", "accountId"}, []any{"body", "amount"}}, locs)

	status, out = postBody(t, srv, probonustest.PathRefill, "application/json", `{"accountId":1001}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	items = detailItems(t, out)
	require.Len(t, items, 1)
	assert.Equal(t, map[string]any{"accountId": json.Number("1001")}, items[0]["input"])
	// Pydantic v1 (Legacy) validates every field too: two items, without input
	legacy := probonustest.NewServer(t, probonustest.WithFlavor(probonustest.Legacy))
	status, out = postBody(t, legacy, probonustest.PathRefill, "application/json", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, []map[string]any{
		{"loc": []any{"body", "accountId"}, "msg": "field required", "type": "value_error.missing"},
		{"loc": []any{"body", "amount"}, "msg": "field required", "type": "value_error.missing"},
	}, detailItems(t, out))
}

// issue 26 item 19: a body that is not JSON is, in FastAPI, {"type": "json_invalid", "loc":
// ["body", <position>], "msg": "JSON decode error", "input": {}, "ctx": {"error": ...}}; an empty
// body is {"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}. Today both
// are model_attributes_type with the raw text as input.
func TestReview26ValidationBodyNotJSON(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	status, out := postBody(t, srv, probonustest.PathRefill, "application/json", `{"accountId": 1001,`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	items := detailItems(t, out)
	require.Len(t, items, 1)
	assert.Equal(t, "json_invalid", items[0]["type"])
	assert.Equal(t, "JSON decode error", items[0]["msg"])
	assert.Equal(t, map[string]any{}, items[0]["input"])
	if loc, ok := items[0]["loc"].([]any); assert.True(t, ok) && assert.Len(t, loc, 2) {
		assert.Equal(t, "body", loc[0])
		assert.IsType(t, json.Number(""), loc[1], "the position of the error")
	}
	assert.Contains(t, items[0], "ctx")

	status, out = postBody(t, srv, probonustest.PathRefill, "application/json", ``)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	items = detailItems(t, out)
	require.Len(t, items, 1)
	assert.Equal(t, map[string]any{"type": "missing", "loc": []any{"body"}, "msg": "Field required", "input": nil}, items[0])
}

// issue 26 item 19: the input Pydantic reports is the value sent: "abc" for "abc" (today the
// JSON text "\"abc\"", quotes and all), and 1.5 for a fractional accountId, with Pydantic v2's
// int_from_float (today int_parsing, "unable to parse string", and the input a string).
func TestReview26ValidationInputIsTheValueSent(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	_, out := postBody(t, srv, probonustest.PathRefill, "application/json", `{"accountId":"abc","amount":5}`)
	items := detailItems(t, out)
	require.Len(t, items, 1)
	assert.Equal(t, "abc", items[0]["input"])
	assert.Equal(t, "int_parsing", items[0]["type"])

	_, out = postBody(t, srv, probonustest.PathRefill, "application/json", `{"accountId":1.5,"amount":5}`)
	items = detailItems(t, out)
	require.Len(t, items, 1)
	assert.Equal(t, map[string]any{"type": "int_from_float", "loc": []any{"body", "accountId"},
		"msg": "Input should be a valid integer, got a number with a fractional part", "input": json.Number("1.5")}, items[0])
}

// issue 26 item 19: Pydantic v2's Decimal refuses "NaN" as finite_number ("Input should be a
// finite number") and a boolean as decimal_type ("Decimal input should be an integer, float,
// string or Decimal object"); today both are decimal_parsing.
func TestReview26ValidationAmountKinds(t *testing.T) {
	t.Parallel()
	srv := probonustest.NewServer(t)
	id := srv.AddAccount(probonustest.Account{GroupID: 3, Phone: "+79000000002", Balance: "0"})
	for _, tc := range []struct {
		amount, typ, msg string
		input            any
	}{
		{`"NaN"`, "finite_number", "Input should be a finite number", "NaN"},
		{`true`, "decimal_type", "Decimal input should be an integer, float, string or Decimal object", true},
	} {
		_, out := postBody(t, srv, probonustest.PathRefill, "application/json", fmt.Sprintf(`{"accountId":%d,"amount":%s}`, id, tc.amount))
		items := detailItems(t, out)
		require.Len(t, items, 1)
		assert.Equal(t, map[string]any{"type": tc.typ, "loc": []any{"body", "amount"}, "msg": tc.msg, "input": tc.input}, items[0], tc.amount)
	}
	assert.Equal(t, "0.00", srv.Balance(id))
}
