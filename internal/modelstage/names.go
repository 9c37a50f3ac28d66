package modelstage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dxdata/dx/store"
)

// Prefix begins every stage ref: refs/stages/MODEL/STAGE.
const Prefix = "refs/stages/"

// ErrBadName is returned for a stage name that cannot be one.
var ErrBadName = errors.New("invalid stage name")

// ValidName checks a stage name: one ref name component, without '/' or
// '@', and not all digits (those are versions).
func ValidName(stage string) error {
	if err := store.ValidRefComponent(stage); err != nil {
		return fmt.Errorf("stage %q: %v: %w", stage, err, ErrBadName)
	}
	if strings.ContainsAny(stage, "/@") {
		return fmt.Errorf("stage %q: '/' and '@' are not allowed: %w", stage, ErrBadName)
	}
	if strings.Trim(stage, "0123456789") == "" {
		return fmt.Errorf("stage %q: a number names a version, not a stage: %w", stage, ErrBadName)
	}
	return nil
}

// Ref is the ref of a model's stage.
func Ref(model, stage string) string { return Prefix + model + "/" + stage }

// ModelPrefix begins the refs of every stage of a model.
func ModelPrefix(model string) string { return Prefix + model + "/" }

// ParseRef splits a stage ref into its model and stage; ok is false for
// a ref that is not one. A stage never holds '/', so the model is
// everything before the last one.
func ParseRef(ref string) (model, stage string, ok bool) {
	rest, found := strings.CutPrefix(ref, Prefix)
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}
