package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dxdata/dx/dag"
)

// GCStateKey is the object in which a remote's garbage collector keeps
// the packs it condemned and its grace period (see package remote/gc for
// the protocol). Writers read it before they list the indexes they
// deduplicate against.
const GCStateKey = "gc/state"

// DefaultGrace is the grace period of a remote whose collector never
// said otherwise: how long a condemned pack stays, and how long a push
// that reuses objects already on the remote may take.
const DefaultGrace = 24 * time.Hour

// maxGCState bounds the state object read (a damaged or hostile remote).
const maxGCState = 64 << 20

// ErrGCWindow: a write took longer than the remote's grace period, and a
// collector may have removed what it reused; run it again.
var ErrGCWindow = errors.New("took longer than the remote's garbage-collection grace period")

// GCState is the collector's state on a remote.
type GCState struct {
	// Grace is the grace period of this round: condemned packs are
	// removed no sooner than Grace (and PrevGrace) after the state was
	// written, by the server's clock.
	Grace time.Duration `json:"grace_ns"`
	// PrevGrace is the grace of the state this one replaced (what
	// writers that read that one rely on).
	PrevGrace time.Duration `json:"prev_grace_ns"`
	// Condemned are the packs found unreachable, in no order: writers
	// do not reuse their objects, and the next round removes those still
	// unreachable.
	Condemned []dag.ID `json:"condemned"`
	// Round counts the states written: a writer that saw round r may go
	// on past its window if the state is still r, or r+1 condemning none
	// of the packs it relies on (the removals of round r+1 are of packs
	// condemned in r, which it did not use).
	Round int64 `json:"round"`
}

// Wait is how long after the state was written its condemned packs must
// stay.
func (s GCState) Wait() time.Duration { return max(s.Grace, s.PrevGrace) }

// ReadGCState reads the collector's state and its tag; a remote without
// one has the zero state, DefaultGrace, and tag "".
func ReadGCState(ctx context.Context, be Backend) (GCState, string, error) {
	b, tag, err := be.Get(ctx, GCStateKey, maxGCState)
	if errors.Is(err, ErrNotExist) {
		return GCState{Grace: DefaultGrace, PrevGrace: DefaultGrace}, "", nil
	}
	if err != nil {
		return GCState{}, "", err
	}
	var s GCState
	if err := json.Unmarshal(b, &s); err != nil || s.Grace <= 0 || s.PrevGrace < 0 {
		return GCState{}, "", fmt.Errorf("%s: %s: not a collector state: %w", be, GCStateKey, ErrIntegrity)
	}
	return s, tag, nil
}

// EncodeGCState is the state as stored.
func EncodeGCState(s GCState) []byte {
	b, _ := json.Marshal(s) // plain fields
	return append(b, '\n')
}

// writeWindow bounds how long a writer may rely on what it read of a
// remote: from before it read the collector's state until its last index
// and ref are written, renewed by reading the state again.
type writeWindow struct {
	mu    sync.Mutex
	start time.Time // monotonic
	grace time.Duration
	round int64
	// hidden are the condemned packs: their objects are not reused.
	hidden map[dag.ID]bool
	// relied are the packs the writer relies on: those holding objects
	// it reused, and those it wrote.
	relied map[dag.ID]bool
}

// rely records a pack the writer relies on.
func (w *writeWindow) rely(p dag.ID) {
	w.mu.Lock()
	w.relied[p] = true
	w.mu.Unlock()
}

// check fails once the window has passed and cannot be renewed: a
// collector that condemned what the writer relies on after it read the
// state may remove it a grace period later. A tenth of the grace is kept
// as a margin for the requests under way. Past it, the state is read
// again; the window starts anew if no round condemned a pack the writer
// relies on since (see GCState.Round).
func (w *writeWindow) check(ctx context.Context, be Backend) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.start) <= w.grace-w.grace/10 {
		return nil
	}
	at := time.Now()
	s, _, err := ReadGCState(ctx, be)
	if err != nil {
		return err
	}
	ok := s.Round == w.round
	if s.Round == w.round+1 {
		ok = true
		for _, p := range s.Condemned {
			ok = ok && !w.relied[p]
		}
	}
	if !ok {
		return fmt.Errorf("%s: the write %w (%s) and a collector ran meanwhile; run it again: it sends only what is missing", be, ErrGCWindow, w.grace)
	}
	w.start, w.round, w.grace = at, s.Round, min(w.grace, s.Grace)
	return nil
}
