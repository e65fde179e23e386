package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// checkAPI checks each module as zipped, in the candidates unpacked in the repository's layout:
//
//   - go mod tidy -diff: go.mod and go.sum are tidy as committed, with the replace of the root;
//   - without that replace (as a user's build sees the module), go mod tidy adds the root's sums and
//     must change no requirement: the nested go.mod lists what the root at the release requires;
//   - gorelease (golang.org/x/exp/cmd/gorelease) against the module's previous release when it has
//     one (at v1 and above an incompatible API change fails), or with -base=none for a first release,
//     which checks the version is valid for the module path and the packages load without the replace.
//
// Each gorelease gets a proxy on disk without the module's own candidate, because gorelease refuses
// a version the proxy already lists; the other modules' candidates stay, so a nested module resolves
// the root at the release version. gorelease also refuses a repository with uncommitted changes, and
// zips a clean one from HEAD, so the unpacked candidates are committed to a repository of their own
// (which gives gorelease the tag prefix of a nested module).
func checkAPI(out io.Writer, e goEnv, work string, set releaseSet, exp string) error {
	src := filepath.Join(work, "src")
	if err := unpack(src, set); err != nil {
		return err
	}
	proxies := map[string]envWith{}
	for _, m := range set.mods {
		proxy := filepath.Join(work, "proxy-gorelease-"+m.Name())
		if err := writeProxy(proxy, set.without(m), []string{m.Path}); err != nil {
			return err
		}
		proxies[m.Path] = e.with(proxy)
		if err := checkTidy(out, proxies[m.Path], filepath.Join(src, filepath.FromSlash(m.Dir)), m, set.mods[0].Path); err != nil {
			return err
		}
	}
	if err := commitAll(src); err != nil {
		return err
	}
	bin := filepath.Join(work, "bin")
	if _, err := proxies[set.mods[0].Path].plus("GOBIN="+bin).goCmd(work, "install", "golang.org/x/exp/cmd/gorelease@"+exp); err != nil {
		return err
	}
	gorelease := filepath.Join(bin, "gorelease")

	for _, m := range set.mods {
		version := set.candidate(m).Version
		base := "none"
		if p, ok := set.previous[m.Path]; ok {
			base = p.Version
		}
		t := time.Now()
		report, err := proxies[m.Path].cmd(filepath.Join(src, filepath.FromSlash(m.Dir)), gorelease, "-base="+base, "-version="+version)
		if err != nil {
			return fmt.Errorf("gorelease for %s: %w", m.Name(), err)
		}
		if base == "none" {
			fmt.Fprintf(out, "   gorelease %s: no previous release (no tag %sv*): %s checked as a first release (%s)\n", m.Name(), m.TagPrefix(), version, since(t))
		} else {
			fmt.Fprintf(out, "   gorelease %s: %s against %s (%s)\n", m.Name(), version, base, since(t))
		}
		for _, line := range strings.Split(strings.TrimSpace(report), "\n") {
			fmt.Fprintln(out, "     |", line)
		}
	}
	return nil
}

// checkTidy runs go mod tidy -diff in the module's unpacked folder and, for a nested module that
// replaces the root, drops the replace and tidies: the requirements must not change.
func checkTidy(out io.Writer, e envWith, dir string, m mod, rootPath string) error {
	t := time.Now()
	if _, err := e.goCmd(dir, "mod", "tidy", "-diff"); err != nil {
		return fmt.Errorf("%s: go.mod or go.sum is not tidy (run go mod tidy in it): %w", m.Name(), err)
	}
	replaced := false
	for _, r := range m.File.Replace {
		replaced = replaced || r.Old.Path == rootPath
	}
	if !replaced {
		fmt.Fprintf(out, "   %s: go.mod and go.sum tidy (%s)\n", m.Name(), since(t))
		return nil
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := os.Chmod(filepath.Join(dir, f), 0o644); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	if _, err := e.goCmd(dir, "mod", "edit", "-dropreplace="+rootPath); err != nil {
		return err
	}
	if _, err := e.goCmd(dir, "mod", "tidy"); err != nil {
		return fmt.Errorf("%s without the replace of the root: %w", m.Name(), err)
	}
	after, err := readMod(filepath.Dir(dir), filepath.Base(dir))
	if err != nil {
		return err
	}
	if diff := requireDiff(m.File, after.File); diff != "" {
		return fmt.Errorf("%s: without the replace of the root, as a user's build sees it, go mod tidy changes its requirements (set them in its go.mod):\n%s", m.Name(), diff)
	}
	fmt.Fprintf(out, "   %s: go.mod and go.sum tidy; without the replace, the same requirements (%s)\n", m.Name(), since(t))
	return nil
}

// requireDiff lists the requirements that differ between two go.mod files, "" when none.
func requireDiff(before, after *modfile.File) string {
	versions := func(f *modfile.File) map[string]string {
		m := map[string]string{}
		for _, r := range f.Require {
			m[r.Mod.Path] = r.Mod.Version
		}
		return m
	}
	b, a := versions(before), versions(after)
	var lines []string
	for p, v := range b {
		if a[p] != v {
			lines = append(lines, fmt.Sprintf("  %s %s -> %q", p, v, a[p]))
		}
	}
	for p, v := range a {
		if _, ok := b[p]; !ok {
			lines = append(lines, fmt.Sprintf("  %s added at %s", p, v))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// unpack lays the candidates' zips out in dir as the repository holds them (nested modules in
// their folders).
func unpack(dir string, set releaseSet) error {
	for _, m := range set.mods {
		r := set.candidate(m)
		zf, err := os.CreateTemp("", "releasecheck-*.zip")
		if err != nil {
			return err
		}
		_, err = zf.Write(r.Zip)
		if cerr := zf.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = modzip.Unzip(filepath.Join(dir, filepath.FromSlash(m.Dir)), module.Version{Path: r.Path, Version: r.Version}, zf.Name())
		}
		os.Remove(zf.Name())
		if err != nil {
			return fmt.Errorf("unpacking %s@%s: %w", r.Path, r.Version, err)
		}
	}
	return nil
}

// commitAll commits everything in dir to a new git repository there.
func commitAll(dir string) error {
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=releasecheck", "-c", "user.email=releasecheck@localhost", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "release candidate"},
	} {
		c := exec.Command("git", args...)
		c.Dir = dir
		if msg, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s in %s: %w\n%s", strings.Join(args, " "), dir, err, msg)
		}
	}
	return nil
}
