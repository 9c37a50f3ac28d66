package merge

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/dxdata/dx/dag"
)

// Base returns the lowest common ancestor of commits a and b: of the
// commits both reach, one that no other common ancestor descends from
// (the one with the highest generation number; ties go to the smaller
// ID). Zero if the histories are unrelated. The walk visits commits in
// generation order and stops once no commit left can be a better answer.
func Base(ctx context.Context, g dag.Getter, a, b dag.ID) (dag.ID, error) {
	if a == b {
		return a, nil
	}
	const fromA, fromB = 1, 2
	seen := map[dag.ID]int{}
	q := &commitQueue{}
	push := func(id dag.ID, side int) error {
		if seen[id]&side == side {
			return nil
		}
		c, err := dag.LoadCommit(ctx, g, id)
		if err != nil {
			return err
		}
		seen[id] |= side
		heap.Push(q, queued{id: id, gen: c.Generation, parents: c.Parents, side: side})
		return nil
	}
	if err := push(a, fromA); err != nil {
		return dag.ZeroID, err
	}
	if err := push(b, fromB); err != nil {
		return dag.ZeroID, err
	}
	var best dag.ID
	var bestGen uint64
	for q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return dag.ZeroID, err
		}
		it := heap.Pop(q).(queued)
		if !best.IsZero() && it.gen < bestGen {
			break // nothing left can beat the best found
		}
		if seen[it.id] == fromA|fromB {
			if best.IsZero() || it.gen > bestGen || it.gen == bestGen && it.id.Compare(best) < 0 {
				best, bestGen = it.id, it.gen
			}
			continue // its ancestors are common too, and lower
		}
		for _, p := range it.parents {
			if err := push(p, seen[it.id]); err != nil {
				if errors.Is(err, dag.ErrShallow) {
					return dag.ZeroID, fmt.Errorf("the merge base of %s and %s would lie beyond the kept history: %w", a.Short(), b.Short(), err)
				}
				return dag.ZeroID, err
			}
		}
	}
	return best, nil
}

type queued struct {
	id      dag.ID
	gen     uint64
	parents []dag.ID
	side    int
}

// commitQueue pops the highest generation first.
type commitQueue []queued

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	if q[i].gen != q[j].gen {
		return q[i].gen > q[j].gen
	}
	return q[i].id.Compare(q[j].id) < 0
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *commitQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
