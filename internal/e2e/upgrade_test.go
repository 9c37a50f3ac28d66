package e2e

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeFromV1Store: a repository that dx wrote with its v1 store
// (testdata/v1store.tgz, the object index in badger: made by dx before
// the location files) is upgraded by the first command that opens it, and
// keeps its history, branches, tags and files.
func TestUpgradeFromV1Store(t *testing.T) {
	dir := t.TempDir()
	untar(t, "testdata/v1store.tgz", dir)
	r := &repoDir{t: t, dir: filepath.Join(dir, "repo")}
	format := func() string {
		b, err := os.ReadFile(r.path(".dx/FORMAT"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if f := format(); f != "dx store v1" {
		t.Fatalf("the fixture's FORMAT is %q", f)
	}
	if got := r.ok("log", "--oneline", "feature"); !strings.Contains(got, "three") || !strings.Contains(got, "two") || !strings.Contains(got, "one") {
		t.Fatalf("log after the upgrade:\n%s", got)
	}
	if f := format(); f != "dx store v2" {
		t.Fatalf("FORMAT %q after a command, want v2", f)
	}
	if got := r.ok("status", "-s"); got != "" {
		t.Fatalf("status of the upgraded worktree:\n%s", got)
	}
	if got := r.ok("cat", "v1:a.txt"); got != "hello again\n" {
		t.Fatalf("v1:a.txt %q", got)
	}
	if got := r.ok("cat", "HEAD~1:a.txt"); got != "hello\n" {
		t.Fatalf("HEAD~1:a.txt %q", got)
	}
	if got := r.ok("cat", "feature:d/b.csv"); got != "id,v\n1,a\n2,b\n3,c\n" {
		t.Fatalf("feature:d/b.csv %q", got)
	}
	r.fsckClean("--full")
	r.ok("checkout", "-q", "feature")
	r.write("new.txt", "new\n")
	r.ok("commit", "-q", "-m", "four")
	r.ok("gc")
	r.fsckClean("--full")
	if got := r.ok("cat", "HEAD:big.txt"); !strings.HasPrefix(got, "1,row\n2,row\n") || !strings.HasSuffix(got, "9000,row\n") {
		t.Fatalf("HEAD:big.txt: %d bytes", len(got))
	}
}

// untar extracts the gzipped tar archive at path into dir.
func untar(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(dst, filepath.Clean(dir)+string(filepath.Separator)) {
			t.Fatalf("archive entry %q outside the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err == nil {
				err = os.WriteFile(dst, b, os.FileMode(h.Mode)&0o777)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
