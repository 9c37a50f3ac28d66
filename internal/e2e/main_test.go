// Package e2e drives the built dx binary on generated data in temporary
// directories, as a user would.
package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/dxdata/dx/internal/faultinject"
)

var dxBin string

func TestMain(m *testing.M) {
	// The fault tests re-execute this binary as their tracer.
	faultinject.RunIfTracer()
	dir, err := os.MkdirTemp("", "dx-e2e-bin")
	if err != nil {
		panic(err)
	}
	dxBin = filepath.Join(dir, "dx")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	// As make build: static, with the zstd C library.
	cmd := exec.Command("go", "build", "-tags", "netgo,osusergo", "-ldflags", "-linkmode=external -extldflags=-static", "-o", dxBin, "./cmd/dx")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dx:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one finished dx invocation.
type result struct {
	stdout, stderr string
	code           int
}

// repoDir is a worktree under test.
type repoDir struct {
	t   *testing.T
	dir string
	env []string // extra environment for every run
}

func newRepo(t *testing.T) *repoDir {
	t.Helper()
	r := &repoDir{t: t, dir: t.TempDir()}
	r.ok("init")
	return r
}

func (r *repoDir) path(p string) string { return filepath.Join(r.dir, filepath.FromSlash(p)) }

// run runs dx in the worktree and returns whatever happened.
func (r *repoDir) run(args ...string) result {
	r.t.Helper()
	return runDxEnv(r.t, r.dir, nil, r.env, args...)
}

func runDx(t *testing.T, dir string, stdin io.Reader, args ...string) result {
	t.Helper()
	return runDxEnv(t, dir, stdin, nil, args...)
}

func runDxEnv(t *testing.T, dir string, stdin io.Reader, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(dxBin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "DX_AUTHOR=Test <test@example.com>"), env...)
	cmd.Stdin = stdin
	return runProcess(t, cmd)
}

// runProcess runs cmd and returns its output and exit code; it fails the
// test when cmd cannot run at all.
func runProcess(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs dx and fails the test unless it exits 0.
func (r *repoDir) ok(args ...string) string {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("dx %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// fails runs dx and checks it exits non-zero with a one-line error that
// contains want.
func (r *repoDir) fails(want string, args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	checkFailure(r.t, res, want, args)
	return res
}

func checkFailure(t *testing.T, res result, want string, args []string) {
	t.Helper()
	if res.code == 0 {
		t.Fatalf("dx %s succeeded, want failure containing %q\nstdout: %s", strings.Join(args, " "), want, res.stdout)
	}
	lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "dx: ") {
		t.Fatalf("dx %s: want a one-line error, got %q", strings.Join(args, " "), res.stderr)
	}
	if !strings.Contains(lines[0], want) {
		t.Fatalf("dx %s: error %q does not contain %q", strings.Join(args, " "), lines[0], want)
	}
}

func (r *repoDir) write(p string, data string) {
	r.t.Helper()
	full := r.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// manifest describes every entry of a worktree (but .dx): type, mode bits,
// size, content hash or link target.
func manifest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if d.Name() == ".dx" {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			tgt, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link " + tgt
		case fi.IsDir():
			ents, _ := os.ReadDir(p)
			if len(ents) == 0 {
				out[rel] = "emptydir" // not versioned; listed to show the difference
			}
		default:
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("file %o %d %s", fi.Mode().Perm()&0o111, fi.Size(), hex.EncodeToString(h.Sum(nil)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffManifests(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, fmt.Sprintf("%s: %q vs %q", k, v, b[k]))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s: missing vs %q", k, v))
		}
	}
	sort.Strings(out)
	return out
}

// clearWorktree removes everything but .dx.
func clearWorktree(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == ".dx" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}
