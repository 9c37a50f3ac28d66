package contract

import (
	"regexp"
	"regexp/syntax"
	"unicode"
)

// Regex is a column's pattern, matched against a whole value. Most
// contract patterns are runs of ASCII classes and literals, where each run
// of variable length is followed by nothing it could also match (`[A-Z]
// [a-z]+ [A-Z][a-z]+`, `[a-z0-9.]+@[a-z.]+`, `\d{4}-\d{2}`): those are
// matched by taking each run as long as it goes, in one pass over the
// bytes, a few times faster than Go's regexp, which matches every other
// pattern.
type Regex struct {
	re   *regexp.Regexp // the whole pattern, anchored
	runs []run          // the one-pass form; nil: re alone
}

// run is up to max (-1: any number) and at least min bytes of a set.
type run struct {
	set      asciiSet
	min, max int
}

// asciiSet is a set of ASCII bytes.
type asciiSet [2]uint64

func (s *asciiSet) add(lo, hi rune) {
	for c := lo; c <= hi; c++ {
		s[c/64] |= 1 << (c % 64)
	}
}

func (s *asciiSet) has(b byte) bool { return b < 128 && s[b/64]&(1<<(b%64)) != 0 }

func (s *asciiSet) meets(o *asciiSet) bool { return s[0]&o[0] != 0 || s[1]&o[1] != 0 }

// compileRegex compiles a contract pattern, to match whole values.
func compileRegex(pattern string) (*Regex, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, err
	}
	r := &Regex{re: re}
	if tree, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		if runs, ok := runsOf(tree, nil); ok && onePass(runs) {
			r.runs = runs
		}
	}
	return r, nil
}

// MatchString reports whether s matches the whole pattern.
func (r *Regex) MatchString(s string) bool {
	if r.runs == nil {
		return r.re.MatchString(s)
	}
	i := 0
	for k := range r.runs {
		ru := &r.runs[k]
		n := 0
		for i < len(s) && n != ru.max && ru.set.has(s[i]) {
			i++
			n++
		}
		if n < ru.min {
			return false
		}
	}
	return i == len(s)
}

// String is the pattern as compiled.
func (r *Regex) String() string { return r.re.String() }

// runsOf appends the runs of a parsed pattern to dst; ok is false if the
// pattern is not a sequence of runs of ASCII sets.
func runsOf(re *syntax.Regexp, dst []run) ([]run, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText:
		return dst, true
	case syntax.OpCapture:
		return runsOf(re.Sub[0], dst)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			var ok bool
			if dst, ok = runsOf(sub, dst); !ok {
				return nil, false
			}
		}
		return dst, true
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			set, ok := literalSet(c, re.Flags&syntax.FoldCase != 0)
			if !ok {
				return nil, false
			}
			dst = append(dst, run{set: set, min: 1, max: 1})
		}
		return dst, true
	case syntax.OpCharClass:
		set, ok := classSet(re.Rune)
		return append(dst, run{set: set, min: 1, max: 1}), ok
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		one, ok := runsOf(re.Sub[0], nil)
		if !ok || len(one) != 1 || one[0].min != 1 || one[0].max != 1 {
			return nil, false
		}
		r := run{set: one[0].set}
		switch re.Op {
		case syntax.OpStar:
			r.min, r.max = 0, -1
		case syntax.OpPlus:
			r.min, r.max = 1, -1
		case syntax.OpQuest:
			r.min, r.max = 0, 1
		default:
			r.min, r.max = re.Min, re.Max
		}
		return append(dst, r), true
	}
	return nil, false
}

// literalSet is the set of an ASCII literal, in both cases if fold.
func literalSet(c rune, fold bool) (asciiSet, bool) {
	var s asciiSet
	if c >= 128 {
		return s, false
	}
	s.add(c, c)
	if fold {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f >= 128 {
				return s, false // K and the Kelvin sign
			}
			s.add(f, f)
		}
	}
	return s, true
}

// classSet is the set of a class given as ranges, if all ASCII.
func classSet(ranges []rune) (asciiSet, bool) {
	var s asciiSet
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1] >= 128 {
			return s, false
		}
		s.add(ranges[i], ranges[i+1])
	}
	return s, true
}

// onePass reports whether taking each run as long as it goes finds every
// match: a run of variable length shares no byte with any run that may
// come right after it (those up to the first that cannot be empty).
func onePass(runs []run) bool {
	for i, r := range runs {
		if r.min == r.max {
			continue
		}
		for _, next := range runs[i+1:] {
			if r.set.meets(&next.set) {
				return false
			}
			if next.min > 0 {
				break
			}
		}
	}
	return true
}
