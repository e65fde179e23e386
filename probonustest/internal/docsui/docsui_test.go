package docsui

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get answers a request for name through Serve.
func get(t *testing.T, method, name string, header http.Header) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	r := httptest.NewRequest(method, "/docs/assets/"+name, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	return w, Serve(w, r, name)
}

// unpacked is the file as npm ships it.
func unpacked(t *testing.T, name string) []byte {
	t.Helper()
	w, ok := get(t, http.MethodGet, name, nil)
	require.True(t, ok, name)
	require.Equal(t, http.StatusOK, w.Code, name)
	require.Empty(t, w.Header().Get("Content-Encoding"), name)
	return w.Body.Bytes()
}

// issue 26 item 10: the embedded files are the npm releases README.md names, as SHA256SUMS
// (written by update.sh) records them.
func TestFilesAreTheReleases(t *testing.T) {
	t.Parallel()
	sums, err := os.ReadFile("SHA256SUMS")
	require.NoError(t, err)
	checked := 0
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "SHA256SUMS line %q", sc.Text())
		if strings.HasSuffix(name, ".tgz") {
			continue // the tarballs, for comparing with npm by hand
		}
		sum := sha256.Sum256(unpacked(t, name))
		assert.Equal(t, want, hex.EncodeToString(sum[:]), name)
		checked++
	}
	assert.Equal(t, 3, checked, "SHA256SUMS names every bundle")
	for _, name := range []string{SwaggerUIScript, SwaggerUIStyle, RedocScript} {
		assert.Contains(t, string(sums), "  "+name+"\n")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, tgz := range []string{"swagger-ui-dist-", "redoc-"} {
		i := bytes.Index(sums, []byte("  "+tgz))
		require.GreaterOrEqual(t, i, 0, tgz)
		version := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(string(sums[i+2:]), "\n", 2)[0], tgz), ".tgz")
		assert.Contains(t, string(readme), strings.TrimSuffix(tgz, "-")+"@"+version, "README.md names the release SHA256SUMS holds")
	}
}

// issue 26 item 10: every bundle and its licence are served, with the type a browser runs.
func TestServe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, kind string
	}{
		{SwaggerUIScript, "text/javascript; charset=utf-8"},
		{SwaggerUIStyle, "text/css; charset=utf-8"},
		{RedocScript, "text/javascript; charset=utf-8"},
		{"swagger-ui/LICENSE", "text/plain; charset=utf-8"},
		{"swagger-ui/NOTICE", "text/plain; charset=utf-8"},
		{"swagger-ui/swagger-ui-bundle.js.LICENSE.txt", "text/plain; charset=utf-8"},
		{"redoc/LICENSE", "text/plain; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plain := unpacked(t, tc.name)
			assert.NotEmpty(t, plain)
			w, _ := get(t, http.MethodGet, tc.name, http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, tc.kind, w.Header().Get("Content-Type"))
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			etag := w.Header().Get("ETag")
			require.NotEmpty(t, etag)
			body := w.Body.Bytes()
			if strings.HasSuffix(tc.name, ".js") || strings.HasSuffix(tc.name, ".css") {
				assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
				assert.Equal(t, "Accept-Encoding", w.Header().Get("Vary"))
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			}
			assert.Equal(t, plain, body, "gzipped or not, the same file")

			again, _ := get(t, http.MethodGet, tc.name, http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag}})
			assert.Equal(t, http.StatusNotModified, again.Code, "revalidated by its ETag")
			assert.Empty(t, again.Body.Bytes())
		})
	}
}

// A name that is not one of the files is left to the caller, whatever its form.
func TestServeUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "swagger-ui", "swagger-ui/", "swagger-ui/swagger-ui-bundle.js.gz",
		"../docsui.go", "swagger-ui/../redoc/LICENSE", "/redoc/LICENSE", "redoc/redoc.js", "README.md", "SHA256SUMS"} {
		w, ok := get(t, http.MethodGet, name, nil)
		assert.False(t, ok, "%q", name)
		assert.Empty(t, w.Header(), "%q: nothing written", name)
	}
	assert.ElementsMatch(t, []string{SwaggerUIScript, SwaggerUIStyle, RedocScript, "swagger-ui/LICENSE", "swagger-ui/NOTICE",
		"swagger-ui/swagger-ui-bundle.js.LICENSE.txt", "redoc/LICENSE"}, slices.Collect(maps.Keys(index())), "only what the pages load and its licences")
}

// HEAD answers the headers of GET without the body, gzipped or not.
func TestServeHead(t *testing.T) {
	t.Parallel()
	for _, enc := range []string{"", "gzip"} {
		w, ok := get(t, http.MethodHead, RedocScript, http.Header{"Accept-Encoding": {enc}})
		require.True(t, ok)
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "text/javascript; charset=utf-8", w.Header().Get("Content-Type"))
		assert.Empty(t, w.Body.Bytes(), "Accept-Encoding %q", enc)
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"identity"}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip, deflate, br, zstd"}, true},
		{[]string{"br", "gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"gzip;q=0.5"}, true},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"*;q=0, gzip"}, true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Accept-Encoding"] = tc.header
		assert.Equal(t, tc.want, acceptsGzip(r), "%q", tc.header)
	}
}
