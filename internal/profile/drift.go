package profile

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/DataDog/sketches-go/ddsketch"
)

// Thresholds are the drift a column may show before it is flagged.
type Thresholds struct {
	PSI   float64 `json:"psi"`   // population stability index
	KS    float64 `json:"ks"`    // Kolmogorov–Smirnov distance (numbers)
	Nulls float64 `json:"nulls"` // change in the share of nulls
}

// DefaultThresholds apply where the contract gives none: the usual
// reading of PSI (above 0.2, a significant shift), a KS distance of 0.1,
// and five points of null share.
var DefaultThresholds = Thresholds{PSI: 0.2, KS: 0.1, Nulls: 0.05}

// psiBins is how many bins of A's quantiles PSI compares (deciles).
const psiBins = 10

// psiCategories is how many of A's most frequent values PSI compares a
// column of values by (the rest in one bin).
const psiCategories = 20

// psiFloor stands for an empty bin's share in PSI's logarithm.
const psiFloor = 1e-4

// ColumnDrift is how one column moved from version A to B.
type ColumnDrift struct {
	Name string `json:"name"`
	// Status: "added" or "removed" for a column in one version only.
	Status         string      `json:"status,omitempty"`
	PSI            *float64    `json:"psi"`
	KS             *float64    `json:"ks,omitempty"`
	NullShareA     float64     `json:"null_share_a"`
	NullShareB     float64     `json:"null_share_b"`
	NullChange     float64     `json:"null_share_change"`
	DistinctA      int64       `json:"distinct_a"`
	DistinctB      int64       `json:"distinct_b"`
	DistinctChange int64       `json:"distinct_change"`
	TopChanges     []TopChange `json:"top_changes,omitempty"`
	Thresholds     Thresholds  `json:"thresholds"`
	Breaches       []string    `json:"breaches"`
}

// TopChange is a frequent value's share of the non-null values in A and
// in B.
type TopChange struct {
	Value  string  `json:"value"`
	ShareA float64 `json:"share_a"`
	ShareB float64 `json:"share_b"`
}

// Compare measures the drift of every column from a to b; thresholds
// gives a column's.
func Compare(a, b *Profile, thresholds func(col string) Thresholds) []ColumnDrift {
	out := []ColumnDrift{}
	for _, ca := range a.Columns {
		cb := b.Column(ca.Name)
		if cb == nil {
			out = append(out, ColumnDrift{Name: ca.Name, Status: "removed", Thresholds: thresholds(ca.Name), Breaches: []string{}})
			continue
		}
		out = append(out, compareColumn(a, b, ca, cb, thresholds(ca.Name)))
	}
	for _, cb := range b.Columns {
		if a.Column(cb.Name) == nil {
			out = append(out, ColumnDrift{Name: cb.Name, Status: "added", Thresholds: thresholds(cb.Name), Breaches: []string{}})
		}
	}
	return out
}

func compareColumn(a, b *Profile, ca, cb *Column, th Thresholds) ColumnDrift {
	d := ColumnDrift{Name: ca.Name, Thresholds: th, Breaches: []string{}}
	d.NullShareA, d.NullShareB = share(a.Nulls(ca), a.Rows), share(b.Nulls(cb), b.Rows)
	d.NullChange = d.NullShareB - d.NullShareA
	d.DistinctA, _ = ca.Distinct()
	d.DistinctB, _ = cb.Distinct()
	d.DistinctChange = d.DistinctB - d.DistinctA
	switch {
	case ca.Values == 0 || cb.Values == 0:
	case ca.Kinds&cb.Kinds&KindFloat != 0 && ca.sketch != nil && cb.sketch != nil:
		fa, fb := newCDF(ca.sketch), newCDF(cb.sketch)
		d.PSI = new(numericPSI(ca.sketch, fa, fb))
		d.KS = new(ksDistance(fa, fb))
	case !ca.Over && !cb.Over:
		d.PSI = new(categoricalPSI(ca, cb))
	}
	if !ca.Over && !cb.Over {
		d.TopChanges = topChanges(ca, cb)
	}
	if d.PSI != nil && *d.PSI > th.PSI {
		d.Breaches = append(d.Breaches, fmt.Sprintf("psi %.3f > %g", *d.PSI, th.PSI))
	}
	if d.KS != nil && *d.KS > th.KS {
		d.Breaches = append(d.Breaches, fmt.Sprintf("ks %.3f > %g", *d.KS, th.KS))
	}
	if math.Abs(d.NullChange) > th.Nulls {
		d.Breaches = append(d.Breaches, fmt.Sprintf("null share %+.3f beyond ±%g", d.NullChange, th.Nulls))
	}
	return d
}

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// cdf is a sketch's distribution function over its bins' values.
type cdf struct {
	vals []float64 // ascending
	cum  []float64 // values up to and including vals[i]
	n    float64
}

func newCDF(s *ddsketch.DDSketch) *cdf {
	type bin struct{ v, n float64 }
	var bins []bin
	s.ForEach(func(v, n float64) bool {
		bins = append(bins, bin{v, n})
		return false
	})
	sort.Slice(bins, func(i, j int) bool { return bins[i].v < bins[j].v })
	f := &cdf{}
	for _, b := range bins {
		f.n += b.n
		if k := len(f.vals); k > 0 && f.vals[k-1] == b.v {
			f.cum[k-1] = f.n
			continue
		}
		f.vals, f.cum = append(f.vals, b.v), append(f.cum, f.n)
	}
	return f
}

// at is the share of values at most x.
func (f *cdf) at(x float64) float64 {
	i := sort.SearchFloat64s(f.vals, x) // first ≥ x
	if i < len(f.vals) && f.vals[i] == x {
		return f.cum[i] / f.n
	}
	if i == 0 {
		return 0
	}
	return f.cum[i-1] / f.n
}

// numericPSI bins both versions at A's deciles.
func numericPSI(sa *ddsketch.DDSketch, fa, fb *cdf) float64 {
	var edges []float64
	for i := 1; i < psiBins; i++ {
		q, err := sa.GetValueAtQuantile(float64(i) / psiBins)
		if err == nil && (len(edges) == 0 || q > edges[len(edges)-1]) {
			edges = append(edges, q)
		}
	}
	psi, pa, pb := 0.0, 0.0, 0.0
	for _, e := range append(edges, math.Inf(1)) {
		ca, cb := 1.0, 1.0
		if !math.IsInf(e, 1) {
			ca, cb = fa.at(e), fb.at(e)
		}
		psi += psiTerm(ca-pa, cb-pb)
		pa, pb = ca, cb
	}
	return psi
}

func psiTerm(a, b float64) float64 {
	a, b = max(a, psiFloor), max(b, psiFloor)
	if a == b {
		return 0
	}
	return (b - a) * math.Log(b/a)
}

// ksDistance is the greatest gap between the two distribution functions
// at the sketches' bins.
func ksDistance(fa, fb *cdf) float64 {
	d := 0.0
	for _, f := range []*cdf{fa, fb} {
		for _, x := range f.vals {
			d = max(d, math.Abs(fa.at(x)-fb.at(x)))
		}
	}
	return d
}

// categoricalPSI bins both versions by A's most frequent values, the
// rest in one bin.
func categoricalPSI(ca, cb *Column) float64 {
	psi, restA, restB := 0.0, 1.0, 1.0
	for _, vc := range topCounts(ca.counts, psiCategories) {
		sa, sb := share(vc.Count, ca.Values), share(cb.counts.get(vc.Value), cb.Values)
		psi += psiTerm(sa, sb)
		restA, restB = restA-sa, restB-sb
	}
	return psi + psiTerm(max(restA, 0), max(restB, 0))
}

// topChanges are the shares of the five most frequent values of either
// version, the greatest change first.
func topChanges(ca, cb *Column) []TopChange {
	var vals []string
	for _, c := range []*Column{ca, cb} {
		for _, vc := range topCounts(c.counts, 5) {
			if !slices.Contains(vals, vc.Value) {
				vals = append(vals, vc.Value)
			}
		}
	}
	out := make([]TopChange, 0, len(vals))
	for _, v := range vals {
		out = append(out, TopChange{Value: v, ShareA: share(ca.counts.get(v), ca.Values), ShareB: share(cb.counts.get(v), cb.Values)})
	}
	slices.SortStableFunc(out, func(x, y TopChange) int {
		dx, dy := math.Abs(x.ShareB-x.ShareA), math.Abs(y.ShareB-y.ShareA)
		switch {
		case dx > dy:
			return -1
		case dx < dy:
			return 1
		}
		return 0
	})
	return out[:min(5, len(out))]
}
