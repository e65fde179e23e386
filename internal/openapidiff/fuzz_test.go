package openapidiff

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: any bytes are read or refused, and whatever is read compares with the model, without
// a panic or a hang.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/fastapi/*/*.json")
	for _, name := range files[:1] {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(cyclic))
	f.Add([]byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}}}}}},"components":{"schemas":{"A":{"allOf":[{"$ref":"#/components/schemas/A"}]}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Read(b)
		if err != nil {
			return
		}
		_ = Compare(Model(), doc)
	})
}
