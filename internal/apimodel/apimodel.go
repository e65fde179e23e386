// Package apimodel is the SDK's endpoint table as the command-line tool reads it: which Go type
// the SDK decodes each read's answer into. The root package fills it from its own table
// (endpoints.go) as it initialises, so that there is one path-to-answer table, not two; a program
// that imports this package and the root package sees every row.
package apimodel

import (
	"reflect"
	"slices"
	"sync"
)

var (
	mu      sync.RWMutex
	answers = map[string]reflect.Type{}
)

// Register says that a GET of path is answered with a value of type answer. The root package
// calls it for each read of its table; registering a path twice with another type panics, as two
// tables would disagree.
func Register(path string, answer reflect.Type) {
	mu.Lock()
	defer mu.Unlock()
	if prev, ok := answers[path]; ok && prev != answer {
		panic("apimodel: " + path + " answered with both " + prev.String() + " and " + answer.String())
	}
	answers[path] = answer
}

// New returns a pointer to a new value of the type a GET of path is decoded into, or nil for a
// path the table does not read.
func New(path string) any {
	mu.RLock()
	t := answers[path]
	mu.RUnlock()
	if t == nil {
		return nil
	}
	return reflect.New(t).Interface()
}

// Paths returns the paths registered, sorted.
func Paths() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for p := range answers {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
