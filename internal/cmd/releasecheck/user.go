package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The CLI's main package, installed as a user would, and a command it runs with no server or setup.
const (
	cliPackage = "/cmd/probonus"
	cliName    = "probonus"
)

var cliRun = []string{"--demo", "find", "+79161112233"}

// checkAsUser does what a user's new module does with the release, outside the repository: go get
// every module at version, check each was selected at that version and not replaced, build a program
// importing every public package of them, go install the CLI at version and run it.
func checkAsUser(out io.Writer, e envWith, work string, mods []mod, sums []byte, version string) error {
	dir := filepath.Join(work, "user")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	goVersion := "1.26.0"
	if f := mods[0].File; f.Go != nil {
		goVersion = f.Go.Version
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/user\n\ngo "+goVersion+"\n"), 0o644); err != nil {
		return err
	}
	// The user's go.sum starts with the hashes the repository's go.sum files hold for other modules:
	// those are checked against them, not looked up in the checksum database again (which a run
	// with no network could not). It says nothing of the project's own modules, which come from
	// the proxy on disk whatever it holds.
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644); err != nil {
		return err
	}

	get := []string{"get"}
	for _, m := range mods {
		get = append(get, m.Path+"@"+version)
	}
	t := time.Now()
	if _, err := e.goCmd(dir, get...); err != nil {
		return err
	}
	getTime := since(t)
	if err := checkSelected(e, dir, mods, version); err != nil {
		return err
	}
	fmt.Fprintf(out, "   go get of %d modules at %s: ok, each selected at %s from the proxy on disk (%s)\n", len(mods), version, version, getTime)
	t = time.Now()

	pkgs, err := publicPackages(e, dir, mods)
	if err != nil {
		return err
	}
	var src strings.Builder
	src.WriteString("// Command user imports every public package of the release, as a user's program would.\npackage main\n\nimport (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&src, "\t_ %q\n", p)
	}
	src.WriteString(")\n\nfunc main() {}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src.String()), 0o644); err != nil {
		return err
	}
	if _, err := e.goCmd(dir, "mod", "tidy"); err != nil {
		return err
	}
	if _, err := e.goCmd(dir, "build", "-o", filepath.Join(work, "bin", "user"), "."); err != nil {
		return err
	}
	fmt.Fprintf(out, "   a program importing %d public packages: built (%s): %s\n", len(pkgs), since(t), strings.Join(pkgs, ", "))
	t = time.Now()

	// go install pkg@version builds from the root's go.mod alone, outside the user's module, and
	// refuses a go.mod with a replace: what a user who installs the CLI gets.
	bin := filepath.Join(work, "bin")
	cli := mods[0].Path + cliPackage + "@" + version
	if _, err := e.plus("GOBIN="+bin).goCmd(dir, "install", cli); err != nil {
		return err
	}
	got, err := e.cmd(dir, filepath.Join(bin, cliName), cliRun...)
	if err != nil {
		return err
	}
	if strings.TrimSpace(got) == "" {
		return fmt.Errorf("%s %s printed nothing", cliName, strings.Join(cliRun, " "))
	}
	fmt.Fprintf(out, "   go install %s: ok; %s %s ran (%s)\n", cli, cliName, strings.Join(cliRun, " "), since(t))
	return nil
}

// checkSelected checks the user's build list holds each module at version, from the module cache
// (so from a proxy), not replaced.
func checkSelected(e envWith, dir string, mods []mod, version string) error {
	args := []string{"list", "-m", "-json"}
	for _, m := range mods {
		args = append(args, m.Path)
	}
	raw, err := e.goCmd(dir, args...)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	got := map[string]string{}
	for dec.More() {
		var m struct {
			Path, Version, Dir string
			Replace            *struct{ Path string }
		}
		if err := dec.Decode(&m); err != nil {
			return err
		}
		if m.Replace != nil {
			return fmt.Errorf("the user's module replaces %s with %s", m.Path, m.Replace.Path)
		}
		if !strings.HasPrefix(m.Dir, e.modCache+string(os.PathSeparator)) {
			return fmt.Errorf("%s came from %s, not the module cache", m.Path, m.Dir)
		}
		got[m.Path] = m.Version
	}
	for _, m := range mods {
		if got[m.Path] != version {
			return fmt.Errorf("the user's build selected %s at %q, want %s", m.Path, got[m.Path], version)
		}
	}
	return nil
}

// publicPackages lists the packages of mods, as the user's module sees them, that a user can import:
// not internal, not a main package.
func publicPackages(e envWith, dir string, mods []mod) ([]string, error) {
	args := []string{"list", "-f", "{{.ImportPath}} {{.Name}}"}
	for _, m := range mods {
		args = append(args, m.Path+"/...")
	}
	raw, err := e.goCmd(dir, args...)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		path, name, _ := strings.Cut(line, " ")
		if name == "main" || path == "" || isInternal(path) {
			continue
		}
		seen[path] = true
	}
	var pkgs []string
	for p := range seen {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("no public package found in %d modules", len(mods))
	}
	return pkgs, nil
}

func isInternal(path string) bool {
	for _, elem := range strings.Split(path, "/") {
		if elem == "internal" {
			return true
		}
	}
	return false
}
