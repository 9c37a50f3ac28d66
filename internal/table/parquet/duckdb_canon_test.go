package parquet

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"
)

// canonicalRows writes rows of dx and of DuckDB alike, sorted: the two
// spell some values differently (DuckDB writes timestamps with a space
// and an offset, decimals as strings, maps as key/value lists) but must
// mean the same.
func canonicalRows(rows []map[string]any) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, canonical(r))
	}
	slices.Sort(out)
	return out
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"}

func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteByte('{')
		for _, k := range keys {
			fmt.Fprintf(&b, "%q:%s,", k, canonical(x[k]))
		}
		return b.String() + "}"
	case []any:
		if kv, ok := keyValues(x); ok {
			return canonical(kv)
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canonical(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case json.Number:
		return number(string(x))
	case string:
		if n, ok := new(big.Rat).SetString(x); ok && strings.ContainsAny(x, "0123456789") && !strings.ContainsAny(x, "/eE") {
			return n.RatString()
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, x); err == nil && len(x) > 10 {
				return "time:" + t.UTC().Format(time.RFC3339Nano)
			}
		}
		return fmt.Sprintf("%q", x)
	case bool:
		return fmt.Sprint(x)
	}
	return fmt.Sprintf("?%T", v)
}

func number(s string) string {
	if n, ok := new(big.Rat).SetString(s); ok {
		return n.RatString()
	}
	return s
}

// keyValues turns DuckDB's spelling of a map, a list of {key, value}
// objects, into an object.
func keyValues(l []any) (map[string]any, bool) {
	if len(l) == 0 {
		return nil, false
	}
	m := map[string]any{}
	for _, e := range l {
		o, ok := e.(map[string]any)
		if !ok || len(o) != 2 {
			return nil, false
		}
		k, ok1 := o["key"]
		v, ok2 := o["value"]
		ks, ok3 := k.(string)
		if !ok1 || !ok2 || !ok3 {
			return nil, false
		}
		m[ks] = v
	}
	return m, true
}
