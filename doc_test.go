package probonus_test

import (
	"go/ast"
	"go/parser"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probonus-go/probonus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryExportedNameHasADocComment keeps go doc and pkg.go.dev complete: every exported name of
// the public packages has a comment that starts with its name.
func TestEveryExportedNameHasADocComment(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{".", "probonustest"} {
		files := probonus.ParseSources(t, dir, parser.ParseComments)
		{
			for name, f := range files {
				for _, decl := range f.Decls {
					switch d := decl.(type) {
					case *ast.FuncDecl:
						if d.Name.IsExported() && (d.Recv == nil || exportedRecv(d.Recv)) {
							checkDoc(t, name, d.Name.Name, d.Doc, true)
						}
					case *ast.GenDecl:
						for _, spec := range d.Specs {
							switch s := spec.(type) {
							case *ast.TypeSpec:
								if s.Name.IsExported() {
									doc := s.Doc
									if doc == nil {
										doc = d.Doc
									}
									checkDoc(t, name, s.Name.Name, doc, true)
								}
							case *ast.ValueSpec:
								for _, n := range s.Names {
									if n.IsExported() {
										// a grouped const or var may be documented by its group
										doc := s.Doc
										if doc == nil {
											doc = s.Comment
										}
										if doc == nil {
											doc = d.Doc
										}
										checkDoc(t, name, n.Name, doc, false)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

func exportedRecv(fl *ast.FieldList) bool {
	typ := fl.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if idx, ok := typ.(*ast.IndexExpr); ok {
		typ = idx.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

func checkDoc(t *testing.T, file, name string, doc *ast.CommentGroup, startsWithName bool) {
	t.Helper()
	if !assert.NotNil(t, doc, "%s: %s has no doc comment", file, name) {
		return
	}
	if startsWithName {
		text := doc.Text()
		assert.True(t, strings.HasPrefix(text, name+" ") || strings.HasPrefix(text, "A "+name) || strings.HasPrefix(text, "An "+name),
			"%s: the comment of %s starts with %q", file, name, strings.SplitN(text, "\n", 2)[0])
	}
}

// issue 26 item 20: the README's first commands are the quick ones, each of which works on a
// fresh machine as written: an example that exists and whose own test runs it, or the package's
// Example functions. The whole suite (make test, minutes) belongs under Tests.
func TestReadmeTryItIsQuick(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Try it\n")
	require.True(t, ok, "README has a Try it section")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```sh\n")
	require.True(t, ok, "Try it has a sh block")
	block, _, _ = strings.Cut(block, "```")
	var commands []string
	for line := range strings.Lines(block) {
		cmd, _, _ := strings.Cut(line, "#")
		if cmd = strings.TrimSpace(cmd); cmd != "" {
			commands = append(commands, cmd)
		}
	}
	require.NotEmpty(t, commands)
	for _, cmd := range commands {
		if dir, ok := strings.CutPrefix(cmd, "go run ./examples/"); ok {
			assert.FileExists(t, filepath.Join("examples", dir, "main.go"), cmd)
			assert.FileExists(t, filepath.Join("examples", dir, "main_test.go"), "%s: its test runs it as written", cmd)
			continue
		}
		assert.Contains(t, []string{"go test -run Example -v .", "go test -run Example ."}, cmd,
			"a first command is an example's go run or the package's Examples (make test is under Tests)")
	}
	_, tests, ok := strings.Cut(string(readme), "\n## Tests\n")
	require.True(t, ok)
	assert.Contains(t, tests, "make test", "make test is under Tests")
}
