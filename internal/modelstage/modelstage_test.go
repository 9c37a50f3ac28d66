package modelstage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dxdata/dx/dag"
	"github.com/dxdata/dx/remote"
	"github.com/dxdata/dx/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".dx")
	if err := store.Init(dir); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// putModel stores a version of a model (its artifact need not be stored).
func putModel(t *testing.T, st *store.Store, name string, v uint64) dag.ID {
	t.Helper()
	m := dag.Model{Name: name, Version: v, Artifact: dag.Hash(dag.KindTree, []byte(name)), ArtifactKind: dag.KindTree,
		Time: time.Unix(int64(v), 0)}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.Put(context.Background(), dag.KindModel, b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		stage string
		ok    bool
	}{
		{"production", true}, {"staging-eu", true}, {"v2", true},
		{"", false}, {"2", false}, {"007", false}, {"a/b", false}, {"a@b", false},
		{"a b", false}, {".hidden", false}, {"-x", false}, {"x.lock", false}, {"HEAD", false}, {"a..b", false},
	} {
		if err := ValidName(tc.stage); (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.stage, err, tc.ok)
		} else if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("ValidName(%q) = %v, want ErrBadName", tc.stage, err)
		}
	}
}

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		ref, model, stage string
		ok                bool
	}{
		{Ref("churn", "production"), "churn", "production", true},
		{Ref("team/churn", "prod"), "team/churn", "prod", true},
		{"refs/stages/churn", "", "", false},
		{"refs/stages/churn/", "", "", false},
		{"refs/models/churn/x", "", "", false},
	} {
		m, s, ok := ParseRef(tc.ref)
		if m != tc.model || s != tc.stage || ok != tc.ok {
			t.Errorf("ParseRef(%q) = %q %q %v", tc.ref, m, s, ok)
		}
	}
	// The remote walks a stage ref from a stage move.
	if k := remote.RefKind(Ref("churn", "production")); k != dag.KindStage {
		t.Fatalf("remote.RefKind of a stage ref: %s", k)
	}
}

// TestMove: promote, re-promote (nothing written), promote again, a stale
// --expect, demote, demote again, another model's version; the history
// lists every move with the version it replaced.
func TestMove(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	v1, v2 := putModel(t, st, "churn", 1), putModel(t, st, "churn", 2)
	other := putModel(t, st, "fraud", 1)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	move := func(version dag.ID, expect *dag.ID) (*Result, error) {
		at = at.Add(time.Minute)
		return Move(ctx, st, Request{Model: "churn", Stage: "production", Version: version, Expect: expect, Author: "Ada", Time: at})
	}
	head := func() dag.ID {
		id, err := st.Ref(ctx, Ref("churn", "production"))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	res, err := move(v1, &dag.ZeroID)
	if err != nil || res.From != dag.ZeroID || res.Move.IsZero() || res.Seq != 1 {
		t.Fatalf("first promotion: %+v %v", res, err)
	}
	first := head()
	if res, err := move(v1, nil); err != nil || !res.Move.IsZero() || head() != first {
		t.Fatalf("re-promoting the same version wrote a move: %+v %v", res, err)
	}
	if res, err := move(v2, &v1); err != nil || res.From != v1 || res.Seq != 2 {
		t.Fatalf("second promotion: %+v %v", res, err)
	}
	second := head()
	if _, err := move(v1, &v1); !errors.Is(err, ErrMoved) || !errors.Is(err, store.ErrRefChanged) || head() != second {
		t.Fatalf("stale expect: %v", err)
	}
	if _, err := move(other, nil); !errors.Is(err, ErrOtherModel) || head() != second {
		t.Fatalf("another model's version: %v", err)
	}
	if _, err := move(dag.ZeroID, nil); err != nil {
		t.Fatalf("demote: %v", err)
	}
	if _, err := move(dag.ZeroID, nil); !errors.Is(err, ErrNotSet) {
		t.Fatalf("demoting twice: %v", err)
	}
	h, err := History(ctx, st, Ref("churn", "production"), head(), 0)
	if err != nil || len(h) != 3 {
		t.Fatalf("history: %v %v", h, err)
	}
	want := []struct{ from, to dag.ID }{{v2, dag.ZeroID}, {v1, v2}, {dag.ZeroID, v1}}
	for i, w := range want {
		if h[i].From != w.from || h[i].Version != w.to || h[i].Author != "Ada" || h[i].Seq != uint64(3-i) {
			t.Errorf("history[%d] = %+v, want %s → %s", i, h[i], w.from.Short(), w.to.Short())
		}
	}
	if h[0].Time.Before(h[1].Time) {
		t.Errorf("history is not newest first")
	}
	if lim, err := History(ctx, st, Ref("churn", "production"), head(), 1); err != nil || len(lim) != 1 || lim[0].From != v2 {
		t.Fatalf("limited history: %v %v", lim, err)
	}
	ok, err := dag.ChainDescends(ctx, st, dag.KindStage, first, head())
	if err != nil || !ok {
		t.Fatalf("the first move does not descend into the last: %v %v", ok, err)
	}
}

// racingStore moves the stage to another version just before the
// compare-and-swap of the move under way, as a concurrent writer would.
type racingStore struct {
	*store.Store
	race func()
}

func (r *racingStore) Transaction(ctx context.Context, ups []store.RefUpdate, head *store.Head, msg string) error {
	if r.race != nil {
		race := r.race
		r.race = nil
		race()
	}
	return r.Store.Transaction(ctx, ups, head, msg)
}

// TestMoveLosesRace: a move whose ref changed between its read and its
// swap fails with store.ErrRefChanged, and the winner's move stays.
func TestMoveLosesRace(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	v1, v2 := putModel(t, st, "churn", 1), putModel(t, st, "churn", 2)
	var winner *Result
	rs := &racingStore{Store: st, race: func() {
		var err error
		winner, err = Move(ctx, st, Request{Model: "churn", Stage: "production", Version: v2, Author: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
	}}
	_, err := Move(ctx, rs, Request{Model: "churn", Stage: "production", Version: v1, Author: "Ada"})
	if !errors.Is(err, store.ErrRefChanged) {
		t.Fatalf("lost race: %v", err)
	}
	head, _ := st.Ref(ctx, Ref("churn", "production"))
	if head != winner.Move {
		t.Fatalf("the winner's move was overwritten")
	}
}

// TestHistoryRefusesForeignMoves: a stage ref naming a move of another
// stage, or a chain whose sequence skips, is corrupt (a hostile remote's
// refs), not a history to show or build on.
func TestHistoryRefusesForeignMoves(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	v1 := putModel(t, st, "churn", 1)
	put := func(m dag.StageMove) dag.ID {
		t.Helper()
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		id, err := st.Put(ctx, dag.KindStage, b)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	staging := put(dag.StageMove{Model: "churn", Stage: "staging", Version: v1, Seq: 1, Author: "Eve"})
	if _, err := History(ctx, st, Ref("churn", "production"), staging, 0); !errors.Is(err, dag.ErrCorrupt) {
		t.Fatalf("a move of another stage under production: %v", err)
	}
	first := put(dag.StageMove{Model: "churn", Stage: "production", Version: v1, Seq: 1, Author: "Eve"})
	skip := put(dag.StageMove{Model: "churn", Stage: "production", Previous: first, Seq: 3, Author: "Eve"})
	if _, err := History(ctx, st, Ref("churn", "production"), skip, 0); !errors.Is(err, dag.ErrCorrupt) {
		t.Fatalf("a chain that skips a move: %v", err)
	}
	if _, err := History(ctx, st, "refs/heads/main", first, 0); !errors.Is(err, ErrBadName) {
		t.Fatalf("a ref that is not a stage's: %v", err)
	}
}
