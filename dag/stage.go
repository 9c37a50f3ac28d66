package dag

import (
	"context"
	"fmt"
	"time"
)

// StageMove is one move of a model's stage (production, staging, …): the
// stage now names Version, or nothing when Version is ZeroID (a demotion).
// Each move names the one before it, so a stage's history is a linear
// chain that travels with the objects, like a model's versions.
type StageMove struct {
	Model    string
	Stage    string
	Version  ID     // the model version now in the stage; ZeroID: removed
	Previous ID     // the stage's move before this one, or ZeroID
	Seq      uint64 // 1 for a stage's first move, then 1 + the previous move's
	Author   string
	Time     time.Time
	Message  string
}

// Removed reports whether the move took the stage off every version.
func (m *StageMove) Removed() bool { return m.Version.IsZero() }

// Encode returns the canonical encoding:
//
//	version | model | stage | version id | previous id | uvarint seq | author | varint unix ns | message
func (m *StageMove) Encode() ([]byte, error) {
	if m.Model == "" || len(m.Model) > MaxNameLen || m.Stage == "" || len(m.Stage) > MaxNameLen {
		return nil, fmt.Errorf("dag: stage move names must be 1..%d bytes", MaxNameLen)
	}
	if m.Seq == 0 || (m.Seq == 1) != m.Previous.IsZero() {
		return nil, fmt.Errorf("dag: stage move %d must name a previous move exactly when it is not the first", m.Seq)
	}
	e := enc{b: make([]byte, 0, 128+len(m.Message))}
	e.byte(FormatVersion)
	e.str(m.Model)
	e.str(m.Stage)
	e.id(m.Version)
	e.id(m.Previous)
	e.uvarint(m.Seq)
	e.str(m.Author)
	e.varint(m.Time.UnixNano())
	e.str(m.Message)
	return e.b, nil
}

// DecodeStageMove strictly decodes a stage move.
func DecodeStageMove(b []byte) (*StageMove, error) {
	d := dec{b: b, kind: "stage move"}
	d.header()
	m := &StageMove{Model: d.str(MaxNameLen, "model"), Stage: d.str(MaxNameLen, "stage")}
	if d.err == nil && (m.Model == "" || m.Stage == "") {
		d.fail("empty name")
	}
	m.Version = d.id()
	m.Previous = d.id()
	m.Seq = d.uvarint(1<<62, "sequence")
	if d.err == nil && (m.Seq == 0 || (m.Seq == 1) != m.Previous.IsZero()) {
		d.fail("sequence %d with previous %s", m.Seq, m.Previous.Short())
	}
	m.Author = d.str(MaxStringLen, "author")
	m.Time = time.Unix(0, d.varint("time")).UTC()
	m.Message = d.str(MaxStringLen, "message")
	if err := d.done(); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadStageMove reads and decodes a stage move.
func LoadStageMove(ctx context.Context, g Getter, id ID) (*StageMove, error) {
	b, err := g.Get(ctx, KindStage, id)
	if err != nil {
		return nil, err
	}
	return DecodeStageMove(b)
}

// ChainDescends reports whether old is id or comes before it in a linear
// chain of objects that each name the one before them: a model's versions
// (KindModel) or a stage's moves (KindStage). The getter's error for an
// object it lacks is returned as is: the caller knows its sentinel.
func ChainDescends(ctx context.Context, g Getter, kind Kind, old, id ID) (bool, error) {
	for !id.IsZero() {
		if id == old {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		b, err := g.Get(ctx, kind, id)
		if err != nil {
			return false, err
		}
		switch kind {
		case KindModel:
			m, err := DecodeModel(b)
			if err != nil {
				return false, err
			}
			id = m.Previous
		case KindStage:
			m, err := DecodeStageMove(b)
			if err != nil {
				return false, err
			}
			id = m.Previous
		default:
			return false, fmt.Errorf("dag: %s objects form no chain", kind)
		}
	}
	return false, nil
}
