package probonustest

import (
	"encoding/json"
	"html"
	"net/http"

	"github.com/probonus-go/probonus"
)

// The routes of the API's own description, which FastAPI serves beside the API without
// credentials: the document, and the Swagger UI and ReDoc pages that read it.
const (
	PathOpenAPI = "/openapi.json"
	PathDocs    = "/docs"
	PathRedoc   = "/redoc"
)

// serveOpenAPI answers the document: the SDK's own model (probonus.OpenAPI), with the base path
// as its server the way FastAPI's root_path is.
func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	doc := probonus.OpenAPI()
	if s.basePath != "" {
		var m map[string]any
		if json.Unmarshal(doc, &m) == nil {
			m["servers"] = []any{map[string]any{"url": s.basePath}}
			if b, err := json.Marshal(m); err == nil {
				doc = b
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

// serveDocs answers the Swagger UI page, naming the document's URL as FastAPI's does.
func (s *Server) serveDocs(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(swaggerPage(s.basePath + PathOpenAPI)))
}

// serveRedoc answers the ReDoc page, naming the document's URL as FastAPI's does.
func (s *Server) serveRedoc(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!DOCTYPE html><html><head><title>ProBonus - ReDoc</title></head><body>` +
		`<noscript>ReDoc requires Javascript to function. Please enable it to browse the documentation.</noscript>` +
		`<redoc spec-url="` + html.EscapeString(s.basePath+PathOpenAPI) + `"></redoc></body></html>`))
}

// swaggerPage is FastAPI's get_swagger_ui_html, as it writes the document's URL.
func swaggerPage(url string) string {
	return `<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
<title>ProBonus - Swagger UI</title>
</head>
<body>
<div id="swagger-ui">
</div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle({
    url: '` + url + `',
"dom_id": "#swagger-ui",
"layout": "BaseLayout",
"deepLinking": true,
"showExtensions": true,
"showCommonExtensions": true,
presets: [
    SwaggerUIBundle.presets.apis,
    SwaggerUIBundle.SwaggerUIStandalonePreset
    ],
})
</script>
</body>
</html>
`
}
