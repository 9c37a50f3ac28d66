package e2e

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store/pack"
)

// rawEntry is one entry of a tree node written by hand.
type rawEntry struct {
	name string
	mode dag.Mode
	id   dag.ID
	size uint64
}

// rawTree encodes a leaf tree node with entries in the given order,
// valid or not, as a hostile remote could.
func rawTree(es ...rawEntry) []byte {
	b := []byte{dag.FormatVersion, 0}
	b = binary.AppendUvarint(b, uint64(len(es)))
	for _, e := range es {
		b = binary.AppendUvarint(b, uint64(len(e.name)))
		b = append(b, e.name...)
		b = append(b, byte(e.mode))
		b = append(b, e.id[:]...)
		b = binary.AppendUvarint(b, e.size)
	}
	return b
}

// craftRemote writes a directory remote holding one pack whose objects
// build adds, with refs/heads/main at the commit build returns.
func craftRemote(t *testing.T, dir string, build func(add func(dag.Kind, []byte) dag.ID) dag.ID) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pack.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind dag.Kind, b []byte) dag.ID {
		id := dag.Hash(kind, b)
		if _, err := w.Add(id, kind, pack.CodecRaw, b, len(b)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	commit := build(add)
	pid, footer, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	writeBytes(t, filepath.Join(dir, "packs", pid.String()+".pack"), buf.Bytes())
	writeBytes(t, filepath.Join(dir, "index", pid.String()+".idx"), footer)
	writeBytes(t, filepath.Join(dir, "refs", "heads", "main"), []byte(commit.String()+"\n"))
	writeBytes(t, filepath.Join(dir, "FORMAT"), []byte("dx remote v1\n"))
}

// evilCommit adds a commit of tree with add, as craftRemote's build does.
func evilCommit(t *testing.T, add func(dag.Kind, []byte) dag.ID, tree dag.ID) dag.ID {
	t.Helper()
	cb, err := (&dag.Commit{Tree: tree, Generation: 1, Author: "evil", Time: time.Unix(0, 0), Message: "evil"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return add(dag.KindCommit, cb)
}

// reservedVariants are names that git, NTFS or HFS+ read as .git or .dx.
var reservedVariants = []string{
	".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", "git~1", "GIT~1",
	".git::$INDEX_ALLOCATION", ".g\u200cit", "\ufeff.git", ".gi\u206at",
	`x\.git`, ".dx", ".DX", ".dx.", "dx~1",
}

// TestCloneRefusesReservedNames: a remote whose tree holds .git (or a
// name a file system reads as .git or .dx) with a hook and a config that
// would run code, at the top or deeper, cannot be cloned or pulled:
// nothing is written, no ref moves.
func TestCloneRefusesReservedNames(t *testing.T) {
	for _, name := range reservedVariants {
		for _, deep := range []bool{false, true} {
			t.Run(strings.NewReplacer(" ", "_", "/", "_").Replace(name)+map[bool]string{false: "", true: "/deep"}[deep], func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "remote")
				craftRemote(t, dir, func(add func(dag.Kind, []byte) dag.ID) dag.ID {
					hook := []byte("#!/bin/sh\ntouch /tmp/pwned\n")
					chunk := add(dag.KindChunk, hook)
					file := add(dag.KindFile, (&dag.FileNode{Chunks: []dag.ChunkRef{{ID: chunk, Len: uint32(len(hook))}}}).Encode())
					hooks := add(dag.KindTree, rawTree(rawEntry{"pre-commit", dag.ModeExec, file, uint64(len(hook))}))
					gitDir := add(dag.KindTree, rawTree(
						rawEntry{"config", dag.ModeFile, file, uint64(len(hook))},
						rawEntry{"hooks", dag.ModeDir, hooks, uint64(len(hook))},
					))
					es := []rawEntry{{name, dag.ModeDir, gitDir, 2 * uint64(len(hook))}, {"ok.txt", dag.ModeFile, file, uint64(len(hook))}}
					sort.Slice(es, func(i, j int) bool { return es[i].name < es[j].name })
					top := add(dag.KindTree, rawTree(es...))
					if deep {
						top = add(dag.KindTree, rawTree(rawEntry{"sub", dag.ModeDir, top, 3 * uint64(len(hook))}))
					}
					return evilCommit(t, add, top)
				})
				parent := t.TempDir()
				target := filepath.Join(parent, "clone")
				res := runDx(t, parent, nil, "clone", "file://"+dir, target)
				checkFailure(t, res, "reserved name", []string{"clone"})
				if _, err := os.Stat(target); err == nil {
					t.Fatal("a failed clone left its directory behind")
				}
				// Pulled into a repository that lives in a git checkout.
				r := newRepo(t)
				r.write(".git/config", "[core]\n")
				r.write("mine.txt", "mine\n")
				r.ok("remote", "add", "origin", "file://"+dir)
				before := manifest(t, r.dir)
				r.fails("reserved name", "pull")
				if d := diffManifests(before, manifest(t, r.dir)); len(d) > 0 {
					t.Fatalf("a refused pull changed the worktree: %v", d)
				}
				if out := r.ok("branch", "-r"); strings.TrimSpace(out) != "" {
					t.Fatalf("a refused pull moved a ref: %q", out)
				}
				r.ok("fsck")
			})
		}
	}
}

// TestScanLeavesOutReservedAndBadNames: files whose names a file system
// could read as .git or .dx, and names that are not UTF-8, are left out
// of a commit with a warning; the rest of the tree commits.
func TestScanLeavesOutReservedAndBadNames(t *testing.T) {
	r := newRepo(t)
	r.write("ok.txt", "ok\n")
	r.write(".GIT/config", "x\n")
	r.write("sub/git~1", "x\n")
	r.write("bad\xff.txt", "x\n")
	res := r.run("commit", "-m", "c")
	if res.code != 0 {
		t.Fatalf("commit: %d %s", res.code, res.stderr)
	}
	for _, want := range []string{".GIT: not versioned", "sub/git~1: not versioned", `"bad\xff.txt": not versioned`} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("commit's warnings lack %q:\n%s", want, res.stderr)
		}
	}
	if got := r.ok("diff", "--name-only", "HEAD~0"); got != "" {
		t.Fatalf("worktree differs from the commit: %q", got)
	}
	files := r.ok("show", "--json")
	if !strings.Contains(files, "ok.txt") || strings.Contains(files, "GIT") || strings.Contains(files, "git~1") {
		t.Fatalf("commit holds the wrong files: %s", files)
	}
	if res := r.run("-q", "status"); res.stderr != "" {
		t.Fatalf("-q still warns: %q", res.stderr)
	}
}
