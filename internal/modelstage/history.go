package modelstage

import (
	"context"
	"fmt"

	"github.com/dxdata/dx/dag"
)

// Entry is one move of a stage with the version it moved the stage from.
type Entry struct {
	ID dag.ID // of the move
	dag.StageMove
	From dag.ID // the version the stage was on before; ZeroID: none
}

// History lists the moves of the stage whose ref is ref, from head (the
// ref's value) back to its first, newest first; at most limit when
// limit > 0. Every move must be one of that stage, its sequence one less
// than the move after it: anything else under the ref (a hostile
// remote's) is dag.ErrCorrupt.
func History(ctx context.Context, g dag.Getter, ref string, head dag.ID, limit int) ([]Entry, error) {
	model, stage, ok := ParseRef(ref)
	if !ok {
		return nil, fmt.Errorf("%s is not a stage ref: %w", ref, ErrBadName)
	}
	load := func(id dag.ID, seq uint64) (*dag.StageMove, error) {
		m, err := dag.LoadStageMove(ctx, g, id)
		if err != nil {
			return nil, fmt.Errorf("%s: move %s: %w", ref, id.Short(), err)
		}
		if m.Model != model || m.Stage != stage || (seq != 0 && m.Seq != seq) {
			return nil, fmt.Errorf("%s: move %s is move %d of %s of %s: %w", ref, id.Short(), m.Seq, m.Stage, m.Model, dag.ErrCorrupt)
		}
		return m, nil
	}
	var out []Entry
	id := head
	var next *dag.StageMove
	if !id.IsZero() {
		m, err := load(id, 0)
		if err != nil {
			return nil, err
		}
		next = m
	}
	for next != nil && (limit <= 0 || len(out) < limit) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := Entry{ID: id, StageMove: *next}
		id, next = next.Previous, nil
		if !id.IsZero() {
			m, err := load(id, e.Seq-1)
			if err != nil {
				return nil, err
			}
			next, e.From = m, m.Version
		}
		out = append(out, e)
	}
	return out, nil
}

// Current is a stage's latest move (with the version before it), or nil
// when the stage has never moved; ref and head are as for History.
func Current(ctx context.Context, g dag.Getter, ref string, head dag.ID) (*Entry, error) {
	h, err := History(ctx, g, ref, head, 1)
	if err != nil || len(h) == 0 {
		return nil, err
	}
	return &h[0], nil
}
