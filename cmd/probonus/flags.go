package main

import (
	"flag"
	"strconv"
	"strings"
)

// parseInterspersed parses flags wherever they stand among the positional arguments, so
// "probonus find +79161112233 --json" works as well as "probonus --json find +79161112233". A
// negative number is an argument, not a flag (unless it is a flag's value): "refill 1001 -5" then
// says the amount must be positive rather than that there is no flag -5.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if negativeNumber(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
			continue
		}
		end := len(args) // the flags up to the next negative number that is an argument
		for i := 1; i < len(args); i++ {
			if args[i-1] == "--" {
				break
			}
			if negativeNumber(args[i]) && !takesValue(fs, args[i-1]) {
				end = i
				break
			}
		}
		if err := fs.Parse(args[:end]); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := end - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(append(pos, rest...), args[end:]...), nil // after "--" everything is an argument
		}
		if len(rest) == 0 {
			args = args[end:]
			continue
		}
		pos = append(pos, rest[0])
		args = append(rest[1:len(rest):len(rest)], args[end:]...)
	}
	return pos, nil
}

// negativeNumber reports whether an argument is a negative number such as -5 or -12.50.
func negativeNumber(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	_, err := strconv.ParseFloat(arg, 64)
	return err == nil
}

// takesValue reports whether arg is a flag that takes the next argument as its value.
func takesValue(fs *flag.FlagSet, arg string) bool {
	name, ok := strings.CutPrefix(arg, "-")
	if !ok || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimPrefix(name, "-"))
	if f == nil {
		return false
	}
	b, isBool := f.Value.(interface{ IsBoolFlag() bool })
	return !isBool || !b.IsBoolFlag()
}
