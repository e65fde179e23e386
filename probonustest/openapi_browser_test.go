//go:build browser

// The pages in a real browser: `make browser-test` (CI's .ci/run installs chromium and runs it).
// Behind a build tag rather than skipped: without chromium this test fails, it never passes
// unseen, and `go test ./...` on a machine without a browser does not build it.

package probonustest

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probonus-go/probonus"
)

// issue 26 item 10: /docs (Swagger UI from a CDN) was blank without a network and /redoc (no
// script) blank everywhere. In headless chromium with no way out but a proxy that refuses every
// connection, both list every operation of the document, and the pages reach for no host.
func TestDocsPagesRenderOffline(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	require.NoError(t, err, "this test needs Debian's chromium (apt-get install chromium): make browser-test")
	proxy := newRefusingProxy(t)

	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(probonus.OpenAPI(), &doc))
	require.NotEmpty(t, doc.Paths)

	srv := NewServer(t, WithBasePath("/probonus"))
	for _, tc := range []struct {
		page string
		// what the page shows of an operation: Swagger UI its method and path, ReDoc its
		// summary, which is the operationId when the operation has no summary (ReDoc shows the
		// path only for the operation opened)
		shows func(method, path, operationID string) string
	}{
		{PathDocs, func(method, path, _ string) string { return strings.ToUpper(method) + path }},
		{PathRedoc, func(_, _, operationID string) string { return operationID }},
	} {
		t.Run(strings.TrimPrefix(tc.page, "/"), func(t *testing.T) {
			text := renderedText(t, browser, proxy.addr, srv.URL()+tc.page)
			n := 0
			for path, ops := range doc.Paths {
				for method, op := range ops {
					assert.Contains(t, text, tc.shows(method, path, op.OperationID), "%s lists %s %s", tc.page, method, path)
					n++
				}
			}
			assert.Equal(t, len(routes), n, "the document has the fake's every route")
		})
	}
	// Chromium's own background requests (the network time, the sign-in and search pages) go to
	// *.google.com, flags or not; anything else is the pages reaching out.
	for _, host := range proxy.hosts() {
		assert.True(t, strings.HasSuffix(host, ".google.com"), "a page asked for %s", host)
	}
}

// renderedText is the page's text once the browser has run its scripts (for up to 10 seconds of
// virtual time, which passes as fast as the page lets it): the DOM without its tags, scripts and
// styles.
func renderedText(t *testing.T, browser, proxy, page string) string {
	t.Helper()
	profile, err := os.MkdirTemp("", "probonus-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(profile) }) // a straggling renderer may still write to it
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--user-data-dir="+profile, "--proxy-server="+proxy,
		"--virtual-time-budget=10000", "--dump-dom", page)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	text := regexp.MustCompile(`(?is)<(script|style|noscript)\b.*?</(script|style|noscript)>`).ReplaceAllString(string(dom), " ")
	// tags go without a space: Swagger UI breaks a path with <wbr> after each segment
	return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(text, "")
}

// refusingProxy is the browser's only way out: it closes every connection, noting the host asked
// for (CONNECT host:443 for https, GET http://host/... for http). Loopback, where the server is,
// bypasses a proxy in chromium.
type refusingProxy struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func newRefusingProxy(t *testing.T) *refusingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &refusingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				if host := requestedHost(line); host != "" {
					p.mu.Lock()
					p.seen = append(p.seen, host)
					p.mu.Unlock()
				}
			})
		}
	})
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return p
}

// requestedHost is the host in a proxy request line.
func requestedHost(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return ""
	}
	if host, _, err := net.SplitHostPort(f[1]); err == nil && f[0] == "CONNECT" {
		return host
	}
	if u, err := url.Parse(f[1]); err == nil {
		return u.Hostname()
	}
	return ""
}

// hosts is every host asked for so far, once each.
func (p *refusingProxy) hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := slices.Clone(p.seen)
	slices.Sort(h)
	return slices.Compact(h)
}
