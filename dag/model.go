package dag

import (
	"fmt"
	"time"
)

// DataRef names the data a model was trained on: a commit and optional
// paths inside its tree (none means the whole tree).
type DataRef struct {
	Commit ID
	Paths  []string
}

// Model is one registered version of a model.
type Model struct {
	Name         string
	Version      uint64
	Artifact     ID // a File or a Tree
	ArtifactKind Kind
	Data         []DataRef
	CodeRev      string // git commit of the training code, if known
	CodeDirty    bool
	Params       map[string]string
	Metrics      map[string]string
	Previous     ID // the model's previous version, or ZeroID
	Time         time.Time
}

// Encode returns the canonical encoding:
//
//	version | name | uvarint version | artifact kind | artifact id | uvarint n | (commit, uvarint m, paths…)… |
//	code rev | dirty byte | params | metrics | previous id | varint unix ns
func (m *Model) Encode() ([]byte, error) {
	if m.Name == "" || len(m.Name) > MaxNameLen {
		return nil, fmt.Errorf("dag: model name must be 1..%d bytes", MaxNameLen)
	}
	if m.ArtifactKind != KindFile && m.ArtifactKind != KindTree {
		return nil, fmt.Errorf("dag: model artifact must be a file or a tree")
	}
	if len(m.Data) > MaxMetaEntries {
		return nil, fmt.Errorf("dag: model lists too many data commits")
	}
	e := enc{}
	e.byte(FormatVersion)
	e.str(m.Name)
	e.uvarint(m.Version)
	e.byte(byte(m.ArtifactKind))
	e.id(m.Artifact)
	e.uvarint(uint64(len(m.Data)))
	for _, dr := range m.Data {
		e.id(dr.Commit)
		e.uvarint(uint64(len(dr.Paths)))
		for _, p := range dr.Paths {
			e.str(p)
		}
	}
	e.str(m.CodeRev)
	if m.CodeDirty {
		e.byte(1)
	} else {
		e.byte(0)
	}
	encodeMeta(&e, sortedKeys(m.Params), m.Params)
	encodeMeta(&e, sortedKeys(m.Metrics), m.Metrics)
	e.id(m.Previous)
	e.varint(m.Time.UnixNano())
	return e.b, nil
}

// DecodeModel strictly decodes a model version.
func DecodeModel(b []byte) (*Model, error) {
	d := dec{b: b, kind: "model"}
	d.header()
	m := &Model{Name: d.str(MaxNameLen, "name")}
	if d.err == nil && m.Name == "" {
		d.fail("empty name")
	}
	m.Version = d.uvarint(1<<40, "version")
	m.ArtifactKind = Kind(d.byte())
	if d.err == nil && m.ArtifactKind != KindFile && m.ArtifactKind != KindTree {
		d.fail("artifact kind %d", m.ArtifactKind)
	}
	m.Artifact = d.id()
	n := d.uvarint(MaxMetaEntries, "data count")
	for i := uint64(0); i < n && d.err == nil; i++ {
		dr := DataRef{Commit: d.id()}
		np := d.uvarint(MaxMetaEntries, "path count")
		for j := uint64(0); j < np && d.err == nil; j++ {
			dr.Paths = append(dr.Paths, d.str(MaxStringLen, "path"))
		}
		m.Data = append(m.Data, dr)
	}
	m.CodeRev = d.str(MaxStringLen, "code revision")
	switch d.byte() {
	case 0:
	case 1:
		m.CodeDirty = true
	default:
		d.fail("dirty flag")
	}
	m.Params = decodeMeta(&d)
	m.Metrics = decodeMeta(&d)
	m.Previous = d.id()
	m.Time = time.Unix(0, d.varint("time")).UTC()
	if err := d.done(); err != nil {
		return nil, err
	}
	return m, nil
}
