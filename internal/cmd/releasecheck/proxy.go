package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

// A release is one module at one version, as the module proxy serves it.
type release struct {
	Path    string
	Version string
	Time    time.Time
	GoMod   []byte
	Zip     []byte
}

// worktreeFiles lists the files of the module in dir (relative to repo, "" for the root) that a
// commit of the working tree would hold: tracked and untracked ones, less what .gitignore hides
// (built binaries, bench.out, cover.out). Paths are relative to the module's folder. Files of
// nested modules are still listed; the zip leaves them out.
func worktreeFiles(repo, dir string) ([]modzip.File, error) {
	args := []string{"-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name"}
	if dir != "" {
		args = append(args, "--", dir)
	}
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", gitErr(err))
	}
	var files []modzip.File
	seen := map[string]bool{}
	for _, name := range strings.Split(string(out), "\x00") {
		rel := name
		if dir != "" {
			var ok bool
			if rel, ok = strings.CutPrefix(name, dir+"/"); !ok {
				continue
			}
		}
		if name == "" || seen[rel] {
			continue
		}
		seen[rel] = true
		full := filepath.Join(repo, filepath.FromSlash(name))
		info, err := os.Lstat(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree, not yet in the index
		}
		if err != nil {
			return nil, err
		}
		files = append(files, diskFile{path: rel, full: full, info: info})
	}
	return files, nil
}

type diskFile struct {
	path, full string
	info       fs.FileInfo
}

func (f diskFile) Path() string                 { return f.path }
func (f diskFile) Lstat() (fs.FileInfo, error)  { return f.info, nil }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.full) }

// tagFiles lists the files of the module in dir at a git revision (a previous release's tag), read
// with git archive, so the base of the API comparison is exactly what was tagged.
func tagFiles(repo, rev, dir string) ([]modzip.File, []byte, error) {
	args := []string{"-C", repo, "archive", "--format=tar", rev}
	if dir != "" {
		args = append(args, "--", dir)
	}
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("git archive %s: %w", rev, gitErr(err))
	}
	var files []modzip.File
	var goMod []byte
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		rel := h.Name
		if dir != "" {
			var ok bool
			if rel, ok = strings.CutPrefix(h.Name, dir+"/"); !ok {
				continue
			}
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, err
		}
		if rel == "go.mod" {
			goMod = data
		}
		files = append(files, memFile{path: rel, data: data, mode: fs.FileMode(h.Mode) & fs.ModePerm})
	}
	if goMod == nil {
		return nil, nil, fmt.Errorf("%s has no %s", rev, path.Join(dir, "go.mod"))
	}
	return files, goMod, nil
}

type memFile struct {
	path string
	data []byte
	mode fs.FileMode
}

func (f memFile) Path() string                 { return f.path }
func (f memFile) Lstat() (fs.FileInfo, error)  { return memInfo{f}, nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo struct{ f memFile }

func (i memInfo) Name() string       { return path.Base(i.f.path) }
func (i memInfo) Size() int64        { return int64(len(i.f.data)) }
func (i memInfo) Mode() fs.FileMode  { return i.f.mode }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// makeRelease zips files as module path at version, the way the go command would: golang.org/x/mod/zip
// leaves out the files of nested modules (any folder with its own go.mod) and vendored packages, and
// refuses names that could not be extracted everywhere. The zip is then read back and checked to hold
// no file of another module of the repository (others: their folders relative to this module's).
func makeRelease(path, version string, files []modzip.File, goMod []byte, when time.Time, others []string) (release, error) {
	var buf bytes.Buffer
	m := module.Version{Path: path, Version: version}
	if err := modzip.Create(&buf, m, files); err != nil {
		return release{}, err
	}
	names, err := zipNames(buf.Bytes(), m)
	if err != nil {
		return release{}, err
	}
	hasGoMod := false
	for _, n := range names {
		hasGoMod = hasGoMod || n == "go.mod"
		for _, o := range others {
			if strings.HasPrefix(n, o+"/") {
				return release{}, fmt.Errorf("%s@%s: the zip holds %s, a file of the module in %s", path, version, n, o)
			}
		}
	}
	if !hasGoMod {
		return release{}, fmt.Errorf("%s@%s: the zip has no go.mod", path, version)
	}
	return release{Path: path, Version: version, Time: when.UTC(), GoMod: goMod, Zip: buf.Bytes()}, nil
}

// zipNames lists a module zip's files, relative to the module, after the checks the go command makes
// when it extracts one.
func zipNames(data []byte, m module.Version) ([]string, error) {
	f, err := os.CreateTemp("", "releasecheck-*.zip")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return nil, err
	}
	cf, err := modzip.CheckZip(m, f.Name())
	if err != nil {
		return nil, err
	}
	prefix := m.Path + "@" + m.Version + "/"
	names := make([]string, len(cf.Valid))
	for i, n := range cf.Valid {
		names[i] = strings.TrimPrefix(n, prefix)
	}
	return names, nil
}

// writeProxy lays releases out in dir as the module proxy protocol wants (GOPROXY=file://dir):
// <escaped module>/@v/list, and <version>.info, .mod and .zip per version. listOnly names modules
// that get a list of their releases in rels even when that list is empty, so the go command asks
// no further proxy about them (gorelease lists a module's versions to refuse one that exists).
func writeProxy(dir string, rels []release, listOnly []string) error {
	versions := map[string][]string{}
	for _, p := range listOnly {
		versions[p] = nil
	}
	for _, r := range rels {
		ep, err := module.EscapePath(r.Path)
		if err != nil {
			return err
		}
		ev, err := module.EscapeVersion(r.Version)
		if err != nil {
			return err
		}
		vdir := filepath.Join(dir, filepath.FromSlash(ep), "@v")
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return err
		}
		info, err := json.Marshal(struct {
			Version string
			Time    time.Time
		}{r.Version, r.Time})
		if err != nil {
			return err
		}
		for ext, data := range map[string][]byte{".info": info, ".mod": r.GoMod, ".zip": r.Zip} {
			if err := os.WriteFile(filepath.Join(vdir, ev+ext), data, 0o644); err != nil {
				return err
			}
		}
		versions[r.Path] = append(versions[r.Path], r.Version)
	}
	for p, vs := range versions {
		ep, err := module.EscapePath(p)
		if err != nil {
			return err
		}
		vdir := filepath.Join(dir, filepath.FromSlash(ep), "@v")
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			return err
		}
		semver.Sort(vs)
		list := strings.Join(vs, "\n")
		if list != "" {
			list += "\n"
		}
		if err := os.WriteFile(filepath.Join(vdir, "list"), []byte(list), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// otherModuleDirs is, for the module in dir, the folders of the repository's other modules that lie
// inside it, relative to it: every nested module for the root, none for a nested one (whose files
// git ls-files already keeps to its own folder).
func otherModuleDirs(mods []mod, dir string) []string {
	if dir != "" {
		return nil
	}
	var out []string
	for _, m := range mods {
		if m.Dir != "" {
			out = append(out, m.Dir)
		}
	}
	sort.Strings(out)
	return out
}
