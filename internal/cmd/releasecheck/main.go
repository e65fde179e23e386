// Command releasecheck proves, before a release is tagged, that a user outside this repository can
// use it. It zips the root module and every nested module (each */go.mod) from the working tree at
// the release version, serves them from a module proxy on disk (GOPROXY=file://...), and in a new
// module in a temporary folder runs go get of every module at that version, builds a program that
// imports each of their public packages, runs go install of the CLI at that version and the CLI
// itself. Then, on the zips unpacked: each go.mod and go.sum is tidy, a nested module without its
// replace of the root keeps the same requirements, and gorelease compares each module with its
// previous release (its last tag) or, with no tag yet, checks the version is valid for a first one.
//
// The project's own modules come only from the proxy on disk (exempt from the checksum database:
// they are not published yet); other modules come from the module cache's downloads, then the
// configured module proxy.
//
//	make release-check RELEASE_VERSION=v0.1.0
//	go run ./internal/cmd/releasecheck -version v0.1.0 -gorelease VERSION [-keep]
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// options is what the flags set.
type options struct {
	repo      string // the repository's root folder
	version   string // the release being checked, for every module
	gorelease string // golang.org/x/exp version that provides cmd/gorelease
	keep      bool   // keep the temporary folder (the proxy, the user's module) afterwards
	out       io.Writer
}

func main() {
	var o options
	flag.StringVar(&o.repo, "repo", ".", "the repository's root folder")
	flag.StringVar(&o.version, "version", "", "the release version to check, e.g. v0.1.0 (every module is released at it)")
	flag.StringVar(&o.gorelease, "gorelease", "", "the golang.org/x/exp version whose cmd/gorelease checks the API")
	flag.BoolVar(&o.keep, "keep", false, "keep the work folder (the proxy, the user's module) for a look")
	flag.Parse()
	o.out = os.Stdout
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	start := time.Now()
	if o.gorelease == "" {
		return fmt.Errorf("-gorelease: no golang.org/x/exp version given")
	}
	if err := checkVersion(o.version); err != nil {
		return err
	}
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	mods, err := discoverModules(repo)
	if err != nil {
		return err
	}
	names := make([]string, len(mods))
	for i, m := range mods {
		names[i] = m.Name()
	}
	fmt.Fprintf(o.out, "== release %s of %d modules: %s\n", o.version, len(mods), strings.Join(names, ", "))
	if err := checkRootRequires(mods, o.version); err != nil {
		return err
	}
	if dirty, err := exec.Command("git", "-C", repo, "status", "--porcelain").Output(); err == nil && len(dirty) > 0 {
		fmt.Fprintln(o.out, "note: the working tree has uncommitted changes; the zips hold them, a tag would not")
	}

	work, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(o.out, "work folder (kept):", work)
	} else {
		defer os.RemoveAll(work)
	}

	env, err := newEnv(work, mods[0].Path)
	if err != nil {
		return err
	}
	if len(env.upstream) == 0 {
		fmt.Fprintln(o.out, "note: GOPROXY names no module proxy: other modules come from the module cache's downloads alone, their hashes unchecked by the checksum database (GOSUMDB=off)")
	}

	allTags, err := tags(repo)
	if err != nil {
		return err
	}
	set, err := buildReleases(o.out, repo, mods, allTags, o.version)
	if err != nil {
		return err
	}
	proxy := filepath.Join(work, "proxy")
	if err := writeProxy(proxy, set.all(), nil); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "== module proxy on disk: %s (%s)\n", proxy, since(start))

	sums, err := repoSums(repo, mods)
	if err != nil {
		return err
	}
	if err := checkAsUser(o.out, env.with(proxy), work, mods, sums, o.version); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "== a user's module got every module at %s, built against them, installed the CLI (%s)\n", o.version, since(start))

	if err := checkAPI(o.out, env, work, set, o.gorelease); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "== release %s checked (%s)\n", o.version, since(start))
	return nil
}

// goEnv is how every go command here runs: one toolchain (the one running this, so a
// GOTOOLCHAIN=go1.27.3 run checks with 1.27.3 throughout), a module cache of its own (nothing of
// the project's own modules from an earlier run, or from a developer's cache), the project's
// modules exempt from the checksum database (they are not published yet), and proxies in order: the
// one on disk, the developer's module cache downloads (a proxy in the same layout), the configured
// proxies without "direct".
type goEnv struct {
	goBin     string
	goroot    string
	modCache  string
	tmp       string // TMPDIR: gorelease leaves empty folders in it
	downloads string // the developer's GOMODCACHE/cache/download, when it exists
	upstream  []string
	rootPath  string
}

func newEnv(work, rootPath string) (goEnv, error) {
	goroot, err := goEnvVar("GOROOT")
	if err != nil {
		return goEnv{}, err
	}
	cache, err := goEnvVar("GOMODCACHE")
	if err != nil {
		return goEnv{}, err
	}
	proxies, err := goEnvVar("GOPROXY")
	if err != nil {
		return goEnv{}, err
	}
	e := goEnv{goBin: filepath.Join(goroot, "bin", "go"), goroot: goroot, modCache: filepath.Join(work, "modcache"), tmp: filepath.Join(work, "tmp"), rootPath: rootPath}
	if err := os.MkdirAll(e.tmp, 0o755); err != nil {
		return goEnv{}, err
	}
	if d := filepath.Join(cache, "cache", "download"); cache != "" && isDir(d) {
		e.downloads = d
		// The checksum database's tiles the developer's go command already fetched: with them a
		// module from the downloads is verified without asking the network again.
		if err := copyTree(filepath.Join(d, "sumdb"), filepath.Join(e.modCache, "cache", "download", "sumdb")); err != nil {
			return goEnv{}, err
		}
	}
	for _, p := range strings.FieldsFunc(proxies, func(r rune) bool { return r == ',' || r == '|' }) {
		if p != "direct" && p != "off" && p != "" {
			e.upstream = append(e.upstream, p)
		}
	}
	return e, nil
}

func goEnvVar(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, gitErr(err))
	}
	return strings.TrimSpace(string(out)), nil
}

// copyTree copies the regular files under from to the same places under to; a missing from is
// nothing to copy.
func copyTree(from, to string) error {
	if !isDir(from) {
		return nil
	}
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// envWith is the environment of a go command that takes the project's modules from proxy.
type envWith struct {
	goEnv
	proxy string
	extra []string // KEY=VALUE, over the rest
}

func (e goEnv) with(proxy string) envWith { return envWith{goEnv: e, proxy: proxy} }

// plus is e with more variables set.
func (e envWith) plus(kv ...string) envWith {
	e.extra = append(append([]string(nil), e.extra...), kv...)
	return e
}

func (e envWith) vars() []string {
	proxies := []string{fileURL(e.proxy)}
	if e.downloads != "" {
		proxies = append(proxies, fileURL(e.downloads))
	}
	proxies = append(proxies, e.upstream...)
	set := map[string]string{
		"GOPROXY":   strings.Join(proxies, ","),
		"GONOSUMDB": e.rootPath,
		"GOPRIVATE": "",
		"GONOPROXY": "",
		// -trimpath: the build cache keys then hold no path of this run's module cache, so a second
		// run reuses what the first compiled.
		"GOFLAGS":     "-mod=mod -modcacherw -trimpath",
		"GOMODCACHE":  e.modCache,
		"GOWORK":      "off",
		"TMPDIR":      e.tmp,
		"GOTOOLCHAIN": "local",
		"PATH":        filepath.Join(e.goroot, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	if len(e.upstream) == 0 {
		// No proxy to reach the checksum database through (GOPROXY=off): go install pkg@version,
		// which reads no go.sum, and gorelease's look at retractions would have to ask it.
		set["GOSUMDB"] = "off"
	}
	for _, kv := range e.extra {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

// goCmd runs the go command in dir and returns its standard output; on failure the error holds
// what it printed.
func (e envWith) goCmd(dir string, args ...string) (string, error) {
	return e.cmd(dir, e.goBin, args...)
}

func (e envWith) cmd(dir, name string, args ...string) (string, error) {
	c := exec.Command(name, args...)
	c.Dir = dir
	c.Env = e.vars()
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s (in %s): %w\n%s%s", filepath.Base(name), strings.Join(args, " "), dir, err, out, stderr.String())
	}
	return string(out), nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
