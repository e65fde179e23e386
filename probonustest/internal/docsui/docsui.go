// Package docsui holds the Swagger UI and ReDoc releases that the fake's /docs and /redoc pages
// load, embedded so that the pages render without a network: a fake run in docker-compose or CI
// has none, and a CDN is one more host a test must not depend on. README.md says which releases
// they are and how to replace them.
package docsui

import (
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The files the pages load, by the names Serve takes.
const (
	SwaggerUIScript = "swagger-ui/swagger-ui-bundle.js"
	SwaggerUIStyle  = "swagger-ui/swagger-ui.css"
	RedocScript     = "redoc/redoc.standalone.js"
)

// The bundles are kept gzipped (a quarter of their size in every binary that links the fake) and
// sent so to a client that takes gzip, as every browser does; the licences are kept as they are.
//
//go:embed swagger-ui redoc
var files embed.FS

// file is one file Serve answers.
type file struct {
	stored string // its name in files
	gzip   bool   // stored gzipped
	etag   string // of the stored bytes
	kind   string // Content-Type
}

// kinds are the Content-Types of the bundles, fixed here rather than read from mime, which on
// Unix takes the machine's own table (application/javascript on some).
var kinds = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

// index is every file by the name Serve takes: a gzipped file by its name without ".gz".
var index = sync.OnceValue(func() map[string]file {
	m := map[string]file{}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := file{stored: name, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		served, gz := strings.CutSuffix(name, ".gz")
		f.gzip = gz
		if f.kind = kinds[path.Ext(served)]; f.kind == "" {
			f.kind = "text/plain; charset=utf-8" // LICENSE, NOTICE, *.LICENSE.txt
		}
		m[served] = f
		return nil
	})
	if err != nil {
		panic("docsui: reading the embedded files: " + err.Error()) // a build without them
	}
	return m
})

// Serve answers a GET or HEAD for the named file ("swagger-ui/swagger-ui-bundle.js") and reports
// true, or answers nothing and reports false when there is no such file. The answer carries an
// ETag and asks the browser to revalidate (the names carry no version, so an update is picked up
// at once); a gzipped bundle is sent gzipped when the client accepts it, else unpacked.
func Serve(w http.ResponseWriter, r *http.Request, name string) bool {
	f, ok := index()[name]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", f.kind)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if f.gzip {
		h.Add("Vary", "Accept-Encoding")
	}
	stored, err := files.Open(f.stored)
	if err != nil {
		return false // listed in index, so never
	}
	defer stored.Close()
	if !f.gzip || acceptsGzip(r) {
		if f.gzip {
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, name, time.Time{}, stored.(io.ReadSeeker)) // embed's files seek
		return true
	}
	zr, err := gzip.NewReader(stored)
	if err != nil {
		http.Error(w, "docsui: "+err.Error(), http.StatusInternalServerError) // a corrupt build
		return true
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, zr)
	}
	return true
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip at a weight above zero:
// named (as gzip or x-gzip), or else through "*" (RFC 9110, 12.5.3).
func acceptsGzip(r *http.Request) bool {
	named, star := -1.0, -1.0
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(param, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				named = max(named, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}
