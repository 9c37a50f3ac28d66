// Package stats is the example model of dx's demo: per-category count, sum
// and mean of a decimal column of a CSV table. It trains from scratch, and
// it updates from a `dx delta` (JSONL rows added, changed and removed), and
// the two agree exactly: sums are kept as integers in units of the
// column's smallest decimal place.
package stats

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
)

// Model is the trained state.
type Model struct {
	Category string            `json:"category"` // column names
	Value    string            `json:"value"`
	Scale    int               `json:"scale"` // decimal places kept
	Count    map[string]int64  `json:"count"`
	Sum      map[string]string `json:"sum"`  // exact decimal
	Mean     map[string]string `json:"mean"` // Scale+3 places, for reading
	sums     map[string]*big.Int
}

// New returns an empty model over the given columns.
func New(category, value string, scale int) *Model {
	return &Model{Category: category, Value: value, Scale: scale, Count: map[string]int64{}, sums: map[string]*big.Int{}}
}

// Train builds the model from a whole CSV table.
func Train(r io.Reader, category, value string, scale int) (*Model, error) {
	m := New(category, value, scale)
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord = true
	cr.LazyQuotes = true // a bare quote in a field, as dx and Python's csv read it
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	ci, vi := index(head, category), index(head, value)
	if ci < 0 || vi < 0 {
		return nil, fmt.Errorf("table has no %q or %q column", category, value)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := m.add(rec[ci], rec[vi], 1); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func index(cols []string, c string) int {
	for i, n := range cols {
		if n == c {
			return i
		}
	}
	return -1
}

// ApplyDelta updates the model from `dx delta --format jsonl` output: an
// added row counts in, a removed row counts out, a changed row moves from
// its old values to its new ones.
func (m *Model) ApplyDelta(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var c struct {
			Change string            `json:"change"`
			Old    map[string]string `json:"old"`
			New    map[string]string `json:"new"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return fmt.Errorf("delta line %d: %w", n, err)
		}
		if c.Old != nil {
			if err := m.add(c.Old[m.Category], c.Old[m.Value], -1); err != nil {
				return fmt.Errorf("delta line %d: %w", n, err)
			}
		}
		if c.New != nil {
			if err := m.add(c.New[m.Category], c.New[m.Value], 1); err != nil {
				return fmt.Errorf("delta line %d: %w", n, err)
			}
		}
	}
	return sc.Err()
}

// add counts one value in (sign 1) or out (sign -1).
func (m *Model) add(cat, val string, sign int64) error {
	v, err := m.units(val)
	if err != nil {
		return err
	}
	s := m.sums[cat]
	if s == nil {
		s = new(big.Int)
		m.sums[cat] = s
	}
	if sign < 0 {
		v.Neg(v)
	}
	s.Add(s, v)
	m.Count[cat] += sign
	if m.Count[cat] == 0 {
		if s.Sign() != 0 {
			return fmt.Errorf("category %q: no rows left but a sum of %s", cat, s)
		}
		delete(m.Count, cat)
		delete(m.sums, cat)
	}
	return nil
}

// units parses a decimal with at most Scale places as an integer count of
// its smallest unit.
func (m *Model) units(s string) (*big.Int, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > m.Scale {
		return nil, fmt.Errorf("value %q has more than %d decimal places", s, m.Scale)
	}
	frac += strings.Repeat("0", m.Scale-len(frac))
	v, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return nil, fmt.Errorf("value %q is not a decimal number", s)
	}
	if neg {
		v.Neg(v)
	}
	return v, nil
}

// Finish fills in the sums and means for output.
func (m *Model) Finish() *Model {
	m.Sum, m.Mean = map[string]string{}, map[string]string{}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(m.Scale)), nil)
	for cat, s := range m.sums {
		m.Sum[cat] = new(big.Rat).SetFrac(s, den).FloatString(m.Scale)
		mean := new(big.Rat).SetFrac(s, new(big.Int).Mul(den, big.NewInt(m.Count[cat])))
		m.Mean[cat] = mean.FloatString(m.Scale + 3)
	}
	return m
}

// Load reads a model written by Write.
func Load(r io.Reader) (*Model, error) {
	m := &Model{}
	if err := json.NewDecoder(r).Decode(m); err != nil {
		return nil, err
	}
	if m.Count == nil || m.Sum == nil {
		return nil, errors.New("not a catstats model")
	}
	m.sums = map[string]*big.Int{}
	for cat, s := range m.Sum {
		v, err := m.units(s)
		if err != nil {
			return nil, err
		}
		m.sums[cat] = v
	}
	return m, nil
}

// Write writes the model as JSON with sorted keys (so equal models are
// equal files).
func (m *Model) Write(w io.Writer) error {
	m.Finish()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// Categories lists the categories, sorted.
func (m *Model) Categories() []string {
	out := make([]string, 0, len(m.Count))
	for c := range m.Count {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
