package repo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/internal/modelstage"
	"github.com/dxdata/dx/store"
)

// StageChange is one move of a model's stage, as shown to users: a
// promotion from one version to another, or a demotion off a version.
type StageChange struct {
	ID      dag.ID  `json:"id"` // of the move
	Model   string  `json:"model"`
	Stage   string  `json:"stage"`
	Action  string  `json:"action"`            // "promote" or "demote"
	From    uint64  `json:"from,omitempty"`    // the version before; none when 0
	To      uint64  `json:"to,omitempty"`      // the version after; none when 0 (a demotion)
	Version *dag.ID `json:"version,omitempty"` // the model version after; nil: none
	Author  string  `json:"author"`
	Time    string  `json:"time"`
	Message string  `json:"message,omitempty"`
	// Unchanged is set when a promotion found the stage on the version
	// already: nothing was written, and this is the move that put it there.
	Unchanged bool `json:"unchanged,omitempty"`
	at        time.Time
}

// PromoteOptions configure Promote.
type PromoteOptions struct {
	Spec  string // NAME@VERSION or NAME@STAGE: the version to promote
	Stage string
	// Expect, when set, is the version the stage must be on now: a number,
	// or "none" for a stage on no version. Otherwise the promotion fails
	// with modelstage.ErrMoved (exit 5) and changes nothing.
	Expect  string
	Message string
}

// Promote puts a model's stage on a version, by compare-and-swap of the
// stage's ref; the move joins the stage's history. Promoting the version
// the stage is on already writes nothing: the change returned is the move
// that put it there, marked Unchanged.
func (r *Repo) Promote(ctx context.Context, o PromoteOptions) (*StageChange, error) {
	if err := modelstage.ValidName(o.Stage); err != nil {
		return nil, err
	}
	mv, err := r.Model(ctx, o.Spec)
	if err != nil {
		return nil, err
	}
	return r.moveStage(ctx, mv.Name, o.Stage, mv.ID, o.Expect, o.Message)
}

// Demote takes a model's stage off the version it is on; like Promote it
// is a move of the stage, kept in its history. expect and message are as
// in PromoteOptions.
func (r *Repo) Demote(ctx context.Context, model, stage, expect, message string) (*StageChange, error) {
	if err := modelstage.ValidName(stage); err != nil {
		return nil, err
	}
	if _, err := r.Store.Ref(ctx, modelsPrefix+model); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%q: %w", model, ErrUnknownModel)
		}
		return nil, err
	}
	return r.moveStage(ctx, model, stage, dag.ZeroID, expect, message)
}

func (r *Repo) moveStage(ctx context.Context, model, stage string, version dag.ID, expect, message string) (*StageChange, error) {
	q := modelstage.Request{Model: model, Stage: stage, Version: version, Author: r.opts.Author, Time: r.opts.Now(), Message: message}
	if expect != "" {
		id, err := r.expectedVersion(ctx, model, expect)
		if err != nil {
			return nil, err
		}
		q.Expect = &id
	}
	res, err := modelstage.Move(ctx, r.Store, q)
	if err != nil {
		if errors.Is(err, modelstage.ErrNotSet) {
			return nil, fmt.Errorf("%s has no stage %s: %w", model, stage, ErrUnknownModel)
		}
		return nil, err
	}
	ref, head := modelstage.Ref(model, stage), res.Move
	if head.IsZero() { // the stage was on this version already
		if head, err = r.Store.Ref(ctx, ref); err != nil {
			return nil, err
		}
	}
	e, err := modelstage.Current(ctx, r.Store, ref, head)
	if err != nil {
		return nil, err
	}
	c := r.stageChange(ctx, e)
	c.Unchanged = res.Move.IsZero()
	return c, nil
}

// expectedVersion resolves --expect: a version number of the model, or
// "none".
func (r *Repo) expectedVersion(ctx context.Context, model, expect string) (dag.ID, error) {
	if expect == "none" {
		return dag.ZeroID, nil
	}
	if _, err := strconv.ParseUint(expect, 10, 64); err != nil {
		return dag.ZeroID, fmt.Errorf("--expect %q: want a version number or none: %w", expect, ErrUnknownModel)
	}
	mv, err := r.resolveModel(ctx, model+"@"+expect)
	if err != nil {
		return dag.ZeroID, err
	}
	return mv.ID, nil
}

// stageVersion resolves NAME@STAGE to the version the stage is on.
func (r *Repo) stageVersion(ctx context.Context, name, stage string) (*ModelVersion, error) {
	if err := modelstage.ValidName(stage); err != nil {
		return nil, fmt.Errorf("%s@%s: %w: %w", name, stage, err, ErrUnknownModel)
	}
	ref := modelstage.Ref(name, stage)
	head, err := r.Store.Ref(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		// A stage fetched alone (FetchStage) resolves without its model's ref.
		if _, err := r.Store.Ref(ctx, modelsPrefix+name); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%q: %w", name, ErrUnknownModel)
		}
	} else if err != nil {
		return nil, err
	}
	e, err := modelstage.Current(ctx, r.Store, ref, head)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("%s has no stage %s: %w", name, stage, ErrUnknownModel)
	}
	if e.Removed() {
		return nil, fmt.Errorf("%s has no stage %s (demoted from %s@%d at %s): %w", name, stage, name,
			r.versionNumber(ctx, e.From), e.Time.Format("2006-01-02T15:04:05Z"), ErrUnknownModel)
	}
	return r.stagedVersion(ctx, e)
}

// stagedVersion is the version a move put its stage on, which must be a
// version of the stage's model (a hostile remote's move may name another).
func (r *Repo) stagedVersion(ctx context.Context, e *modelstage.Entry) (*ModelVersion, error) {
	m, err := r.loadModel(ctx, e.Version)
	if err != nil {
		return nil, err
	}
	if m.Name != e.Model {
		return nil, fmt.Errorf("stage %s of %s: move %s names %s@%d: %w", e.Stage, e.Model, e.ID.Short(), m.Name, m.Version, dag.ErrCorrupt)
	}
	return r.modelVersion(ctx, e.Version, m)
}

// Stages lists the stages of a model that are on a version, by name: each
// one's latest move.
func (r *Repo) Stages(ctx context.Context, model string) ([]*StageChange, error) {
	heads, names, err := r.stageRefs(ctx, model)
	if err != nil {
		return nil, err
	}
	var out []*StageChange
	for _, n := range names {
		e, err := modelstage.Current(ctx, r.Store, n, heads[n])
		if err != nil {
			return nil, err
		}
		if e != nil && !e.Removed() {
			out = append(out, r.stageChange(ctx, e))
		}
	}
	return out, nil
}

// stageRefs lists the refs of a model's stages, in name order.
func (r *Repo) stageRefs(ctx context.Context, model string) (map[string]dag.ID, []string, error) {
	heads, names, err := r.Store.Refs(ctx, modelstage.ModelPrefix(model))
	if err != nil {
		return nil, nil, err
	}
	own := names[:0]
	for _, n := range names {
		if m, _, ok := modelstage.ParseRef(n); ok && m == model { // not a model named MODEL/…
			own = append(own, n)
		}
	}
	return heads, own, nil
}

// StageLog lists the moves of a model's stage, or of all its stages when
// stage is empty, newest first.
func (r *Repo) StageLog(ctx context.Context, model, stage string) ([]*StageChange, error) {
	if stage != "" {
		if err := modelstage.ValidName(stage); err != nil {
			return nil, err
		}
	}
	heads, names, err := r.stageRefs(ctx, model)
	if err != nil {
		return nil, err
	}
	var perStage [][]*StageChange
	n := 0
	for _, ref := range names {
		if _, s, _ := modelstage.ParseRef(ref); stage != "" && s != stage {
			continue
		}
		h, err := modelstage.History(ctx, r.Store, ref, heads[ref], 0)
		if err != nil {
			return nil, err
		}
		moves := make([]*StageChange, len(h))
		for i := range h {
			moves[i] = r.stageChange(ctx, &h[i])
		}
		perStage = append(perStage, moves)
		n += len(moves)
	}
	if stage != "" && n == 0 {
		return nil, fmt.Errorf("%s has no stage %s: %w", model, stage, ErrUnknownModel)
	}
	// Newest first across stages, each stage's moves in the order of its
	// chain whatever clocks their authors had.
	out := make([]*StageChange, 0, n)
	for len(out) < n {
		best := -1
		for i, moves := range perStage {
			if len(moves) > 0 && (best < 0 || moves[0].at.After(perStage[best][0].at)) {
				best = i
			}
		}
		out = append(out, perStage[best][0])
		perStage[best] = perStage[best][1:]
	}
	return out, nil
}

// stageChange describes a move for users.
func (r *Repo) stageChange(ctx context.Context, e *modelstage.Entry) *StageChange {
	c := &StageChange{ID: e.ID, Model: e.Model, Stage: e.Stage, Action: "promote",
		From: r.versionNumber(ctx, e.From), To: r.versionNumber(ctx, e.Version),
		Author: e.Author, Time: e.Time.Format("2006-01-02T15:04:05Z"), Message: e.Message, at: e.Time}
	if e.Removed() {
		c.Action = "demote"
	} else {
		v := e.Version
		c.Version = &v
	}
	return c
}

// versionNumber is the number of a model version; 0 for none (or one
// that cannot be read).
func (r *Repo) versionNumber(ctx context.Context, id dag.ID) uint64 {
	if id.IsZero() {
		return 0
	}
	m, err := r.loadModel(ctx, id)
	if err != nil {
		return 0
	}
	return m.Version
}

// fillStages sets the stages on a version and every stage of its model.
func (r *Repo) fillStages(ctx context.Context, mv *ModelVersion) error {
	stages, err := r.Stages(ctx, mv.Name)
	if err != nil {
		return err
	}
	mv.Stages = stageNames(stages, mv.ID)
	mv.ModelStages = nil
	for _, s := range stages {
		if mv.ModelStages == nil {
			mv.ModelStages = map[string]uint64{}
		}
		mv.ModelStages[s.Stage] = s.To
	}
	return nil
}

// stageNames names the stages on version id.
func stageNames(stages []*StageChange, id dag.ID) []string {
	var out []string
	for _, s := range stages {
		if s.Version != nil && *s.Version == id {
			out = append(out, s.Stage)
		}
	}
	return out
}

// ModelEvent is one entry of a model's history: a version registered or
// a stage moved (exactly one is set).
type ModelEvent struct {
	Version *ModelVersion `json:"version,omitempty"`
	Stage   *StageChange  `json:"stage,omitempty"`
}

// ModelHistory lists a model's versions and the moves of its stages,
// newest first. A move is listed before a version registered at the same
// time: a version is promoted after it exists.
func (r *Repo) ModelHistory(ctx context.Context, name string) ([]ModelEvent, error) {
	versions, err := r.ModelLog(ctx, name)
	if err != nil {
		return nil, err
	}
	moves, err := r.StageLog(ctx, name, "")
	if err != nil {
		return nil, err
	}
	out := make([]ModelEvent, 0, len(versions)+len(moves))
	for len(versions) > 0 || len(moves) > 0 {
		if len(moves) > 0 && (len(versions) == 0 || !moves[0].at.Before(versions[0].at)) {
			out = append(out, ModelEvent{Stage: moves[0]})
			moves = moves[1:]
			continue
		}
		out = append(out, ModelEvent{Version: versions[0]})
		versions = versions[1:]
	}
	return out, nil
}
