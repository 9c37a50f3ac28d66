package check

import (
	"errors"
	"fmt"
)

// ErrInvalid: a version of a table breaks a rule of its spec.
var ErrInvalid = errors.New("not a valid table")

// Violation is the first broken rule found in a version of a table.
type Violation struct {
	Path string
	Line int // 1-based; 0: the file as a whole
	Msg  string
	More int // further broken rules found (a contract's), not listed
}

func (v *Violation) Error() string {
	msg := v.Msg
	if v.More > 0 {
		msg += fmt.Sprintf(" (and %d more)", v.More)
	}
	if v.Path == "" {
		return msg
	}
	if v.Line == 0 {
		return fmt.Sprintf("%s: %s", v.Path, msg)
	}
	return fmt.Sprintf("%s:%d: %s", v.Path, v.Line, msg)
}

// Unwrap makes a Violation an ErrInvalid.
func (v *Violation) Unwrap() error { return ErrInvalid }
