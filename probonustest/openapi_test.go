package probonustest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// modelDoc is probonus.OpenAPI, decoded.
type modelDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*modelSchema `json:"schemas"`
	} `json:"components"`
}

type modelSchema struct {
	Ref        string                  `json:"$ref"`
	AllOf      []*modelSchema          `json:"allOf"`
	Items      *modelSchema            `json:"items"`
	Properties map[string]*modelSchema `json:"properties"`
	Required   []string                `json:"required"`
	Also       []string                `json:"x-probonus-also"`
}

func loadModel(t *testing.T) *modelDoc {
	var d modelDoc
	require.NoError(t, json.Unmarshal(probonus.OpenAPI(), &d))
	return &d
}

// resolve follows $ref and allOf to the schema with the properties or items.
func (d *modelDoc) resolve(s *modelSchema) *modelSchema {
	for s != nil {
		switch {
		case s.Ref != "":
			s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		case len(s.AllOf) == 1:
			s = s.AllOf[0]
		default:
			return s
		}
	}
	return nil
}

// fieldsIn reports each field of v that the schema lacks, by its JSON path.
func (d *modelDoc) fieldsIn(s *modelSchema, v any, at string, missing *[]string) {
	s = d.resolve(s)
	switch v := v.(type) {
	case []any:
		if s != nil && s.Items != nil {
			for _, e := range v {
				d.fieldsIn(s.Items, e, at+"[]", missing)
			}
		}
	case map[string]any:
		for k, val := range v {
			p := s.Properties[k]
			if p == nil {
				for _, other := range s.Properties {
					for _, a := range other.Also {
						if a == k {
							p = other
						}
					}
				}
			}
			if p == nil {
				*missing = append(*missing, at+k)
				continue
			}
			d.fieldsIn(p, val, at+k+".", missing)
		}
	}
}

func (d *modelDoc) operation(t *testing.T, method, path string) (body, answer *modelSchema) {
	raw, ok := d.Paths[path][strings.ToLower(method)]
	require.True(t, ok, "%s %s is not in probonus.OpenAPI", method, path)
	var op struct {
		RequestBody struct {
			Content map[string]struct {
				Schema *modelSchema `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema *modelSchema `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	require.NoError(t, json.Unmarshal(raw, &op))
	return op.RequestBody.Content["application/json"].Schema, op.Responses["200"].Content["application/json"].Schema
}

// TestFakeFollowsTheModel holds the fake to the SDK's document, in both flavours: every route it
// serves is in it; every field of every answer is in the answer's schema; a body with only the
// fields the document requires is taken (the fake requires nothing more).
func TestFakeFollowsTheModel(t *testing.T) {
	t.Parallel()
	doc := loadModel(t)
	for _, rt := range routes {
		doc.operation(t, rt.method, rt.path)
	}
	for _, flavor := range []Flavor{Legacy, Modern} {
		srv := NewServer(t, WithFlavor(flavor), WithDemoData())
		call := func(method, path string, q url.Values, body any) any {
			var r io.Reader
			if body != nil {
				b, _ := json.Marshal(body)
				r = bytes.NewReader(b)
			}
			req, err := http.NewRequest(method, srv.URL()+path+"?"+q.Encode(), r)
			require.NoError(t, err)
			req.Header.Set("X-API-Key", srv.APIKey())
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, path, b)
			var v any
			require.NoError(t, json.Unmarshal(b, &v))
			reqSchema, answer := doc.operation(t, method, path)
			if body != nil {
				sent := map[string]bool{}
				for k := range body.(map[string]any) {
					sent[k] = true
				}
				for _, k := range doc.resolve(reqSchema).Required {
					assert.True(t, sent[k], "%s %s: the document requires %s", method, path, k)
				}
			}
			var missing []string
			doc.fieldsIn(answer, v, "", &missing)
			assert.Empty(t, missing, "%s %s (%s) sends fields the document's answer lacks", method, path, flavor)
			return v
		}
		login, password := srv.Login()
		tok := call(http.MethodPost, PathLogin, nil, map[string]any{"login": login, "password": password}).(map[string]any)
		refresh, _ := tok["refreshToken"].(string)
		if refresh == "" {
			refresh, _ = tok["refresh_token"].(string)
		}
		call(http.MethodPost, PathRefreshToken, nil, map[string]any{"refreshToken": refresh})
		call(http.MethodGet, PathAccountGroupsList, nil, nil)
		acc := call(http.MethodGet, PathFindByPhone, url.Values{"phone": {"79161112233"}}, nil).(map[string]any)
		id := int64(acc["id"].(float64))
		idq := url.Values{"accountId": {strconvI(id)}}
		call(http.MethodGet, PathBalanceExtended, idq, nil)
		txs := call(http.MethodGet, PathTransactions, url.Values{"accountId": idq["accountId"], "count": {"50"}}, nil).([]any)
		call(http.MethodGet, PathTransactions, url.Values{"accountId": idq["accountId"], "dateFrom": {"2000-01-01T00:00:00"}, "dateTo": {"2100-01-01T00:00:00"}}, nil)
		for _, tx := range txs {
			if c, ok := tx.(map[string]any)["checkId"].(float64); ok && c != 0 {
				call(http.MethodGet, PathCheckByID, url.Values{"checkId": {strconvI(int64(c))}}, nil)
				break
			}
		}
		// only what the document requires: the fake takes it
		call(http.MethodPost, PathInsertByTemplate, nil, map[string]any{"accountId": 3, "phone": "79990001122"})
		call(http.MethodPost, PathRefill, nil, map[string]any{"accountId": id, "amount": 10})
		call(http.MethodPost, PathUpdate, nil, map[string]any{"accountId": id, "info": "VIP"}) // one field to change
	}
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

// TestServesTheDocument: /openapi.json without credentials is the SDK's model, with the base path
// as its server; /docs names it as FastAPI's Swagger page does, /redoc as ReDoc's.
func TestServesTheDocument(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/probonus"} {
		srv := NewServer(t, WithBasePath(base))
		get := func(path string) (int, string) {
			resp, err := http.Get(srv.URL() + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		code, body := get(PathOpenAPI)
		require.Equal(t, http.StatusOK, code, body)
		var d map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &d))
		assert.Equal(t, "3.1.0", d["openapi"])
		if base != "" {
			assert.Equal(t, []any{map[string]any{"url": base}}, d["servers"])
		} else {
			assert.JSONEq(t, string(probonus.OpenAPI()), body)
		}
		_, page := get(PathDocs)
		assert.Contains(t, page, "url: '"+base+"/openapi.json'")
		_, redoc := get(PathRedoc)
		assert.Contains(t, redoc, `spec-url="`+base+`/openapi.json"`)
	}
}

// srcOrHref is every URL a page names in a src or href attribute.
var srcOrHref = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["']([^"']*)["']`)

// issue 26 item 10: /docs loaded Swagger UI from a CDN (blank offline) and /redoc loaded no script
// at all; each page now names no host but the server and loads what it needs from the server itself.
func TestDocsPagesLoadOnlyFromTheServer(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "/probonus"} {
		srv := NewServer(t, WithBasePath(base))
		get := func(path string) (*http.Response, string) {
			req, err := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", "gzip") // as a browser asks; the body is left packed
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp, string(b)
		}
		for _, tc := range []struct {
			page string
			want []string // the kinds of the files it loads
		}{
			{PathDocs, []string{"text/css", "text/javascript"}},
			{PathRedoc, []string{"text/javascript"}},
		} {
			resp, page := get(tc.page)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s%s", base, tc.page)
			// what the bundles themselves would fetch elsewhere (ReDoc's logo) the browser refuses
			assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self';", "%s%s", base, tc.page)
			assert.NotRegexp(t, `(?i)(https?:)?//[a-z0-9.-]+\.[a-z]`, page, "%s%s names another host", base, tc.page)
			var got []string
			for _, m := range srcOrHref.FindAllStringSubmatch(page, -1) {
				ref := m[1]
				require.True(t, strings.HasPrefix(ref, base+"/"), "%s%s loads %q, not from under the base path", base, tc.page, ref)
				aresp, body := get(strings.TrimPrefix(ref, base))
				require.Equal(t, http.StatusOK, aresp.StatusCode, "%s%s loads %s", base, tc.page, ref)
				assert.NotEmpty(t, body, ref)
				kind, _, _ := strings.Cut(aresp.Header.Get("Content-Type"), ";")
				got = append(got, kind)
			}
			assert.ElementsMatch(t, tc.want, got, "%s%s", base, tc.page)
		}
	}
}
