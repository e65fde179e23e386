// Command gendecode writes the root package's fast decoders, decode_gen.go, from its types' JSON
// tags (see internal/gendecode). decode.go runs it through go generate:
//
//	go generate .   (or: go run ./internal/cmd/gendecode -dir .)
//
// TestDecodeGenIsFresh fails when the committed file differs from what it writes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/probonus-go/probonus/internal/gendecode"
)

func main() {
	dir := flag.String("dir", ".", "the root package's folder")
	flag.Parse()
	b, err := gendecode.Generate(*dir)
	if err == nil {
		err = os.WriteFile(filepath.Join(*dir, gendecode.Output), b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendecode:", err)
		os.Exit(1)
	}
}
