package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestRestoreCeiling: dx debug restore-ceiling writes every file of the
// revision (their count and bytes in its JSON, and the time their removal
// took apart) and leaves nothing behind; with --keep, the files stay in
// the directory its JSON names, each with the committed bytes.
func TestRestoreCeiling(t *testing.T) {
	r := newRepo(t)
	var bytes int64
	for i := range 30 {
		data := fmt.Sprintf("file %d\n%0*d\n", i, i*100, i)
		r.write(fmt.Sprintf("d%d/f%02d.txt", i%4, i), data)
		bytes += int64(len(data))
	}
	r.ok("commit", "-m", "v1")
	var res struct {
		Files   int      `json:"files"`
		Bytes   int64    `json:"bytes"`
		Seconds *float64 `json:"seconds"`
		Cleanup *float64 `json:"cleanup_seconds"`
	}
	if err := json.Unmarshal([]byte(r.ok("debug", "restore-ceiling", "HEAD")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Files != 30 || res.Bytes != bytes || res.Seconds == nil || res.Cleanup == nil {
		t.Fatalf("restore-ceiling: %+v, want 30 files of %d bytes and both times", res, bytes)
	}
	left, err := os.ReadDir(r.path(".dx/tmp"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("restore-ceiling left %d entries in .dx/tmp", len(left))
	}

	var kept struct {
		Files int    `json:"files"`
		Dir   string `json:"dir"`
	}
	if err := json.Unmarshal([]byte(r.ok("debug", "restore-ceiling", "--keep", "HEAD")), &kept); err != nil {
		t.Fatal(err)
	}
	if kept.Files != 30 || kept.Dir == "" {
		t.Fatalf("restore-ceiling --keep: %+v, want 30 files and their directory", kept)
	}
	for i := range 30 {
		got, err := os.ReadFile(filepath.Join(kept.Dir, fmt.Sprintf("d%d", i%4), fmt.Sprintf("f%02d.txt", i)))
		if want := fmt.Sprintf("file %d\n%0*d\n", i, i*100, i); err != nil || string(got) != want {
			t.Fatalf("kept file %d: %q, %v; want %q", i, got, err, want)
		}
	}
}

// TestIngestCeilingWrite: dx debug ceiling --write compresses what the
// plain ceiling does, and removes the packs it wrote; a directory that
// does not exist is a one-line error.
func TestIngestCeilingWrite(t *testing.T) {
	r := newRepo(t)
	var bytes int64
	for i := range 40 {
		data := fmt.Sprintf("row %d,%0*d\n", i, 2000+i*300, i)
		r.write(fmt.Sprintf("d%d/f%02d.csv", i%3, i), data)
		bytes += int64(len(data))
	}
	type result struct {
		Files  int   `json:"files"`
		Bytes  int64 `json:"bytes"`
		Stored int64 `json:"stored_bytes"`
	}
	var plain, written result
	if err := json.Unmarshal([]byte(r.ok("debug", "ceiling", r.path("d0"), r.path("d1"), r.path("d2"))), &plain); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := json.Unmarshal([]byte(r.ok("debug", "ceiling", "--write", out, r.path("d0"), r.path("d1"), r.path("d2"))), &written); err != nil {
		t.Fatal(err)
	}
	if plain.Files != 40 || plain.Bytes != bytes || plain.Stored == 0 || written != plain {
		t.Fatalf("ceiling %+v, with --write %+v; want 40 files of %d bytes both", plain, written, bytes)
	}
	if left, err := os.ReadDir(out); err != nil || len(left) != 0 {
		t.Fatalf("--write left %d entries (%v)", len(left), err)
	}
	r.fails("missing", "debug", "ceiling", "--write", r.path("missing"), r.path("d0"))
}
