package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/repo"
)

// FileReader is what the drill-down reads for a changed path that is not
// a table: its content at a commit, and how its two versions are stored.
// A History that also implements it shows text diffs and chunk counts.
type FileReader interface {
	// Cat writes the file at path in commit rev to w, as dx cat REV:PATH.
	Cat(ctx context.Context, rev dag.ID, path string, w io.Writer) error
	// CompareChunks counts the chunks of two versions of a file (nil:
	// none on that side) and those they share.
	CompareChunks(ctx context.Context, old, new *dag.TreeEntry) (repo.ChunkCounts, error)
}

// maxTextDiff is the largest version of a file the drill-down diffs as
// text: a larger one shows its sizes and chunk counts instead, so that a
// large file never fills memory.
const maxTextDiff = 1 << 20

// Cat reads a file with the call dx cat uses.
func (h *RepoHistory) Cat(ctx context.Context, rev dag.ID, path string, w io.Writer) error {
	return h.read(ctx, func(r *repo.Repo) error { return r.Cat(ctx, rev.String()+":"+path, w) })
}

// CompareChunks counts chunks with repo.CompareChunks.
func (h *RepoHistory) CompareChunks(ctx context.Context, old, new *dag.TreeEntry) (counts repo.ChunkCounts, err error) {
	err = h.read(ctx, func(r *repo.Repo) error {
		counts, err = r.CompareChunks(ctx, old, new)
		return err
	})
	return counts, err
}

// fileChange is what the drill-down shows for a file that is not a
// table: a unified diff for text, or why there is none and the chunks.
type fileChange struct {
	lines          []string // the unified diff, one line each; none unless text
	added, removed int      // lines
	why            string   // why there is no text diff
	chunks         repo.ChunkCounts
}

// errTooLarge stops reading a version larger than maxTextDiff.
var errTooLarge = errors.New("larger than the text diff limit")

// limitedBuffer is a buffer that refuses to grow past maxTextDiff.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTextDiff {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

// readFileChange reads both versions of c (from is the parent commit, to
// the commit) and diffs them as text, or counts their chunks when either
// is binary or too large.
func readFileChange(ctx context.Context, fr FileReader, from, to dag.ID, c repo.Change) (*fileChange, error) {
	oldPath := c.Path
	if c.From != "" {
		oldPath = c.From
	}
	var texts [2]string
	why := ""
	switch {
	case c.OldSize > maxTextDiff || c.NewSize > maxTextDiff:
		why = "larger than " + byteSize(maxTextDiff) + ": no text diff"
	default:
		sides := []struct {
			entry *dag.TreeEntry
			rev   dag.ID
			path  string
		}{{c.Old, from, oldPath}, {c.New, to, c.Path}}
		for i, s := range sides {
			if s.entry == nil || s.entry.Mode == dag.ModeDir {
				continue
			}
			var buf limitedBuffer
			if err := fr.Cat(ctx, s.rev, s.path, &buf); err != nil {
				return nil, err
			}
			if !isText(buf.Bytes()) {
				why = "binary: no text diff"
				break
			}
			texts[i] = buf.String()
		}
	}
	if why == "" {
		fc := &fileChange{}
		ops := diffLines(splitLines(texts[0]), splitLines(texts[1]))
		for _, op := range ops {
			switch op.kind {
			case '+':
				fc.added++
			case '-':
				fc.removed++
			}
		}
		oldName, newName := "a/"+oldPath, "b/"+c.Path
		if c.Old == nil {
			oldName = "/dev/null"
		}
		if c.New == nil {
			newName = "/dev/null"
		}
		for _, l := range unified(oldName, newName, ops, 3) {
			fc.lines = append(fc.lines, printable(l))
		}
		if fc.lines != nil {
			return fc, nil
		}
		why = "same text: only the mode or the name changed"
	}
	counts, err := fr.CompareChunks(ctx, c.Old, c.New)
	if err != nil {
		return nil, err
	}
	return &fileChange{why: why, chunks: counts}, nil
}

// isText reports whether b reads as text: UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && !bytes.ContainsRune(b, 0) }

// printable is a line with tabs expanded to four spaces and other control
// characters shown as '?', so that a file cannot move the cursor or
// change the terminal.
func printable(l string) string {
	l = strings.ReplaceAll(l, "\t", "    ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, l)
}

// fileTitle is the drill-down's title for a file change.
func (f *fileChange) title() string {
	if f.lines == nil {
		return ""
	}
	return fmt.Sprintf("+%d -%d lines ", f.added, f.removed)
}

// diffLine colours one line of a unified diff.
func (m Model) diffLine(l string) string {
	s := m.styles
	switch {
	case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		return s.titleFocused.Render(l)
	case strings.HasPrefix(l, "@@"):
		return s.author.Render(l)
	case strings.HasPrefix(l, "+"):
		return s.added.Render(l)
	case strings.HasPrefix(l, "-"):
		return s.deleted.Render(l)
	}
	return l
}

// fileLines is what the drill-down shows of a file change without a text
// diff: the change, the sizes, why, and the chunks of each version.
func (m Model) fileLines(c repo.Change, f *fileChange) []string {
	ch := f.chunks
	return []string{
		m.changeLine(" ", c),
		"",
		m.styles.dim.Render(f.why),
		fmt.Sprintf("size:   %s -> %s", byteSize(c.OldSize), byteSize(c.NewSize)),
		fmt.Sprintf("chunks: %d -> %d, %d of them shared (stored once)", ch.Old, ch.New, ch.Shared),
	}
}
