package probonustest

import (
	"encoding/json"
	"html"
	"net/http"
	"text/template"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/probonustest/internal/docsui"
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

// docsAssets is where the pages' scripts and styles are served, under the base path: Swagger UI
// and ReDoc embedded (probonustest/internal/docsui), so that the pages render without a network.
const docsAssets = PathDocs + "/assets/"

// serveDocsAsset answers a file of docsAssets, or FastAPI's 404.
func (s *Server) serveDocsAsset(w http.ResponseWriter, r *http.Request) {
	if !docsui.Serve(w, r, r.PathValue("file")) {
		s.writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
	}
}

// serveDocs answers the Swagger UI page, naming the document's URL as FastAPI's does.
func (s *Server) serveDocs(w http.ResponseWriter, _ *http.Request) {
	pageHeaders(w)
	_, _ = w.Write([]byte(swaggerPage(s.basePath+PathOpenAPI, s.basePath+docsAssets)))
}

// serveRedoc answers the ReDoc page, naming the document's URL as FastAPI's does.
func (s *Server) serveRedoc(w http.ResponseWriter, _ *http.Request) {
	pageHeaders(w)
	_, _ = w.Write([]byte(redocPage(s.basePath+PathOpenAPI, s.basePath+docsAssets)))
}

// pageCSP keeps the pages to the server: what the bundles would fetch from elsewhere (ReDoc's logo
// from its CDN, Swagger UI's online validator) is refused by the browser before it reaches the
// network, so that the pages behave the same offline as online.
const pageCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

// pageHeaders are the headers of the /docs and /redoc pages.
func pageHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
}

// swaggerPage is FastAPI's get_swagger_ui_html, as it writes the document's URL, loading Swagger
// UI from assets (FastAPI's also names SwaggerUIStandalonePreset, which the bundle does not hold
// and the BaseLayout does not use).
func swaggerPage(url, assets string) string {
	return `<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="` + html.EscapeString(assets+docsui.SwaggerUIStyle) + `">
<title>ProBonus - Swagger UI</title>
</head>
<body>
<div id="swagger-ui">
</div>
<script src="` + html.EscapeString(assets+docsui.SwaggerUIScript) + `"></script>
<script>
const ui = SwaggerUIBundle({
    url: '` + template.JSEscapeString(url) + `',
"dom_id": "#swagger-ui",
"layout": "BaseLayout",
"deepLinking": true,
"showExtensions": true,
"showCommonExtensions": true,
presets: [
    SwaggerUIBundle.presets.apis,
    ],
})
</script>
</body>
</html>
`
}

// redocPage is FastAPI's get_redoc_html, as it writes the document's URL, loading ReDoc from
// assets, without FastAPI's Google Fonts and with ReDoc's telemetry off (a fake sends nothing
// anywhere).
func redocPage(url, assets string) string {
	return `<!DOCTYPE html>
<html>
<head>
<title>ProBonus - ReDoc</title>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {
    margin: 0;
    padding: 0;
}
</style>
</head>
<body>
<noscript>
    ReDoc requires Javascript to function. Please enable it to browse the documentation.
</noscript>
<redoc spec-url="` + html.EscapeString(url) + `" disable-telemetry="true"></redoc>
<script type="module" src="` + html.EscapeString(assets+docsui.RedocScript) + `"></script>
</body>
</html>
`
}
