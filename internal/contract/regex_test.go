package contract

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestRegexOnePass: the bench's and the README's patterns take the
// one-pass matcher; patterns it cannot match exactly do not.
func TestRegexOnePass(t *testing.T) {
	for pattern, onePass := range map[string]bool{
		`[A-Z][a-z]+ [A-Z][a-z]+`: true,
		`[a-z.0-9]+@[a-z.]+`:      true,
		`\d{4}-\d{2}-\d{2}`:       true,
		`(?i)ab-[0-9]{3,}`:        true,
		`(?i)sku`:                 false, // k folds to the Kelvin sign
		`[a-z]+[0-9]*[a-z]`:       false, // the last letter would be taken by the first run
		`a|bc`:                    false,
		`é+`:                      false,
		`[^,]+`:                   false,
		`.*x`:                     false,
	} {
		re, err := compileRegex(pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.runs != nil; got != onePass {
			t.Errorf("%q: one pass %v, want %v", pattern, got, onePass)
		}
	}
}

// TestRegexAgainstRegexp: on random patterns and values, Regex matches
// exactly what Go's regexp matches against the whole value.
func TestRegexAgainstRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	items := []string{`a`, `b`, `\.`, `-`, `@`, `7`, `[a-c]`, `[0-9]`, `\d`, `\w`, `[.a]`, `[A-Z]`, `k`, `[^a]`}
	quants := []string{``, ``, `+`, `*`, `?`, `{1,3}`, `{2}`, `{2,}`}
	alphabet := []byte("abc.-@7Zk0K\u00e9x")
	onePass, matched := 0, 0
	for range 3000 {
		var p strings.Builder
		if rng.IntN(6) == 0 {
			p.WriteString(`(?i)`)
		}
		for range 1 + rng.IntN(5) {
			p.WriteString(items[rng.IntN(len(items))])
			p.WriteString(quants[rng.IntN(len(quants))])
		}
		if rng.IntN(10) == 0 {
			p.WriteString(`|ab`)
		}
		re, err := compileRegex(p.String())
		if err != nil {
			t.Fatalf("%q: %v", p.String(), err)
		}
		if re.runs != nil {
			onePass++
		}
		want := regexp.MustCompile(`^(?:` + p.String() + `)$`)
		for range 40 {
			v := make([]byte, rng.IntN(8))
			for i := range v {
				v[i] = alphabet[rng.IntN(len(alphabet))]
			}
			s := string(v)
			if rng.IntN(3) == 0 { // a value the pattern makes: matches are rare otherwise
				s = valueFrom(rng, p.String())
			}
			got := re.MatchString(s)
			if got != want.MatchString(s) {
				t.Fatalf("%q on %q: %v, regexp says %v", p.String(), s, got, !got)
			}
			if got && re.runs != nil {
				matched++
			}
		}
	}
	if onePass < 1000 || matched < 2000 {
		t.Fatalf("%d of 3000 patterns one pass, %d matches by them: too few to tell", onePass, matched)
	}
}

// valueFrom returns a string made from the pattern's literal characters and
// class bounds, in order: often a match, sometimes nearly one.
func valueFrom(rng *rand.Rand, pattern string) string {
	var b strings.Builder
	for _, c := range strings.TrimPrefix(pattern, "(?i)") {
		switch {
		case strings.ContainsRune(`[]{}()+*?|\^`, c):
			if rng.IntN(3) == 0 {
				b.WriteByte('a')
			}
		case c == ',' || c == '-' && rng.IntN(2) == 0:
		default:
			for range 1 + rng.IntN(2) {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}
