package modelstage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/store"
)

// Store is what moving a stage needs of the store.
type Store interface {
	dag.Getter
	dag.Putter
	Ref(ctx context.Context, name string) (dag.ID, error)
	Transaction(ctx context.Context, updates []store.RefUpdate, head *store.Head, message string) error
}

var _ Store = (*store.Store)(nil)

var (
	// ErrMoved is returned when the stage is not on the version the
	// caller expected: another promotion won the race. It is a
	// store.ErrRefChanged, as is a compare-and-swap of the ref lost to a
	// concurrent writer.
	ErrMoved error = movedError{}
	// ErrNotSet is returned when taking off a stage that names no version.
	ErrNotSet = errors.New("no such stage")
	// ErrOtherModel is returned when promoting a version of another model.
	ErrOtherModel = errors.New("not a version of this model")
)

type movedError struct{}

func (movedError) Error() string        { return "the stage moved meanwhile" }
func (movedError) Is(target error) bool { return target == store.ErrRefChanged }

// Request asks Move to put a model's stage on a version, or take it off.
type Request struct {
	Model, Stage string
	Version      dag.ID // a version of Model; ZeroID takes the stage off every version
	// Expect, when set, is the version the stage must be on now (ZeroID:
	// on none), or Move fails with ErrMoved and changes nothing.
	Expect  *dag.ID
	Author  string
	Time    time.Time
	Message string
}

// Result says what Move did.
type Result struct {
	From dag.ID // the version the stage was on; ZeroID: none
	// Move is the new move, ZeroID when the stage was on Version already
	// (nothing is written then).
	Move dag.ID
	Seq  uint64 // of the new move
}

// Move stores a move of the stage and swaps the stage's ref to it,
// expecting the ref it read: a concurrent move makes it fail with
// store.ErrRefChanged rather than be overwritten.
func Move(ctx context.Context, st Store, q Request) (*Result, error) {
	if err := ValidName(q.Stage); err != nil {
		return nil, err
	}
	ref := Ref(q.Model, q.Stage)
	head, err := st.Ref(ctx, ref)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	cur, err := Current(ctx, st, ref, head)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var seq uint64
	if cur != nil {
		res.From, seq = cur.Version, cur.Seq
	}
	if q.Expect != nil && *q.Expect != res.From {
		return nil, fmt.Errorf("%s of %s is on %s, not on %s: %w", q.Stage, q.Model, describe(ctx, st, res.From), describe(ctx, st, *q.Expect), ErrMoved)
	}
	if q.Version == res.From {
		if q.Version.IsZero() {
			return nil, fmt.Errorf("%s has no stage %s: %w", q.Model, q.Stage, ErrNotSet)
		}
		return res, nil
	}
	if !q.Version.IsZero() {
		m, err := loadModel(ctx, st, q.Version)
		if err != nil {
			return nil, err
		}
		if m.Name != q.Model {
			return nil, fmt.Errorf("%s@%d: %w %s", m.Name, m.Version, ErrOtherModel, q.Model)
		}
	}
	mv := &dag.StageMove{Model: q.Model, Stage: q.Stage, Version: q.Version, Previous: head, Seq: seq + 1,
		Author: q.Author, Time: q.Time.UTC(), Message: q.Message}
	b, err := mv.Encode()
	if err != nil {
		return nil, err
	}
	if res.Move, err = st.Put(ctx, dag.KindStage, b); err != nil {
		return nil, err
	}
	res.Seq = mv.Seq
	msg := fmt.Sprintf("stage %s of %s: %s", q.Stage, q.Model, describe(ctx, st, q.Version))
	if err := st.Transaction(ctx, []store.RefUpdate{{Name: ref, Old: head, New: res.Move}}, nil, msg); err != nil {
		return nil, fmt.Errorf("%s of %s: %w", q.Stage, q.Model, err)
	}
	return res, nil
}

func loadModel(ctx context.Context, g dag.Getter, id dag.ID) (*dag.Model, error) {
	b, err := g.Get(ctx, dag.KindModel, id)
	if err != nil {
		return nil, err
	}
	return dag.DecodeModel(b)
}

// describe names a model version as NAME@V ("no version" for ZeroID).
func describe(ctx context.Context, g dag.Getter, id dag.ID) string {
	if id.IsZero() {
		return "no version"
	}
	m, err := loadModel(ctx, g, id)
	if err != nil {
		return id.Short()
	}
	return fmt.Sprintf("%s@%d", m.Name, m.Version)
}
