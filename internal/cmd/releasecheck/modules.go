package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// A mod is one module of the repository: the root, or a nested module in a folder of its own.
type mod struct {
	Path  string // module path, from go.mod
	Dir   string // folder relative to the repository root, slash-separated; "" for the root
	GoMod []byte // the working tree's go.mod
	File  *modfile.File
}

// TagPrefix is what a tag of this module starts with: "" for the root, "probonusotel/" for a nested one.
func (m mod) TagPrefix() string {
	if m.Dir == "" {
		return ""
	}
	return m.Dir + "/"
}

// Name is the module's folder, or "root".
func (m mod) Name() string {
	if m.Dir == "" {
		return "root"
	}
	return m.Dir
}

// discoverModules reads the root's go.mod and every */go.mod one folder down (the Makefile's
// MODULES), so a nested module added later is released and checked without a list to update.
func discoverModules(repo string) ([]mod, error) {
	root, err := readMod(repo, "")
	if err != nil {
		return nil, err
	}
	mods := []mod{root}
	nested, err := filepath.Glob(filepath.Join(repo, "*", "go.mod"))
	if err != nil {
		return nil, err
	}
	sort.Strings(nested)
	for _, gm := range nested {
		m, err := readMod(repo, filepath.Base(filepath.Dir(gm)))
		if err != nil {
			return nil, err
		}
		if want := root.Path + "/" + m.Dir; m.Path != want {
			return nil, fmt.Errorf("%s/go.mod: module %s, want %s (a nested module's path is the root's plus its folder, or its tags would not resolve)", m.Dir, m.Path, want)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

func readMod(repo, dir string) (mod, error) {
	name := filepath.Join(repo, filepath.FromSlash(dir), "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return mod{}, err
	}
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		return mod{}, err
	}
	if f.Module == nil {
		return mod{}, fmt.Errorf("%s: no module line", name)
	}
	return mod{Path: f.Module.Mod.Path, Dir: dir, GoMod: data, File: f}, nil
}

// checkRootRequires checks what a user's build of each nested module will see: its go.mod requires
// the root at version, the release being checked, and not at a pseudo-version that only the
// replace (which a dependency's go.mod never applies) made work. The replace itself stays, for
// development inside the repository.
func checkRootRequires(mods []mod, version string) error {
	root := mods[0]
	var problems []string
	for _, m := range mods[1:] {
		var got string
		for _, r := range m.File.Require {
			if r.Mod.Path == root.Path {
				got = r.Mod.Version
			}
		}
		switch {
		case got == "":
			// A nested module that does not import the root needs no require of it.
		case module.IsPseudoVersion(got) || got != version:
			problems = append(problems, fmt.Sprintf("%s/go.mod requires %s %s, want %s: set the require to the root's release (keep the replace)", m.Dir, root.Path, got, version))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// checkVersion refuses what cannot be a release version of these modules: no canonical semver,
// build metadata, or a major version above v1 (which needs a /vN module path).
func checkVersion(v string) error {
	switch {
	case !semver.IsValid(v) || semver.Canonical(v) != v:
		return fmt.Errorf("release version %q is not a canonical semantic version like v0.1.0", v)
	case semver.Build(v) != "":
		return fmt.Errorf("release version %q has build metadata, which the go command does not use", v)
	case semver.Major(v) != "v0" && semver.Major(v) != "v1":
		return fmt.Errorf("release version %q needs module paths ending in /%s", v, semver.Major(v))
	}
	return nil
}

// tags lists the repository's tags.
func tags(repo string) ([]string, error) {
	out, err := exec.Command("git", "-C", repo, "tag", "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("git tag --list: %w", gitErr(err))
	}
	return strings.Fields(string(out)), nil
}

// previousVersion is the highest release of m tagged below version ("" when there is none), and an
// error if version itself is already tagged. Pre-release tags are not bases: the API is compared
// with what users were promised.
func previousVersion(m mod, allTags []string, version string) (string, error) {
	prev := ""
	for _, t := range allTags {
		v, ok := strings.CutPrefix(t, m.TagPrefix())
		if !ok || !semver.IsValid(v) || strings.Contains(v, "/") {
			continue
		}
		switch c := semver.Compare(v, version); {
		case c == 0:
			return "", fmt.Errorf("%s: tag %s%s already exists: set RELEASE_VERSION to the next release", m.Name(), m.TagPrefix(), v)
		case c < 0 && semver.Prerelease(v) == "" && (prev == "" || semver.Compare(v, prev) > 0):
			prev = v
		}
	}
	return prev, nil
}

func gitErr(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

// repoSums is the union of the modules' go.sum lines, sorted, without the project's own modules.
func repoSums(repo string, mods []mod) ([]byte, error) {
	seen := map[string]bool{}
	for _, m := range mods {
		data, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(m.Dir), "go.sum"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(data), "\n") {
			path, _, _ := strings.Cut(line, " ")
			if path != "" && path != mods[0].Path && !strings.HasPrefix(path, mods[0].Path+"/") {
				seen[line] = true
			}
		}
	}
	lines := make([]string, 0, len(seen))
	for l := range seen {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}
