package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dxdata/dx/dag"
)

// ShallowKey is the object listing a remote's shallow commits: commits
// whose parents may be missing because a keep policy cut the history
// there (as git's shallow file). The collector adds a commit to it, by
// compare-and-swap, before it condemns the packs of the commits cut
// below; a commit leaves it only once the remote no longer holds it.
// Readers tolerate a missing parent of a listed commit and nothing else.
const ShallowKey = "gc/shallow"

// maxShallow bounds the list read (a damaged or hostile remote).
const maxShallow = 64 << 20

// Shallow is a remote's shallow list and the tag a Swap must name ("":
// the remote has none).
type Shallow struct {
	IDs map[dag.ID]bool
	Tag string
}

// ReadShallow reads the remote's shallow list (one GET); a remote without
// one has an empty list.
func ReadShallow(ctx context.Context, be Backend) (Shallow, error) {
	b, tag, err := be.Get(ctx, ShallowKey, maxShallow)
	if errors.Is(err, ErrNotExist) {
		return Shallow{IDs: map[dag.ID]bool{}}, nil
	}
	if err != nil {
		return Shallow{}, err
	}
	s := Shallow{IDs: map[dag.ID]bool{}, Tag: tag}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		id, err := dag.ParseID(line)
		if err != nil {
			return Shallow{}, fmt.Errorf("%s: %s: not a list of commit ids: %w", be, ShallowKey, ErrIntegrity)
		}
		s.IDs[id] = true
	}
	return s, nil
}

// EncodeShallow is a shallow list as stored: one id a line, sorted.
func EncodeShallow(ids map[dag.ID]bool) []byte {
	var lines []string
	for id := range ids {
		lines = append(lines, id.String())
	}
	slices.Sort(lines)
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// WriteShallow replaces the list read as old by ids, by compare-and-swap
// (ErrPrecondition when it changed since). An unchanged list is not
// written.
func WriteShallow(ctx context.Context, be Backend, old Shallow, ids map[dag.ID]bool) error {
	if len(ids) == len(old.IDs) {
		same := true
		for id := range ids {
			same = same && old.IDs[id]
		}
		if same {
			return nil
		}
	}
	_, err := be.Swap(ctx, ShallowKey, old.Tag, EncodeShallow(ids))
	return err
}

// AddShallow adds commits to the remote's shallow list, reading it again
// when another writer changed it meanwhile (a push from a shallow clone
// does this before it moves the refs that reach them).
func AddShallow(ctx context.Context, be Backend, ids []dag.ID) error {
	if len(ids) == 0 {
		return nil
	}
	for {
		s, err := ReadShallow(ctx, be)
		if err != nil {
			return err
		}
		next := make(map[dag.ID]bool, len(s.IDs)+len(ids))
		for id := range s.IDs {
			next[id] = true
		}
		for _, id := range ids {
			next[id] = true
		}
		err = WriteShallow(ctx, be, s, next)
		if !errors.Is(err, ErrPrecondition) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
