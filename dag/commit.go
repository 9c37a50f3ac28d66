package dag

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Commit is one version of a worktree.
type Commit struct {
	Tree       ID
	Parents    []ID
	Generation uint64 // 1 + max(parent generations); 1 for a root commit
	Author     string
	Time       time.Time // stored as UTC nanoseconds
	Message    string
	Meta       map[string]string
}

// Encode returns the canonical encoding:
//
//	version | tree | uvarint n | parents… | uvarint generation | author | varint unix ns | message | meta
func (c *Commit) Encode() ([]byte, error) {
	if len(c.Parents) > MaxParents {
		return nil, fmt.Errorf("dag: commit has %d parents, limit %d", len(c.Parents), MaxParents)
	}
	if c.Generation == 0 {
		return nil, fmt.Errorf("dag: commit generation must be ≥ 1")
	}
	for i, p := range c.Parents {
		for _, q := range c.Parents[:i] {
			if p == q {
				return nil, fmt.Errorf("dag: commit lists parent %s twice", p.Short())
			}
		}
	}
	e := enc{b: make([]byte, 0, 128+len(c.Message))}
	e.byte(FormatVersion)
	e.id(c.Tree)
	e.uvarint(uint64(len(c.Parents)))
	for _, p := range c.Parents {
		e.id(p)
	}
	e.uvarint(c.Generation)
	e.str(c.Author)
	e.varint(c.Time.UnixNano())
	e.str(c.Message)
	encodeMeta(&e, sortedKeys(c.Meta), c.Meta)
	return e.b, nil
}

// DecodeCommit strictly decodes a commit.
func DecodeCommit(b []byte) (*Commit, error) {
	d := dec{b: b, kind: "commit"}
	d.header()
	c := &Commit{Tree: d.id()}
	n := d.uvarint(MaxParents, "parent count")
	if d.err == nil && uint64(len(d.b)) < n*IDSize {
		d.fail("truncated parents")
	}
	if d.err == nil && n > 0 {
		c.Parents = make([]ID, n)
		for i := range c.Parents {
			c.Parents[i] = d.id()
			for _, q := range c.Parents[:i] {
				if q == c.Parents[i] {
					d.fail("duplicate parent")
				}
			}
		}
	}
	c.Generation = d.uvarint(1<<40, "generation")
	if d.err == nil && c.Generation == 0 {
		d.fail("generation 0")
	}
	c.Author = d.str(MaxStringLen, "author")
	c.Time = time.Unix(0, d.varint("time")).UTC()
	c.Message = d.str(MaxStringLen, "message")
	c.Meta = decodeMeta(&d)
	if err := d.done(); err != nil {
		return nil, err
	}
	return c, nil
}

// Subject is the first line of a commit message, trimmed: what one-line
// listings and the reflog show.
func Subject(message string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(message), "\n")
	return s
}

// ErrShallow: a commit's parent is missing because the history was cut
// there (a keep policy collected the older commits on the remote this
// history came from, as in a shallow clone). Only the parents of a
// repository's shallow commits may be missing so.
var ErrShallow = errors.New("the history is cut here (shallow: older commits were collected)")
