package dag

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrReservedName: a tree entry name that some file system reads as
// ".git" or ".dx". Checking such an entry out would write into git's or
// dx's own store (a hostile tree could plant hooks or config that run
// code), so no tree may hold one.
var ErrReservedName = errors.New("reserved name")

// ValidName reports why name cannot be a tree entry name, or nil. Names are
// single path components: non-empty, valid UTF-8, no '/', no NUL, not "." or
// "..", at most MaxNameLen bytes, and not a reserved name (ReservedName).
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not allowed", name)
	case len(name) > MaxNameLen:
		return fmt.Errorf("name longer than %d bytes", MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '/', 0:
			return fmt.Errorf("name %q contains %q", name, name[i])
		}
	}
	if ReservedName(name) {
		return fmt.Errorf("name %q: %w (.git and .dx are never versioned)", name, ErrReservedName)
	}
	return nil
}

// reservedNames are the names no entry may take, in lower case, with their
// NTFS 8.3 short names.
var reservedNames = [...]string{".git", "git~1", ".dx", "dx~1"}

// ReservedName reports whether a file system could take name for ".git"
// or ".dx", as git's verify_path judges it: case-insensitively (NTFS,
// HFS+, APFS), ignoring the code points HFS+ ignores, trailing spaces and
// periods and an alternate data stream suffix (NTFS), and any component
// of it that NTFS separates with a backslash.
func ReservedName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf || c == '\\' {
			return reservedSlow(name)
		}
	}
	// ASCII without a backslash (nearly every name, checked once per file
	// a scan finds and per entry a tree decodes): no code point to drop,
	// one part, nothing allocated.
	return reservedPart(name)
}

// reservedSlow is ReservedName for any name.
func reservedSlow(name string) bool {
	for _, part := range strings.Split(name, `\`) {
		part = strings.Map(func(r rune) rune {
			if hfsIgnorable(r) {
				return -1
			}
			return r
		}, part)
		if reservedPart(part) {
			return true
		}
	}
	return false
}

// reservedPart reports whether one backslash-separated part, its ignorable
// code points dropped, is a reserved name.
func reservedPart(part string) bool {
	if i := strings.IndexByte(part, ':'); i >= 0 {
		part = part[:i] // NTFS: "name:stream" opens "name"
	}
	part = strings.TrimRight(part, " .")
	for _, r := range reservedNames {
		if strings.EqualFold(part, r) {
			return true
		}
	}
	return false
}

// hfsIgnorable reports the code points HFS+ drops when it compares names
// (the list git's is_hfs_dotgit skips).
func hfsIgnorable(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, // zero-width (non-)joiner, directional marks
		r >= 0x202a && r <= 0x202e, // directional embeddings and overrides
		r >= 0x206a && r <= 0x206f, // deprecated format characters
		r == 0xfeff:                // zero-width no-break space
		return true
	}
	return false
}
