package probonus_test

import (
	"go/ast"
	"go/doc"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue 28 §6: the README is a front page, under 250 lines; the rest lives in doc.go and docs/.
func TestReadmeIsAFrontPage(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	lines := strings.Count(string(readme), "\n")
	assert.Less(t, lines, 250, "README.md has %d lines: move what a reader of the front page does not need to docs/ or doc.go", lines)
}

// markdownLink is an inline link, [text](target); its text may span lines.
var markdownLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)

// issue 28 §6: every relative link of the README and the docs pages points to a file that exists,
// and every #anchor to a heading of that file, as GitHub renders them.
func TestDocsRelativeLinksResolve(t *testing.T) {
	t.Parallel()
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "docs/ has its pages")
	pages = append(pages, "README.md", "CHANGELOG.md")
	checked := 0
	for _, page := range pages {
		raw, err := os.ReadFile(page)
		require.NoError(t, err)
		prose, _ := splitMarkdown(string(raw))
		for _, m := range markdownLink.FindAllStringSubmatch(prose, -1) {
			target := m[2]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			file, anchor, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
				if !assert.FileExists(t, path, "%s: the link [%s](%s)", page, m[1], target) {
					continue
				}
			}
			if anchor == "" {
				continue
			}
			require.True(t, strings.HasSuffix(path, ".md"), "%s: an anchor into %s, which is no markdown page", page, path)
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			_, headings := splitMarkdown(string(body))
			assert.Contains(t, headings, anchor, "%s: the link [%s](%s) names no heading of %s", page, m[1], target, path)
		}
	}
	assert.Positive(t, checked, "some relative links were checked")
}

// splitMarkdown returns a page's text outside fenced code blocks, and the anchors of its headings
// as GitHub makes them (a repeated heading gets -1, -2, ...).
func splitMarkdown(page string) (prose string, anchors []string) {
	var b strings.Builder
	fenced := false
	seen := map[string]int{}
	for line := range strings.Lines(page) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		b.WriteString(line)
		if text, ok := strings.CutPrefix(line, "#"); ok {
			text = strings.TrimLeft(text, "#")
			if strings.HasPrefix(text, " ") {
				slug := githubSlug(strings.TrimSpace(text))
				if n := seen[slug]; n > 0 {
					anchors = append(anchors, slug+"-"+strconv.Itoa(n))
				} else {
					anchors = append(anchors, slug)
				}
				seen[slug]++
			}
		}
	}
	return b.String(), anchors
}

// githubSlug is the anchor GitHub gives a heading: lower case, spaces to hyphens, and every
// character that is not a letter, a digit, a hyphen or an underscore dropped.
func githubSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// issue 28 §6: every [Name] in the package guide is a doc link pkg.go.dev makes clickable: a name
// the package does not have stays bracketed plain text, which this finds.
func TestPackageDocLinksResolve(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/probonus-go/probonus")
	require.NoError(t, err)
	parsed := pkg.Parser().Parse(pkg.Doc)

	bracketed := regexp.MustCompile(`(?:^|[^\w\]])(\[\*?[A-Za-z][\w./-]*\])`)
	var links []string
	var unresolved []string
	var walk func(text []comment.Text)
	walk = func(text []comment.Text) {
		for _, x := range text {
			switch x := x.(type) {
			case *comment.DocLink:
				links = append(links, x.Name)
			case comment.Plain:
				for _, m := range bracketed.FindAllStringSubmatch(string(x), -1) {
					unresolved = append(unresolved, m[1])
				}
			case *comment.Link:
				walk(x.Text)
			}
		}
	}
	for _, block := range parsed.Content {
		switch b := block.(type) {
		case *comment.Paragraph:
			walk(b.Text)
		case *comment.Heading:
			walk(b.Text)
		case *comment.List:
			for _, item := range b.Items {
				for _, c := range item.Content {
					if p, ok := c.(*comment.Paragraph); ok {
						walk(p.Text)
					}
				}
			}
		}
	}
	assert.Empty(t, unresolved, "doc.go names these in brackets, but the package has no such name: pkg.go.dev shows them as plain text")
	for _, want := range []string{"WithAPIKey", "Do", "RefillOnce"} {
		assert.Contains(t, links, want, "doc.go links [%s]", want)
	}
}

// issue 28 §6: a link to a section of the package guide on pkg.go.dev (#hdr-...) names a heading
// doc.go has, as pkg.go.dev spells its id: every character that is not a letter or digit is _.
func TestPkgGoDevSectionLinksResolve(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	var parser comment.Parser
	ids := map[string]bool{}
	for _, block := range parser.Parse(f.Doc.Text()).Content {
		if h, ok := block.(*comment.Heading); ok {
			var text strings.Builder
			for _, x := range h.Text {
				if p, ok := x.(comment.Plain); ok {
					text.WriteString(string(p))
				}
			}
			id := strings.Map(func(r rune) rune {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					return r
				}
				return '_'
			}, text.String())
			ids["hdr-"+id] = true
		}
	}
	require.NotEmpty(t, ids, "doc.go has # headings")

	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	require.NoError(t, err)
	pages = append(pages, "README.md", "CHANGELOG.md")
	const guide = "https://pkg.go.dev/github.com/probonus-go/probonus#"
	checked := 0
	for _, page := range pages {
		raw, err := os.ReadFile(page)
		require.NoError(t, err)
		for _, m := range markdownLink.FindAllStringSubmatch(string(raw), -1) {
			anchor, ok := strings.CutPrefix(m[2], guide)
			if !ok || !strings.HasPrefix(anchor, "hdr-") {
				continue
			}
			checked++
			assert.True(t, ids[anchor], "%s: the link [%s](%s) names no heading of doc.go", page, m[1], m[2])
		}
	}
	assert.Positive(t, checked)
}
