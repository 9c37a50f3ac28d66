package dag

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestChainDescends: a stage's moves form a chain; an older move descends
// into every later one, never the other way, and a move of another chain
// is not in it.
func TestChainDescends(t *testing.T) {
	ctx := context.Background()
	st := newMem()
	var moves []ID
	prev := ZeroID
	for i := 1; i <= 4; i++ {
		m := StageMove{Model: "churn", Stage: "production", Version: Hash(KindModel, []byte{byte(i)}), Previous: prev,
			Seq: uint64(i), Author: "Ada", Time: time.Unix(int64(i), 0)}
		if i == 3 {
			m.Version = ZeroID // a demotion in the middle
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		prev, err = st.Put(ctx, KindStage, b)
		if err != nil {
			t.Fatal(err)
		}
		moves = append(moves, prev)
	}
	other := StageMove{Model: "churn", Stage: "production", Version: Hash(KindModel, []byte{9}), Seq: 1, Author: "Bob"}
	ob, _ := other.Encode()
	otherID, _ := st.Put(ctx, KindStage, ob)
	cases := []struct {
		name    string
		old, id ID
		want    bool
	}{
		{"itself", moves[2], moves[2], true},
		{"first into last", moves[0], moves[3], true},
		{"last into first", moves[3], moves[0], false},
		{"another chain", otherID, moves[3], false},
		{"nothing into anything", ZeroID, moves[3], false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChainDescends(ctx, st, KindStage, tc.old, tc.id)
			if err != nil || got != tc.want {
				t.Fatalf("ChainDescends = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// A chain the getter lacks part of returns the getter's error.
	if _, err := ChainDescends(ctx, st, KindStage, otherID, Hash(KindStage, []byte("absent"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing move: %v", err)
	}
	links, err := Links(KindStage, ob, true)
	if err != nil || len(links) != 1 || links[0].Kind != KindModel {
		t.Fatalf("links of a first move: %v %v", links, err)
	}
	b, _ := st.Get(ctx, KindStage, moves[2])
	if links, err := Links(KindStage, b, true); err != nil || len(links) != 1 || links[0] != (Link{moves[1], KindStage}) {
		t.Fatalf("links of a demotion: %v %v", links, err)
	}
}
