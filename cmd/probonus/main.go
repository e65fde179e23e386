// Command probonus reads and changes a ProBonus installation from the command line, and checks one
// end to end with doctor. It is built on the SDK's public API.
//
//	go install github.com/probonus-go/probonus/cmd/probonus@latest
//	probonus --demo find +79161112233        # an embedded test server with demo data, no setup
//	PROBONUS_BASE_URL=http://127.0.0.1:11030 PROBONUS_API_KEY=... probonus doctor
//
// Run "probonus help" for the commands, flags and exit codes.
package main

import (
	"os"

	_ "time/tzdata" // --tz works where the system has no zone database (Windows, scratch images)
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)) }
