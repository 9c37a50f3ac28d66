package remote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// Ref is a ref on the remote: its value and the tag a Swap must name.
type Ref struct {
	Name string `json:"name"` // refs/heads/main
	ID   dag.ID `json:"id"`
	Tag  string `json:"-"`
}

// maxRefSize bounds what is read of a remote ref (a hex id and a newline)
// or of FORMAT.
const maxRefSize = 1 << 10

func encodeRef(id dag.ID) []byte { return []byte(id.String() + "\n") }

func decodeRef(be Backend, name string, b []byte) (dag.ID, error) {
	id, err := dag.ParseID(strings.TrimSpace(string(b)))
	if err != nil {
		return id, fmt.Errorf("%s: %s: not a commit id: %w", be, name, ErrIntegrity)
	}
	return id, nil
}

// Namespaces of refs whose values are not commits.
const (
	ModelsPrefix = "refs/models/" // refs/models/NAME: a model's latest version
	StagesPrefix = "refs/stages/" // refs/stages/NAME/STAGE: a stage's latest move
)

// RefKind is the kind of object a ref of this name points at: a model
// version under refs/models/, a stage move under refs/stages/, else a
// commit. Whatever walks from refs (push, fetch, replication) asks here.
func RefKind(name string) dag.Kind {
	switch {
	case strings.HasPrefix(name, ModelsPrefix):
		return dag.KindModel
	case strings.HasPrefix(name, StagesPrefix):
		return dag.KindStage
	}
	return dag.KindCommit
}

// forward is fastForward for every kind of ref: a stage moves forward
// along its chain of moves (a move we do not have cannot be checked, so
// it is not a fast-forward).
func forward(ctx context.Context, st *store.Store, u Update, old dag.ID) (bool, error) {
	if u.Kind != dag.KindStage {
		return fastForward(ctx, st, u, old)
	}
	ok, err := dag.ChainDescends(ctx, st, dag.KindStage, old, u.New)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// ListRefs reads every ref under refs/ (heads, tags, models, stages).
func ListRefs(ctx context.Context, be Backend) ([]Ref, error) {
	return listRefs(ctx, be, false)
}

// ListRefsDeleted is ListRefs with the deleted refs too: the zero id with
// the tag that re-creates them, for a replica to delete them as well.
func ListRefsDeleted(ctx context.Context, be Backend) ([]Ref, error) {
	return listRefs(ctx, be, true)
}

func listRefs(ctx context.Context, be Backend, deleted bool) ([]Ref, error) {
	objs, err := be.List(ctx, refsPrefix)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, o := range objs {
		if store.ValidRefName(o.Key) == nil {
			names = append(names, o.Key)
		}
	}
	out := make([]Ref, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, n := range names {
		g.Go(func() error {
			b, tag, err := be.Get(gctx, n, maxRefSize)
			if errors.Is(err, ErrNotExist) {
				return nil // deleted since the listing
			}
			if err != nil {
				return err
			}
			id, err := decodeRef(be, n, b)
			if err != nil {
				return err
			}
			out[i] = Ref{Name: n, ID: id, Tag: tag}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	refs := out[:0]
	for _, r := range out {
		if r.Name != "" && (deleted || !r.ID.IsZero()) { // the zero id: a deleted ref
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// ReadRef reads one remote ref (one GET); a missing one is the zero Ref.
// A deleted ref reads as the zero id with a tag: swapping from that tag
// creates it again.
func ReadRef(ctx context.Context, be Backend, name string) (Ref, error) {
	b, tag, err := be.Get(ctx, name, maxRefSize)
	if errors.Is(err, ErrNotExist) {
		return Ref{Name: name}, nil
	}
	if err != nil {
		return Ref{}, err
	}
	id, err := decodeRef(be, name, b)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Name: name, ID: id, Tag: tag}, nil
}

// DeleteRef deletes a remote ref by compare-and-swap from old (as read):
// it writes the zero id, which readers take for no ref (S3 has no
// conditional delete), and logs the move for subscribers. A ref that
// moved since old is ErrPrecondition.
func DeleteRef(ctx context.Context, be Backend, old Ref) error {
	if old.ID.IsZero() {
		return fmt.Errorf("%s: %s: %w", be, old.Name, ErrNotExist)
	}
	if _, err := be.Swap(ctx, old.Name, old.Tag, encodeRef(dag.ID{})); err != nil {
		return err
	}
	_, _ = putEvent(ctx, be, Event{Ref: old.Name, Old: old.ID, Time: time.Now().UTC()})
	return nil
}
