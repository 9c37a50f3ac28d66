package main

import "testing"

func TestQuotePath(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "data/a.csv", "data/a.csv"},
		{"space", "with space.txt", "with space.txt"},
		{"UTF-8 stays readable", "naïve 名前.csv", "naïve 名前.csv"},
		{"newline", "a\nb.txt", `"a\nb.txt"`},
		{"tab", "a\tb", `"a\tb"`},
		{"quote", `say "hi"`, `"say \"hi\""`},
		{"backslash", `a\b`, `"a\\b"`},
		{"C escapes", "\a\b\v\f\r", `"\a\b\v\f\r"`},
		{"other control bytes in octal", "x\x01\x1b\x7f", `"x\001\033\177"`},
		{"C1 control in octal, by byte", "x\u0085", `"x\302\205"`},
		{"invalid UTF-8 in octal", "x\xff.bin", `"x\377.bin"`},
		{"UTF-8 kept beside an escape", "é\n", "\"é\\n\""},
	}
	for _, c := range cases {
		if got := quotePath(c.in); got != c.want {
			t.Errorf("%s: quotePath(%q) = %s, want %s", c.name, c.in, got, c.want)
		}
	}
}
