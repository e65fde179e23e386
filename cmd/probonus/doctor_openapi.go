package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/probonus-go/probonus"
	"github.com/probonus-go/probonus/internal/openapidiff"
	"github.com/probonus-go/probonus/internal/scope"
)

// The installation's own description: FastAPI serves the document at /openapi.json and names its
// URL in the Swagger UI page (/docs) and the ReDoc page (/redoc), root_path included.
var (
	swaggerURL = regexp.MustCompile(`url:\s*'([^']+)'`)
	redocURL   = regexp.MustCompile(`spec-url="([^"]+)"`)
)

// errRefused is a document route that wants credentials.
var errRefused = errors.New("refused without credentials")

// checkOpenAPI reads the installation's document (source: a file or URL from --openapi, or ""
// for the base URL's own) and compares it with the SDK's model, one finding line per difference.
func (d *doctor) checkOpenAPI(ctx context.Context, source string) {
	b, from, err := d.openAPIDocument(ctx, source)
	if err != nil {
		d.add(statusWarn, "openapi", err.Error(), hiddenHint)
		return
	}
	if b == nil {
		d.add(statusWarn, "openapi", "the installation hides its OpenAPI document: /openapi.json, /docs and /redoc are not there (FastAPI's openapi_url=None)", hiddenHint)
		return
	}
	doc, err := openapidiff.Read(b)
	if err != nil {
		d.add(statusFail, "openapi", from+": "+err.Error())
		return
	}
	d.document = b
	d.differences = openapidiff.Compare(openapidiff.Model(), doc)
	counts := map[string]int{}
	var lines []string
	for i, x := range d.differences {
		x.SDK, x.Server, x.Message = d.s.secrets.text(x.SDK), d.s.secrets.text(x.Server), d.s.secrets.text(x.Message)
		d.differences[i] = x
		counts[x.Severity]++
		where := x.Where
		if x.Method != "" {
			where = x.Method + " " + x.Path + " " + x.Where
		}
		lines = append(lines, fmt.Sprintf("%s  %s: %s", x.Severity, where, x.Message))
	}
	summary := fmt.Sprintf("OpenAPI %s document (%s): ", doc.Version, from)
	status := statusOK
	switch {
	case len(d.differences) == 0:
		summary += "no difference from the SDK's model"
	default:
		summary += fmt.Sprintf("%d difference%s from the SDK's model: %d fail, %d warn, %d info",
			len(d.differences), plural(len(d.differences)), counts[openapidiff.Fail], counts[openapidiff.Warn], counts[openapidiff.Info])
	}
	switch {
	case counts[openapidiff.Fail] > 0:
		status = statusFail
	case counts[openapidiff.Warn] > 0:
		status = statusWarn
	}
	d.add(status, "openapi", summary, lines...)
}

const hiddenHint = "ask the installation's administrator for its OpenAPI document (the openapi.json its Swagger page reads, saved to a file), then run probonus doctor --openapi FILE"

// differs reports whether a difference fails or warns: the exit code is then 1.
func (d *doctor) differs() bool {
	for _, x := range d.differences {
		if x.Severity == openapidiff.Fail || x.Severity == openapidiff.Warn {
			return true
		}
	}
	return false
}

// openAPIDocument reads the document from source, or finds it on the base URL: /openapi.json,
// else the URL the Swagger page names, else ReDoc's. It returns nil and no error when none is
// there, and says where it read it.
func (d *doctor) openAPIDocument(ctx context.Context, source string) ([]byte, string, error) {
	if source != "" && !isURL(source) {
		f, err := os.Open(source)
		if err != nil {
			return nil, "", fmt.Errorf("--openapi: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, openapidiff.MaxSize+1))
		if err != nil {
			return nil, "", fmt.Errorf("--openapi: %w", err)
		}
		return b, source, nil
	}
	if source != "" {
		d.docURL = source
		b, _, err := d.getDocument(ctx, source)
		if err != nil {
			return nil, "", fmt.Errorf("--openapi %s: %w", displayURL(source), err)
		}
		return b, displayURL(source), nil
	}
	base := d.base.String()
	b, status, err := d.getDocument(ctx, base+"/openapi.json")
	if err == nil {
		return b, "/openapi.json", nil
	}
	if status != http.StatusNotFound {
		return nil, "", fmt.Errorf("GET %s/openapi.json: %w", d.base.Path, err)
	}
	for _, page := range []struct {
		path string
		re   *regexp.Regexp
	}{{"/docs", swaggerURL}, {"/redoc", redocURL}} {
		html, _, err := d.get(ctx, base+page.path, "text/html")
		if err != nil {
			continue
		}
		m := page.re.FindSubmatch(html)
		if m == nil {
			continue
		}
		ref, err := url.Parse(string(m[1]))
		if err != nil {
			continue
		}
		target := d.base.ResolveReference(ref)
		if !scope.SameOrigin(target, d.base) {
			continue // the doctor stays on the base URL's origin (credentials, within its path too)
		}
		b, _, err := d.getDocument(ctx, target.String())
		if err != nil {
			return nil, "", fmt.Errorf("%s names %s: %w", page.path, target.Path, err)
		}
		return b, target.Path + " (named by " + page.path + ")", nil
	}
	return nil, "", nil
}

// getDocument reads a document URL, without credentials and, when refused, with them: only within
// the base URL, its origin and path prefix, by the SDK's own rule (internal/scope; issue 26 item 6
// and its review). A document elsewhere that refuses, or any document without a base URL, is
// reported so: a stranger, or another application behind the same gateway, never gets the API key
// nor a login POST with the password.
func (d *doctor) getDocument(ctx context.Context, target string) ([]byte, int, error) {
	b, status, err := d.get(ctx, target, "application/json")
	if !errors.Is(err, errRefused) || (d.s.cfg.apiKey == "" && d.s.cfg.login == "") {
		return b, status, err
	}
	u, perr := url.Parse(target)
	if perr != nil {
		return nil, status, perr
	}
	switch {
	case d.base == nil:
		return nil, status, fmt.Errorf("refused with %d, and no credentials were sent: they go only to the base URL, and none is set; save the document to a file and pass --openapi FILE", status)
	case !scope.Within(u, d.base):
		within := &url.URL{Scheme: d.base.Scheme, Host: d.base.Host, Path: d.base.Path}
		return nil, status, fmt.Errorf("refused with %d, and the credentials were not sent to %s: they go only within the base URL (%s), its origin and path; save the document to a file and pass --openapi FILE",
			status, u.Host+u.Path, within.String())
	}
	return d.getWithCredentials(ctx, u)
}

// get sends one GET without credentials.
func (d *doctor) get(ctx context.Context, target, accept string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "probonus-cli/"+probonus.Version)
	return d.readDocument(d.docClient().Do(req))
}

func (d *doctor) readDocument(resp *http.Response, err error) ([]byte, int, error) {
	if err != nil {
		return nil, 0, unwrapURL(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, openapidiff.MaxSize+1))
	switch {
	case err != nil:
		return nil, resp.StatusCode, err
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, resp.StatusCode, errRefused
	case resp.StatusCode != http.StatusOK:
		return nil, resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, d.errorDetail(b))
	}
	return b, resp.StatusCode, nil
}

// getWithCredentials reads a document within the base URL (scope.Within) through an SDK client of
// the base URL with the configured credentials: the path is sent below the base URL's own, and a
// login goes to the installation's own login route, prefix included.
func (d *doctor) getWithCredentials(ctx context.Context, u *url.URL) ([]byte, int, error) {
	auth := probonus.WithAPIKey(d.s.cfg.apiKey)
	if d.s.cfg.apiKey == "" {
		auth = probonus.WithLogin(d.s.cfg.login, d.s.cfg.password)
	}
	path := strings.TrimPrefix(u.Path, strings.TrimSuffix(d.base.Path, "/"))
	if path == "" {
		path = "/"
	}
	c, err := probonus.New(append(d.s.clientOptions(d.base.String()), probonus.WithHTTPClient(d.docClient()),
		probonus.WithRetry(probonus.RetryPolicy{MaxAttempts: 1}), auth)...)
	if err != nil {
		return nil, 0, err
	}
	var raw json.RawMessage
	err = c.Do(ctx, http.MethodGet, path, u.Query(), nil, &raw)
	var apiErr *probonus.APIError
	switch {
	case errors.As(err, &apiErr):
		return nil, apiErr.StatusCode, fmt.Errorf("refused with the credentials too: %d", apiErr.StatusCode)
	case err != nil:
		return nil, 0, errors.New(d.sdkText(err))
	}
	return raw, http.StatusOK, nil
}

// docClient reads the document without the recorder: the document goes into the report on its
// own, with its servers withheld, and is no answer of the API's.
func (d *doctor) docClient() *http.Client {
	return &http.Client{Transport: d.transport, Timeout: d.s.cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// documentForReport is the server's document with its servers' URLs withheld.
func (d *doctor) documentForReport() string {
	var m map[string]any
	if json.Unmarshal(d.document, &m) != nil {
		return ""
	}
	if servers, ok := m["servers"].([]any); ok {
		for i := range servers {
			servers[i] = map[string]any{"url": "<withheld>"}
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(m) != nil {
		return ""
	}
	return d.withholdHost(d.s.secrets.text(strings.TrimRight(b.String(), "\n")))
}

// reachable says whether the server answered the doctor's probe: its document is worth asking for.
func (d *doctor) reachable() bool {
	for _, f := range d.findings {
		if f.Name == "server" {
			return f.Status != statusFail
		}
	}
	return false
}

// isURL reports whether --openapi names a URL (the scheme in any case: HTTPS://… is one), not a file.
func isURL(source string) bool {
	lower := strings.ToLower(source)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}
