package dag

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleObjects(t *testing.T) map[string]struct {
	kind Kind
	data []byte
} {
	t.Helper()
	chunk := Hash(KindChunk, []byte("hello, world\n"))
	leaf := FileNode{Chunks: []ChunkRef{{ID: chunk, Len: 13}, {ID: chunk, Len: 13}}}
	inner := FileNode{Level: 1, Children: []ChildRef{{ID: Hash(KindFile, leaf.Encode()), Count: 2, Size: 26}}}
	tree := TreeNode{Entries: []TreeEntry{
		{Name: "a b.csv", Mode: ModeFile, ID: Hash(KindFile, leaf.Encode()), Size: 26},
		{Name: "bin", Mode: ModeExec, ID: Hash(KindFile, leaf.Encode()), Size: 26},
		{Name: "dir", Mode: ModeDir, ID: Hash(KindTree, []byte{1, 0, 0}), Size: 0},
		{Name: "link", Mode: ModeSymlink, ID: Hash(KindFile, leaf.Encode()), Size: 4},
		{Name: "ünï", Mode: ModeFile, ID: Hash(KindFile, leaf.Encode()), Size: 26},
	}}
	tb, err := tree.Encode()
	if err != nil {
		t.Fatal(err)
	}
	itree := TreeNode{Level: 1, Children: []ChildRef{{ID: Hash(KindTree, tb), Count: 5, Size: 82, Last: "ünï"}}}
	itb, err := itree.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c := Commit{Tree: Hash(KindTree, tb), Parents: []ID{Hash(KindCommit, []byte("p"))}, Generation: 2,
		Author: "Ada <ada@example.com>", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Message: "first\n",
		Meta: map[string]string{"k": "v", "a": "b"}}
	cb, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := Model{Name: "churn", Version: 3, Artifact: Hash(KindFile, leaf.Encode()), ArtifactKind: KindFile,
		Data:    []DataRef{{Commit: Hash(KindCommit, cb), Paths: []string{"data/users.csv"}}},
		CodeRev: "0123abc", CodeDirty: true, Params: map[string]string{"lr": "0.1"}, Metrics: map[string]string{"auc": "0.9"},
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	mb, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	first := StageMove{Model: "churn", Stage: "production", Version: Hash(KindModel, mb), Seq: 1,
		Author: "Ada <ada@example.com>", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Message: "auc up"}
	fb, err := first.Encode()
	if err != nil {
		t.Fatal(err)
	}
	demote := StageMove{Model: "churn", Stage: "production", Previous: Hash(KindStage, fb), Seq: 2,
		Author: "Bob <bob@example.com>", Time: time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC)}
	db, err := demote.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]struct {
		kind Kind
		data []byte
	}{
		"chunk":     {KindChunk, []byte("hello, world\n")},
		"file-leaf": {KindFile, leaf.Encode()},
		"file-node": {KindFile, inner.Encode()},
		"tree-leaf": {KindTree, tb},
		"tree-node": {KindTree, itb},
		"commit":    {KindCommit, cb},
		"model":     {KindModel, mb},
		"stage":     {KindStage, fb},
		"stage-off": {KindStage, db},
	}
}

// TestGoldenIDs pins every object format: any change to an encoding or to
// the hash keys changes these IDs. Refresh with -update only on purpose.
func TestGoldenIDs(t *testing.T) {
	objs := sampleObjects(t)
	var names []string
	for n := range objs {
		names = append(names, n)
	}
	sortStrings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", n, Hash(objs[n].kind, objs[n].data))
	}
	path := filepath.Join("testdata", "golden_ids.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != b.String() {
		t.Errorf("object IDs changed: the format moved.\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestRoundTrip(t *testing.T) {
	for name, o := range sampleObjects(t) {
		t.Run(name, func(t *testing.T) {
			var again []byte
			var err error
			switch o.kind {
			case KindChunk:
				return
			case KindFile:
				var n *FileNode
				if n, err = DecodeFileNode(o.data); err == nil {
					again = n.Encode()
				}
			case KindTree:
				var n *TreeNode
				if n, err = DecodeTreeNode(o.data); err == nil {
					again, err = n.Encode()
				}
			case KindCommit:
				var c *Commit
				if c, err = DecodeCommit(o.data); err == nil {
					again, err = c.Encode()
				}
			case KindModel:
				var m *Model
				if m, err = DecodeModel(o.data); err == nil {
					again, err = m.Encode()
				}
			case KindStage:
				var m *StageMove
				if m, err = DecodeStageMove(o.data); err == nil {
					again, err = m.Encode()
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(o.data) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

// rawTree hand-encodes a leaf tree node, bypassing the encoder's checks, as
// a hostile store or remote could.
func rawTree(names ...string) []byte {
	e := enc{}
	e.byte(FormatVersion)
	e.uvarint(0)
	e.uvarint(uint64(len(names)))
	for _, n := range names {
		e.str(n)
		e.byte(byte(ModeFile))
		e.id(ID{})
		e.uvarint(1)
	}
	return e.b
}

func TestDecodeTreeRejectsHostileNames(t *testing.T) {
	cases := []struct {
		name  string
		names []string
	}{
		{"dotdot", []string{".."}},
		{"dot", []string{"."}},
		{"slash", []string{"a/b"}},
		{"absolute", []string{"/etc"}},
		{"nul", []string{"a\x00b"}},
		{"empty", []string{""}},
		{"bad utf8", []string{"\xff"}},
		{"unsorted", []string{"b", "a"}},
		{"duplicate", []string{"a", "a"}},
		{"too long", []string{strings.Repeat("x", MaxNameLen+1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeTreeNode(rawTree(tc.names...))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("want ErrCorrupt, got %v", err)
			}
			n := TreeNode{}
			for _, nm := range tc.names {
				n.Entries = append(n.Entries, TreeEntry{Name: nm, Mode: ModeFile})
			}
			if _, err := n.Encode(); err == nil {
				t.Fatalf("encoder accepted %q", tc.names)
			}
		})
	}
	if _, err := DecodeTreeNode(rawTree("a", "b c", "ü")); err != nil {
		t.Fatalf("valid names rejected: %v", err)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	objs := sampleObjects(t)
	cases := []struct {
		name string
		data []byte
		dec  func([]byte) error
	}{
		{"tree trailing byte", append(objs["tree-leaf"].data, 0), decTree},
		{"tree truncated", objs["tree-leaf"].data[:20], decTree},
		{"tree bad version", append([]byte{9}, objs["tree-leaf"].data[1:]...), decTree},
		{"file truncated", objs["file-leaf"].data[:10], decFile},
		{"file zero chunk", func() []byte {
			e := enc{}
			e.byte(1)
			e.uvarint(0)
			e.uvarint(1)
			e.id(ID{})
			e.uvarint(0)
			return e.b
		}(), decFile},
		{"file huge count", func() []byte { e := enc{}; e.byte(1); e.uvarint(0); e.uvarint(1 << 40); return e.b }(), decFile},
		{"file non-canonical varint", []byte{1, 0x80, 0x00, 0}, decFile},
		{"commit truncated", objs["commit"].data[:40], decCommit},
		{"commit trailing", append(objs["commit"].data, 1), decCommit},
		{"model truncated", objs["model"].data[:len(objs["model"].data)-1], decModel},
		{"stage truncated", objs["stage"].data[:len(objs["stage"].data)-1], decStage},
		{"stage trailing", append(objs["stage"].data, 0), decStage},
		{"stage first move names a previous", rawStageMove(Hash(KindStage, nil), 1), decStage},
		{"stage later move names none", rawStageMove(ZeroID, 2), decStage},
		{"stage sequence zero", rawStageMove(ZeroID, 0), decStage},
		{"empty", nil, decTree},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec(tc.data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("want ErrCorrupt, got %v", err)
			}
		})
	}
}

func decTree(b []byte) error   { _, err := DecodeTreeNode(b); return err }
func decFile(b []byte) error   { _, err := DecodeFileNode(b); return err }
func decCommit(b []byte) error { _, err := DecodeCommit(b); return err }
func decModel(b []byte) error  { _, err := DecodeModel(b); return err }
func decStage(b []byte) error  { _, err := DecodeStageMove(b); return err }

// rawStageMove hand-encodes a stage move, bypassing the encoder's checks.
func rawStageMove(previous ID, seq uint64) []byte {
	e := enc{}
	e.byte(FormatVersion)
	e.str("churn")
	e.str("production")
	e.id(Hash(KindModel, nil))
	e.id(previous)
	e.uvarint(seq)
	e.str("Ada")
	e.varint(0)
	e.str("")
	return e.b
}
