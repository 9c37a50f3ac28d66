package profile

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/dxdata/dx/internal/contract"
)

// TopK is how many of the most frequent values a Summary lists.
const TopK = 10

// Summary is a table's profile as a user reads it.
type Summary struct {
	Rows    int64           `json:"rows"`
	Columns []ColumnSummary `json:"columns"`
}

// ColumnSummary is one column's figures, in its type. Count, Nulls, Min,
// Max, an int column's Mean and, when TopExact, Top's counts are exact;
// Distinct is exact when DistinctExact. A float column's mean and every
// standard deviation are the exact figures (from exact sums of the values
// and of their squares) rounded once.
type ColumnSummary struct {
	Name string `json:"name"`
	// Type: int, float, bool, date, timestamp or string; "empty" for a
	// column with no value. Declared: the contract's.
	Type          string       `json:"type"`
	Declared      bool         `json:"declared,omitempty"`
	Count         int64        `json:"count"` // non-null values
	Nulls         int64        `json:"nulls"` // empty, null or missing
	Distinct      int64        `json:"distinct"`
	DistinctExact bool         `json:"distinct_exact"`
	Min           string       `json:"min,omitempty"`
	Max           string       `json:"max,omitempty"`
	Mean          *float64     `json:"mean,omitempty"`
	Stddev        *float64     `json:"stddev,omitempty"` // population
	Quantiles     *Quantiles   `json:"quantiles,omitempty"`
	Top           []ValueCount `json:"top,omitempty"`
	TopExact      bool         `json:"top_exact"`
	Length        *Lengths     `json:"length,omitempty"`
	Note          string       `json:"note,omitempty"`
}

// Quantiles of a numeric column, from its DDSketch: each within 1% of
// the value at its rank (and within the column's min and max).
type Quantiles struct {
	P01 float64 `json:"p01"`
	P05 float64 `json:"p05"`
	P25 float64 `json:"p25"`
	P50 float64 `json:"p50"`
	P75 float64 `json:"p75"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// Lengths are a string column's value lengths, in bytes.
type Lengths struct {
	Min  int64   `json:"min"`
	Max  int64   `json:"max"`
	Mean float64 `json:"mean"`
}

// declaredKinds maps a contract's types to the kind their values have;
// string and json columns have none.
var declaredKinds = map[contract.Type]Kinds{
	contract.TypeInt: KindInt, contract.TypeFloat: KindFloat, contract.TypeDecimal: KindFloat,
	contract.TypeBool: KindBool, contract.TypeDate: KindDate, contract.TypeTimestamp: KindTimestamp,
}

// Summarize reads p's columns in their types: declared gives a column's
// type in the contract (TypeAny: none; inferred from the values).
func Summarize(p *Profile, declared func(col string) contract.Type) Summary {
	s := Summary{Rows: p.Rows, Columns: []ColumnSummary{}}
	for _, c := range p.Columns {
		s.Columns = append(s.Columns, summarize(p, c, declared(c.Name)))
	}
	return s
}

// kindOf is the kind a column is read in ("" for strings).
func kindOf(c *Column, declared contract.Type) (Kinds, string, string) {
	if declared != contract.TypeAny {
		k, ok := declaredKinds[declared]
		if !ok || c.Values == 0 {
			return k, declared.String(), ""
		}
		if c.Kinds&k == 0 {
			return 0, "string", "the contract says " + declared.String() + ", not every value is one: profiled as strings"
		}
		return k, declared.String(), ""
	}
	if c.Values == 0 {
		return 0, "empty", ""
	}
	for _, k := range []struct {
		k    Kinds
		name string
	}{{KindBool, "bool"}, {KindInt, "int"}, {KindFloat, "float"}, {KindDate, "date"}, {KindTimestamp, "timestamp"}} {
		if c.Kinds&k.k != 0 {
			return k.k, k.name, ""
		}
	}
	return 0, "string", ""
}

func summarize(p *Profile, c *Column, declared contract.Type) ColumnSummary {
	k, typ, note := kindOf(c, declared)
	cs := ColumnSummary{Name: c.Name, Type: typ, Declared: declared != contract.TypeAny, Count: c.Values, Nulls: p.Nulls(c), Note: note}
	cs.Distinct, cs.DistinctExact = c.Distinct()
	cs.Top, cs.TopExact = topCounts(c.counts, TopK), !c.Over
	if c.Values == 0 {
		return cs
	}
	switch {
	case k == KindInt:
		cs.Min, cs.Max = strconv.FormatInt(c.IntMin, 10), strconv.FormatInt(c.IntMax, 10)
		_, m2 := c.Moments()
		cs.Mean = new(intMean(c))
		cs.Stddev = new(math.Sqrt(m2 / float64(c.Values)))
		cs.Quantiles = quantiles(c)
	case k == KindFloat:
		cs.Min, cs.Max = formatFloat(c.FloatMin), formatFloat(c.FloatMax)
		mean, m2 := c.Moments()
		cs.Mean = new(mean)
		cs.Stddev = new(math.Sqrt(m2 / float64(c.Values)))
		cs.Quantiles = quantiles(c)
	case k == KindDate:
		cs.Min, cs.Max = c.TimeMin.Time().Format(time.DateOnly), c.TimeMax.Time().Format(time.DateOnly)
	case k == KindTimestamp:
		cs.Min, cs.Max = c.TimeMin.Time().Format(time.RFC3339Nano), c.TimeMax.Time().Format(time.RFC3339Nano)
	default:
		cs.Min, cs.Max = c.StrMin, c.StrMax
		cs.Length = &Lengths{Min: c.LenMin, Max: c.LenMax, Mean: float64(c.LenSum) / float64(c.Values)}
	}
	return cs
}

// intMean is an int column's exact sum over its count, rounded once.
func intMean(c *Column) float64 {
	sum := new(big.Int).Lsh(big.NewInt(c.SumHi), 64)
	sum.Add(sum, new(big.Int).SetUint64(c.SumLo))
	q := new(big.Float).Quo(new(big.Float).SetInt(sum), new(big.Float).SetInt64(c.Values))
	f, _ := q.Float64()
	return f
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quantiles reads a numeric column's sketch.
func quantiles(c *Column) *Quantiles {
	if c.sketch == nil || c.sketch.IsEmpty() {
		return nil
	}
	qs, err := c.sketch.GetValuesAtQuantiles([]float64{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99})
	if err != nil {
		return nil
	}
	for i, q := range qs {
		qs[i] = min(max(q, c.FloatMin), c.FloatMax) // the sketch's bins reach past them
	}
	return &Quantiles{qs[0], qs[1], qs[2], qs[3], qs[4], qs[5], qs[6]}
}
