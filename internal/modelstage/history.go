package modelstage

import (
	"context"

	"github.com/dxdata/dx/dag"
)

// Entry is one move of a stage with the version it moved the stage from.
type Entry struct {
	ID dag.ID // of the move
	dag.StageMove
	From dag.ID // the version the stage was on before; ZeroID: none
}

// History lists the moves of a stage from head (its ref) back to its
// first, newest first; at most limit when limit > 0.
func History(ctx context.Context, g dag.Getter, head dag.ID, limit int) ([]Entry, error) {
	var out []Entry
	id := head
	var next *dag.StageMove
	if !id.IsZero() {
		m, err := dag.LoadStageMove(ctx, g, id)
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
			m, err := dag.LoadStageMove(ctx, g, id)
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
// when the stage has never moved.
func Current(ctx context.Context, g dag.Getter, head dag.ID) (*Entry, error) {
	h, err := History(ctx, g, head, 1)
	if err != nil || len(h) == 0 {
		return nil, err
	}
	return &h[0], nil
}
