package replicate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

// Ref namespaces that travel.
const (
	headsPrefix  = "refs/heads/"
	tagsPrefix   = "refs/tags/"
	modelsPrefix = remote.ModelsPrefix
	stagesPrefix = remote.StagesPrefix // refs/stages/MODEL/STAGE, with their models
)

// Status says what became of one ref on the destination.
type Status string

// Statuses of a ref.
const (
	Created  Status = "created"    // new on the destination
	Updated  Status = "updated"    // moved forward (a fast-forward)
	UpToDate Status = "up-to-date" // already the source's value
	Diverged Status = "diverged"   // moved on its own on the destination: left as it was
	Deleted  Status = "deleted"    // deleted on the source, so on the destination too
)

// RefResult is one ref: its value on the destination before (Old) and on
// the source (New; zero for a ref deleted there), and what became of it.
type RefResult struct {
	Name   string `json:"name"`
	Old    dag.ID `json:"old"`
	New    dag.ID `json:"new"`
	Status Status `json:"status"`
	// Reason says why a ref diverged.
	Reason string `json:"reason,omitempty"`

	kind dag.Kind
	tag  string // the destination ref's tag, for the swap
}

// selectRefs reads the source refs to replicate: the named ones (a
// branch, tag or model, short or full; a model with its stages), else
// every branch, and with all every tag, model and stage too. Refs deleted
// on the source come with the zero id, to be deleted on the destination.
func selectRefs(ctx context.Context, src remote.Backend, names []string, all bool) ([]remote.Ref, error) {
	if len(names) == 0 {
		refs, err := remote.ListRefsDeleted(ctx, src)
		if err != nil {
			return nil, err
		}
		var out []remote.Ref
		for _, r := range refs {
			if strings.HasPrefix(r.Name, headsPrefix) || all && (strings.HasPrefix(r.Name, tagsPrefix) ||
				strings.HasPrefix(r.Name, modelsPrefix) || strings.HasPrefix(r.Name, stagesPrefix)) {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var out []remote.Ref
	seen := map[string]bool{}
	for _, n := range names {
		candidates := []string{n}
		if !strings.HasPrefix(n, "refs/") {
			candidates = []string{headsPrefix + n, tagsPrefix + n, modelsPrefix + n}
		}
		found := false
		var deleted *remote.Ref // a candidate deleted on the source
		for _, c := range candidates {
			if store.ValidRefName(c) != nil {
				continue
			}
			r, err := remote.ReadRef(ctx, src, c)
			if err != nil {
				return nil, err
			}
			if !r.ID.IsZero() {
				if !seen[c] {
					out = append(out, r)
					seen[c] = true
				}
				if model, ok := strings.CutPrefix(c, modelsPrefix); ok {
					stages, err := stageRefs(ctx, src, model)
					if err != nil {
						return nil, err
					}
					for _, s := range stages {
						if !seen[s.Name] {
							out = append(out, s)
							seen[s.Name] = true
						}
					}
				}
				found = true
				break
			}
			if r.Tag != "" && deleted == nil {
				deleted = &r
			}
		}
		if !found && deleted != nil && !seen[deleted.Name] {
			out = append(out, *deleted)
			seen[deleted.Name] = true
			found = true
		}
		if !found {
			return nil, fmt.Errorf("%s has no branch, tag or model %q: %w", src, n, ErrUnknownRef)
		}
	}
	return out, nil
}

// stageRefs reads the refs of a model's stages on src: one LIST, a GET
// each.
func stageRefs(ctx context.Context, src remote.Backend, model string) ([]remote.Ref, error) {
	prefix := stagesPrefix + model + "/"
	objs, err := src.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []remote.Ref
	for _, o := range objs {
		stage := strings.TrimPrefix(o.Key, prefix)
		if strings.Contains(stage, "/") || store.ValidRefName(o.Key) != nil {
			continue // a stage of a model named MODEL/…, or not a ref
		}
		r, err := remote.ReadRef(ctx, src, o.Key)
		if err != nil {
			return nil, err
		}
		if !r.ID.IsZero() {
			out = append(out, r)
		}
	}
	return out, nil
}

// readDst reads the destination's value of each ref, one GET each.
func readDst(ctx context.Context, dst remote.Backend, refs []remote.Ref) ([]RefResult, error) {
	out := make([]RefResult, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, r := range refs {
		g.Go(func() error {
			cur, err := remote.ReadRef(gctx, dst, r.Name)
			if err != nil {
				return err
			}
			rr := RefResult{Name: r.Name, Old: cur.ID, New: r.ID, kind: remote.RefKind(r.Name), tag: cur.Tag}
			switch {
			case cur.ID == r.ID, r.ID.IsZero() && cur.ID.IsZero():
				rr.Status = UpToDate
			case cur.ID.IsZero():
				rr.Status = Created
			}
			out[i] = rr
			return nil
		})
	}
	return out, g.Wait()
}

// classify decides, for a ref whose two values differ, whether the move
// is a fast-forward, reading the source's history. Tags never move. A ref
// deleted on the source is deleted on the destination only where the
// destination's value is one the source holds: a value written there on
// its own is left, as diverged.
func classify(ctx context.Context, srcObjs *objects, rr *RefResult) error {
	if rr.New.IsZero() {
		if srcObjs.ix.Has(rr.Old) {
			rr.Status = Deleted
		} else {
			rr.Status, rr.Reason = Diverged, "deleted on the source, but the destination's "+rr.Old.Short()+" is not the source's"
		}
		return nil
	}
	if !srcObjs.ix.Has(rr.New) {
		return fmt.Errorf("%s: %s names %s, which it does not hold (a damaged remote): %w", srcObjs.be, rr.Name, rr.New.Short(), remote.ErrIntegrity)
	}
	if strings.HasPrefix(rr.Name, tagsPrefix) {
		rr.Status, rr.Reason = Diverged, "the tag differs on the destination"
		return nil
	}
	var ok bool
	var err error
	switch {
	case rr.kind == dag.KindModel:
		ok, err = remote.ModelDescends(ctx, srcObjs, rr.Old, rr.New)
	case rr.kind == dag.KindStage: // a stage's moves form a chain, as a model's versions
		ok, err = dag.ChainDescends(ctx, srcObjs, dag.KindStage, rr.Old, rr.New)
	case srcObjs.ix.Has(rr.Old):
		ok, err = dag.IsAncestor(ctx, srcObjs, rr.Old, rr.New)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if ok {
		rr.Status = Updated
	} else {
		rr.Status, rr.Reason = Diverged, "the destination's "+rr.Old.Short()+" is not an ancestor of the source's"
	}
	return nil
}
