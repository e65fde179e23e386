// Command gendecode writes the root package's fast decoders and request encoders, decode_gen.go
// and encode_gen.go, from its types' JSON tags (see internal/gendecode). decode.go runs it through go generate:
//
//	go generate .   (or: go run ./internal/cmd/gendecode -dir .)
//
// TestDecodeGenIsFresh fails when a committed file differs from what it writes.
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
	err := write(*dir, gendecode.Output, gendecode.Generate)
	if err == nil {
		err = write(*dir, gendecode.EncodeOutput, gendecode.GenerateEncoders)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendecode:", err)
		os.Exit(1)
	}
}

func write(dir, name string, generate func(string) ([]byte, error)) error {
	b, err := generate(dir)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), b, 0o644)
}
