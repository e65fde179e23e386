package probonus

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenAPIDocumentIsCurrent: the committed openapi.json is what the code derives; run go
// generate when it is not.
func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(committed, OpenAPI()), "openapi.json is stale: run go generate in the module's root")
}

// TestOpenAPIDocumentHasTheTable: every row of the endpoint table is an operation with its query
// keys, body and answer; every property names its Go field and whether it is seen.
func TestOpenAPIDocumentHasTheTable(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name     string `json:"name"`
				Required bool   `json:"required"`
			} `json:"parameters"`
			RequestBody *json.RawMessage `json:"requestBody"`
			Operations  []struct {
				Name  string   `json:"name"`
				Query []string `json:"query"`
			} `json:"x-probonus-operations"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
				Required   []string                  `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(OpenAPI(), &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	require.Len(t, endpoints, 11)
	for _, d := range endpoints {
		op, ok := doc.Paths[d.path][strings.ToLower(d.method)]
		require.True(t, ok, "%s %s", d.method, d.path)
		found := false
		for _, o := range op.Operations {
			if o.Name == d.op {
				found = true
				var keys []string
				for _, p := range d.query {
					keys = append(keys, p.key)
				}
				assert.ElementsMatch(t, keys, o.Query, d.op)
			}
		}
		assert.True(t, found, d.op)
		assert.Equal(t, d.body != nil, op.RequestBody != nil, d.op)
	}
	tx := doc.Paths[epTransactions.path]["get"]
	required := map[string]bool{}
	for _, p := range tx.Parameters {
		required[p.Name] = p.Required
	}
	assert.Equal(t, map[string]bool{"accountId": true, "dateFrom": false, "dateTo": false, "count": false}, required,
		"a parameter one of the two methods leaves out is not required")

	refill := doc.Components.Schemas["Refill"]
	assert.Equal(t, []string{"accountId", "amount"}, refill.Required, "what the SDK always sends")
	assert.Equal(t, "Refill.Amount", refill.Properties["amount"]["x-go-field"])
	assert.Equal(t, "money", refill.Properties["amount"]["x-probonus-kind"])
	assert.Equal(t, []any{"number", "string"}, refill.Properties["amount"]["type"])
	assert.Equal(t, false, refill.Properties["amount"]["x-probonus-seen"])
	assert.Equal(t, true, doc.Components.Schemas["AccountGroup"].Properties["haveTemplate"]["x-probonus-seen"])
	assert.Equal(t, true, doc.Components.Schemas["NewAccount"].Properties["accountId"]["x-probonus-seen"])
	assert.Equal(t, []any{"integer", "string"}, doc.Components.Schemas["Coupon"].Properties["dishCode"]["type"])
	token := doc.Components.Schemas["Token"]
	assert.Equal(t, []any{"access_token"}, token.Properties["accessToken"]["x-probonus-also"])
	assert.Empty(t, token.Required, "each token field is read under two names")
	for name, s := range doc.Components.Schemas {
		for prop, p := range s.Properties {
			assert.Contains(t, p, "x-go-field", name+"."+prop)
			assert.Contains(t, p, "x-probonus-seen", name+"."+prop)
		}
	}
}

// TestImportGraphHasNoOpenAPILibrary: the SDK package imports no OpenAPI library; only the CLI
// and internal/ do.
func TestImportGraphHasNoOpenAPILibrary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/probonus-go/probonus").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, pkg := range strings.Fields(string(out)) {
		for _, lib := range []string{"kin-openapi", "libopenapi", "openapi", "yaml"} {
			assert.NotContains(t, pkg, lib)
		}
	}
	assert.Contains(t, string(out), "github.com/shopspring/decimal", "the listing is the SDK's")
}
