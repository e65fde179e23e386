package probonus_test

import (
	"go/ast"
	"go/parser"
	"strings"
	"testing"

	"github.com/probonus-go/probonus"
	"github.com/stretchr/testify/assert"
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
