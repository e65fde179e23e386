package openapidiff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generations are the FastAPI documents of testdata/fastapi/app.py, one folder per generation.
var generations = []string{"fastapi-0.92", "fastapi-0.115"}

func read(t *testing.T, gen, variant string) *Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fastapi", gen, variant+".json"))
	require.NoError(t, err)
	d, err := Read(b)
	require.NoError(t, err)
	return d
}

func bySeverity(ds []Difference, sev string) []Difference {
	var out []Difference
	for _, d := range ds {
		if d.Severity == sev {
			out = append(out, d)
		}
	}
	return out
}

// TestMirrorHasNoDifference: the FastAPI app that mirrors the model gives no fail, no warn and no
// info, in both generations (3.0.2 with allOf around a $ref; 3.1.0 with anyOf and null, and
// Level-Input/Level-Output).
func TestMirrorHasNoDifference(t *testing.T) {
	t.Parallel()
	for _, gen := range generations {
		doc := read(t, gen, "mirror")
		assert.Empty(t, Compare(Model(), doc), gen)
	}
	assert.Equal(t, "3.0.2", read(t, "fastapi-0.92", "mirror").Version)
	assert.Equal(t, "3.1.0", read(t, "fastapi-0.115", "mirror").Version)
}

// TestToleratedVariants: snake_case token names, codes as strings only, money as a string or a
// number, an extra optional request field: nothing.
func TestToleratedVariants(t *testing.T) {
	t.Parallel()
	for _, gen := range generations {
		assert.Empty(t, Compare(Model(), read(t, gen, "tolerated")), gen)
	}
}

// TestDifferenceKinds: one variant of the mirror per kind of difference, each found as exactly
// one difference naming the Go field and the server's property, in both generations.
func TestDifferenceKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		variant string
		want    Difference // Message: a part of it
	}{
		{"missing-endpoint", Difference{Severity: Fail, Method: "POST", Path: "/api/v0/accounts/refill", Where: InEndpoint, SDK: "POST /api/v0/accounts/refill",
			Message: "Accounts.Refill calls POST /api/v0/accounts/refill, which the server does not have"}},
		{"other-method", Difference{Severity: Fail, Method: "POST", Path: "/api/v0/accounts/update", Where: InEndpoint, SDK: "POST", Server: "PUT",
			Message: "the server has PUT there"}},
		{"query-renamed", Difference{Severity: Fail, Method: "GET", Path: "/api/v0/accounts/find_by_phone", Where: InQuery, SDK: "phone", Server: "phoneNumber",
			Message: "query phone (Accounts.FindByPhone) is phoneNumber here?"}},
		{"query-required", Difference{Severity: Fail, Method: "GET", Path: "/api/v0/accounts/transactions", Where: InQuery, Server: "count",
			Message: "the server requires the query parameter count, which Accounts.Transactions never sends"}},
		{"body-unknown", Difference{Severity: Fail, Method: "POST", Path: "/api/v0/accounts/insert_by_template", Where: InBody, SDK: "identifiers (NewAccount.Identifiers)", Server: "NewAccount",
			Message: "which the server's NewAccount does not have"}},
		{"body-renamed", Difference{Severity: Fail, Method: "POST", Path: "/api/v0/accounts/refill", Where: InBody, SDK: "amount (Refill.Amount)", Server: "Refill.sum",
			Message: "amount (Refill.Amount) is sum here?"}},
		{"body-required", Difference{Severity: Fail, Method: "POST", Path: "/api/v0/accounts/refill", Where: InBody, SDK: "reason (Refill.Reason)", Server: "Refill.reason",
			Message: "which the SDK leaves out when it is not set"}},
		{"body-kopecks", Difference{Severity: Fail, Method: "POST", Path: "/api/v0/accounts/refill", Where: InBody, SDK: "amount (Refill.Amount)", Server: "Refill.amount",
			Message: "money in kopecks?"}},
		{"auth-header", Difference{Severity: Fail, Where: InAuth, SDK: "X-API-Key", Server: "X-Auth-Token (header APIKeyHeader)",
			Message: "the server reads its API key from X-Auth-Token"}},
		{"response-missing", Difference{Severity: Warn, Method: "GET", Path: "/api/v0/accounts/find_by_phone", Where: InResponse, SDK: "tags (Account.Tags)", Server: "Account",
			Message: "the SDK reads it as an empty list"}},
		{"response-renamed", Difference{Severity: Warn, Method: "GET", Path: "/api/v0/accounts/find_by_phone", Where: InResponse, SDK: "balance (Account.Balance)", Server: "Account.bonusBalance",
			Message: "balance (Account.Balance) is bonusBalance here? The server's Account has bonusBalance"}},
		{"response-type", Difference{Severity: Warn, Method: "GET", Path: "/api/v0/accounts/transactions", Where: InResponse, SDK: "id (Transaction.ID)", Server: "Transaction.id",
			Message: "the server's Transaction.id is string, which the SDK cannot read"}},
		{"response-enum", Difference{Severity: Warn, Method: "GET", Path: "/api/v0/accounts/transactions", Where: InResponse,
			SDK:     "type (Transaction.Type): check_accrual, check_payment, refill, withdrawal, burn, deferred_accrual",
			Server:  "Transaction.type: accrual, payment, refill",
			Message: "the values of type (Transaction.Type) differ"}},
		{"response-extra", Difference{Severity: Info, Method: "GET", Path: "/api/v0/accounts/find_by_phone", Where: InResponse, Server: "Account.loyaltyCard",
			Message: "the server's Account has loyaltyCard (string), which the SDK's Account does not model"}},
		{"extra-endpoint", Difference{Severity: Info, Method: "POST", Path: "/api/v0/accounts/delete", Where: InEndpoint, Server: "POST /api/v0/accounts/delete",
			Message: `client.Do(ctx, "POST", "/api/v0/accounts/delete", query, body, &out)`}},
	}
	for _, tc := range cases {
		for _, gen := range generations {
			t.Run(tc.variant+"/"+gen, func(t *testing.T) {
				t.Parallel()
				got := Compare(Model(), read(t, gen, tc.variant))
				require.Len(t, got, 1, "%+v", got)
				d := got[0]
				assert.Contains(t, d.Message, tc.want.Message)
				d.Message = tc.want.Message
				assert.Equal(t, tc.want, d)
			})
		}
	}
}

// TestNoSecuritySchemes: a document without schemes cannot tell; that is said, not failed.
func TestNoSecuritySchemes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/fastapi/fastapi-0.115/mirror.json")
	require.NoError(t, err)
	s := strings.Replace(string(b), `"securitySchemes"`, `"notSecuritySchemes"`, 1)
	doc, err := Read([]byte(s))
	require.NoError(t, err)
	got := Compare(Model(), doc)
	require.Len(t, got, 1)
	assert.Equal(t, Info, got[0].Severity)
	assert.Equal(t, InAuth, got[0].Where)
}

// TestReadRefuses: not a document, another OpenAPI major, too large; a $ref cycle is read.
func TestReadRefuses(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"html":    "<html>Swagger UI</html>",
		"swagger": `{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}`,
		"empty":   ``,
	} {
		_, err := Read([]byte(doc))
		assert.Error(t, err, name)
	}
	_, err := Read(make([]byte, MaxSize+1))
	assert.ErrorContains(t, err, "MiB")
}

// cyclic is a 3.1 document whose Account holds itself, directly and through a list.
const cyclic = `{"openapi": "3.1.0", "info": {"title": "cycle", "version": "1"},
 "paths": {"/api/v0/accounts/find_by_phone": {"get": {
   "parameters": [{"name": "phone", "in": "query", "required": true, "schema": {"type": "string"}}],
   "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}}}}}},
 "components": {"schemas": {"Account": {"type": "object", "properties": {
   "id": {"type": "integer"}, "balance": {"type": "number"},
   "parent": {"anyOf": [{"$ref": "#/components/schemas/Account"}, {"type": "null"}]},
   "children": {"type": "array", "items": {"$ref": "#/components/schemas/Account"}}}}}}}`

// TestRefCycle: a schema that holds itself is read and compared, without a hang.
func TestRefCycle(t *testing.T) {
	t.Parallel()
	doc, err := Read([]byte(cyclic))
	require.NoError(t, err)
	got := Compare(Model(), doc)
	assert.NotEmpty(t, bySeverity(got, Fail), "most endpoints are missing")
	var extra []string
	for _, d := range bySeverity(got, Info) {
		extra = append(extra, d.Server)
	}
	assert.Contains(t, extra, "Account.children", "coupons, identifiers and phones could each be children: no rename is guessed")
}

// TestSeveral: the variants together give each of their differences, in both generations; with
// two unmodelled strings beside the missing balance, no rename is guessed.
func TestSeveral(t *testing.T) {
	t.Parallel()
	for _, gen := range generations {
		got := Compare(Model(), read(t, gen, "several"))
		assert.Len(t, bySeverity(got, Fail), 3, gen)
		assert.Len(t, bySeverity(got, Warn), 2, gen)
		assert.Len(t, bySeverity(got, Info), 3, gen)
		for _, d := range got {
			assert.NotContains(t, d.Message, "bonusBalance here?", "loyaltyCard could be balance too")
		}
	}
}
