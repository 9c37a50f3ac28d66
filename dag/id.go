package dag

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/zeebo/blake3"
)

// IDSize is the length of an ID in bytes.
const IDSize = 32

// ID names an object by the BLAKE3 hash of its encoding, keyed by its kind.
type ID [IDSize]byte

// ZeroID is the ID of nothing; it never names a stored object.
var ZeroID ID

// Kind is the type of a stored object. Its numeric value is part of the
// on-disk format.
type Kind uint8

// Object kinds. Values are persisted: never renumber.
const (
	KindInvalid Kind = 0
	KindChunk   Kind = 1
	KindFile    Kind = 2
	KindTree    Kind = 3
	KindCommit  Kind = 4
	KindModel   Kind = 5
	KindStage   Kind = 6
)

var kindNames = [...]string{"invalid", "chunk", "file", "tree", "commit", "model", "stage"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is a known object kind.
func (k Kind) Valid() bool { return k >= KindChunk && k <= KindStage }

// IsMeta reports whether objects of this kind are metadata (everything but
// chunks). Metadata and data go to separate packs.
func (k Kind) IsMeta() bool { return k != KindChunk }

// ParseKind parses the String form of a Kind.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i), nil
		}
	}
	return KindInvalid, fmt.Errorf("dag: unknown object kind %q", s)
}

var hashContexts = [...]string{
	KindChunk:  "dx v1 chunk",
	KindFile:   "dx v1 file",
	KindTree:   "dx v1 tree",
	KindCommit: "dx v1 commit",
	KindModel:  "dx v1 model",
	KindStage:  "dx v1 stage",
}

// hashers holds, per kind, hashers keyed for it, reused: a hasher holds
// 8 KiB of buffer, and cloning a template for every object cost more than
// hashing a small one (a commit of 200,000 small files hashes 400,000
// objects). Reset keeps the key.
var hashers [len(hashContexts)]sync.Pool

func init() {
	for k := KindChunk; k <= KindStage; k++ {
		tmpl := blake3.NewDeriveKey(hashContexts[k])
		hashers[k].New = func() any { return tmpl.Clone() }
	}
}

// Hash returns the ID of an object of kind k whose encoding is data.
func Hash(k Kind, data []byte) ID {
	if !k.Valid() {
		panic(fmt.Sprintf("dag.Hash: invalid kind %d", k))
	}
	h := hashers[k].Get().(*blake3.Hasher)
	h.Reset()
	_, _ = h.Write(data)
	var id ID
	h.Sum(id[:0])
	hashers[k].Put(h)
	return id
}

// String returns the full lowercase hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 12 hex characters, for display.
func (id ID) Short() string { return hex.EncodeToString(id[:6]) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ZeroID }

// Compare orders IDs bytewise.
func (id ID) Compare(o ID) int { return strings.Compare(string(id[:]), string(o[:])) }

// MarshalText implements encoding.TextMarshaler (hex).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (full hex only).
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ErrBadID is returned for a string that is not a full hex ID.
var ErrBadID = errors.New("not a valid object id")

// ParseID parses the full 64-character hex form of an ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*IDSize {
		return id, fmt.Errorf("dag: %q: %w", s, ErrBadID)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("dag: %q: %w", s, ErrBadID)
	}
	return id, nil
}

// IsHexPrefix reports whether s could be an abbreviated ID (7..64 lowercase
// or uppercase hex characters).
func IsHexPrefix(s string) bool {
	if len(s) < 7 || len(s) > 2*IDSize {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
