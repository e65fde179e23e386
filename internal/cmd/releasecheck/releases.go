package main

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	modzip "golang.org/x/mod/zip"
)

// releaseSet is every module's candidate and, where it has one, its previous release.
type releaseSet struct {
	mods       []mod
	candidates []release          // one per module, in mods' order
	previous   map[string]release // by module path
}

func (s releaseSet) all() []release {
	out := append([]release(nil), s.candidates...)
	for _, m := range s.mods {
		if p, ok := s.previous[m.Path]; ok {
			out = append(out, p)
		}
	}
	return out
}

// without is every release but m's candidate: what the proxy holds when gorelease checks m, which
// refuses a version the proxy already lists.
func (s releaseSet) without(m mod) []release {
	var out []release
	for _, r := range s.all() {
		if r.Path != m.Path || r.Version != s.candidate(m).Version {
			out = append(out, r)
		}
	}
	return out
}

func (s releaseSet) candidate(m mod) release {
	for _, c := range s.candidates {
		if c.Path == m.Path {
			return c
		}
	}
	return release{}
}

// buildReleases zips each module from the working tree at version, and its previous release (its
// highest tag below version) from that tag.
func buildReleases(out io.Writer, repo string, mods []mod, allTags []string, version string) (releaseSet, error) {
	set := releaseSet{mods: mods, previous: map[string]release{}}
	now := time.Now()
	for _, m := range mods {
		files, err := worktreeFiles(repo, m.Dir)
		if err != nil {
			return set, err
		}
		others := otherModuleDirs(mods, m.Dir)
		r, err := makeRelease(m.Path, version, files, m.GoMod, now, others)
		if err != nil {
			return set, fmt.Errorf("%s: %w", m.Name(), err)
		}
		set.candidates = append(set.candidates, r)
		license := ""
		if !hasFile(files, "LICENSE") {
			license = "; no LICENSE of its own (pkg.go.dev reads the license from the module's zip)"
		}
		fmt.Fprintf(out, "   %-14s %s@%s: %d KiB zipped%s\n", m.Name(), m.Path, version, len(r.Zip)/1024, license)

		prev, err := previousVersion(m, allTags, version)
		if err != nil {
			return set, err
		}
		if prev == "" {
			continue
		}
		tag := m.TagPrefix() + prev
		tfiles, goMod, err := tagFiles(repo, tag, m.Dir)
		if err != nil {
			return set, err
		}
		when, err := tagTime(repo, tag)
		if err != nil {
			return set, err
		}
		p, err := makeRelease(m.Path, prev, tfiles, goMod, when, others)
		if err != nil {
			return set, fmt.Errorf("%s at %s: %w", m.Name(), tag, err)
		}
		set.previous[m.Path] = p
		fmt.Fprintf(out, "   %-14s previous release %s, from tag %s\n", "", prev, tag)
	}
	return set, nil
}

func hasFile(files []modzip.File, name string) bool {
	for _, f := range files {
		if f.Path() == name {
			return true
		}
	}
	return false
}

func tagTime(repo, tag string) (time.Time, error) {
	out, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%cI", tag).Output()
	if err != nil {
		return time.Time{}, fmt.Errorf("git log %s: %w", tag, gitErr(err))
	}
	return time.Parse(time.RFC3339, strings.TrimSpace(string(out)))
}
