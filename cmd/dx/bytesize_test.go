package main

import "testing"

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "4096", want: 4096},
		{in: "512MiB", want: 512 << 20},
		{in: "4GiB", want: 4 << 30},
		{in: "2G", want: 2 << 30},
		{in: " 3 KiB", want: 3 << 10},
		{in: "1TiB", want: 1 << 40},
		{in: "7B", want: 7},
		{in: "", bad: true},
		{in: "GiB", bad: true},
		{in: "-1GiB", bad: true},
		{in: "1.5GiB", bad: true},
		{in: "4gb", bad: true},
		{in: "99999999999TiB", bad: true},
	} {
		got, err := parseByteSize(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}
