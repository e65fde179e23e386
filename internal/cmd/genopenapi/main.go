// Command genopenapi writes the SDK's model document, probonus.OpenAPI, to openapi.json in the
// current folder: go generate runs it at the module's root. TestOpenAPIDocumentIsCurrent fails
// when the committed file differs from what the code derives.
package main

import (
	"fmt"
	"os"

	"github.com/probonus-go/probonus"
)

func main() {
	out := "openapi.json"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.WriteFile(out, probonus.OpenAPI(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genopenapi:", err)
		os.Exit(1)
	}
}
