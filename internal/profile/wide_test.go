package profile

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomFloat is a finite float64 of any magnitude, sign and kind
// (subnormals, zeros and the extremes included).
func randomFloat(r *rand.Rand) float64 {
	switch r.IntN(10) {
	case 0:
		return math.Float64frombits(r.Uint64N(1 << 52)) // subnormal or 0
	case 1:
		return [...]float64{0, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1, -1}[r.IntN(6)]
	case 2, 3, 4:
		return math.Round(r.NormFloat64()*1e6) / 100 // a decimal, as tables hold
	}
	for {
		if f := math.Float64frombits(r.Uint64()); !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	}
}

// TestWideExact: sums of floats and of their squares, grouped and merged
// in any order, with groups subtracted again, equal the exact sums
// (math/big), and have one encoding; the moments are the exact ones,
// rounded once.
func TestWideExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 1 + r.IntN(200)
		if round%10 == 0 {
			n = 1 + r.IntN(3)
		}
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = randomFloat(r)
			if round%3 == 0 {
				xs[i] = math.Round(r.NormFloat64()*1e4) / 100
			}
		}
		exactS, exactQ := new(big.Float).SetPrec(0), new(big.Float).SetPrec(0)
		for _, x := range xs {
			bx := new(big.Float).SetPrec(5000).SetFloat64(x)
			exactS = new(big.Float).SetPrec(5000).Add(exactS, bx)
			exactQ = new(big.Float).SetPrec(9000).Add(exactQ, new(big.Float).SetPrec(9000).Mul(bx, bx))
		}
		// Groups summed apart, merged in a shuffled order, with an extra
		// group added and subtracted again.
		var s, q wide
		perm := r.Perm(n)
		for from := 0; from < n; {
			to := min(n, from+1+r.IntN(20))
			var as, aq wideAcc
			for _, i := range perm[from:to] {
				as.addFloat(xs[i])
				aq.addSquare(xs[i])
			}
			ws, wq := as.wide(), aq.wide()
			s.addWide(ws, false)
			q.addWide(wq, false)
			if r.IntN(4) == 0 {
				var es, eq wideAcc
				for range 1 + r.IntN(5) {
					x := randomFloat(r)
					es.addFloat(x)
					eq.addSquare(x)
				}
				e1, e2 := es.wide(), eq.wide()
				s.addWide(e1, false)
				q.addWide(e2, false)
				s.addWide(e1, true)
				q.addWide(e2, true)
			}
			from = to
		}
		for _, c := range []struct {
			w     *wide
			exact *big.Float
		}{{&s, exactS}, {&q, exactQ}} {
			got := new(big.Float).SetPrec(0).SetInt(c.w.big())
			got.SetMantExp(got, -wideBias)
			if got.Cmp(c.exact) != 0 {
				t.Fatalf("round %d: sum %v, want %v", round, got, c.exact)
			}
		}
		// One encoding whatever the order.
		var as, aq wideAcc
		for _, x := range xs {
			as.addFloat(x)
			aq.addSquare(x)
		}
		ws, wq := as.wide(), aq.wide()
		if !slices.Equal(appendWide(nil, &s), appendWide(nil, &ws)) || !slices.Equal(appendWide(nil, &q), appendWide(nil, &wq)) {
			t.Fatalf("round %d: the merged sums encode unlike the sums", round)
		}
		d := decoder{b: appendWide(nil, &ws)}
		var back wide
		if !d.wide(&back) || len(d.b) != 0 || back.big().Cmp(ws.big()) != 0 {
			t.Fatalf("round %d: a sum does not decode", round)
		}
		mean, m2 := moments(int64(n), &s, &q)
		bn := new(big.Float).SetInt64(int64(n))
		wantMean, _ := new(big.Float).SetPrec(53).Quo(exactS, bn).Float64()
		dev := new(big.Float).SetPrec(20000).Quo(new(big.Float).SetPrec(20000).Mul(exactS, exactS), bn)
		wantM2, _ := new(big.Float).SetPrec(53).Quo(new(big.Float).SetPrec(20000).Mul(new(big.Float).SetPrec(20000).Sub(exactQ, dev), bn), bn).Float64()
		if mean != wantMean || m2 != wantM2 && !(math.IsInf(m2, 1) && math.IsInf(wantM2, 1)) {
			t.Fatalf("round %d: moments %v %v, want %v %v", round, mean, m2, wantMean, wantM2)
		}
	}
}

// TestWideNormalForm: a sum and the negation of its negation, or a sum
// built by carries, encode alike; zero is empty.
func TestWideNormalForm(t *testing.T) {
	var a wideAcc
	a.addFloat(1)
	a.addFloat(-1)
	if w := a.wide(); len(w.c) != 0 {
		t.Fatalf("1 − 1 = %v", w)
	}
	var b, c wide
	one := func(x float64) wide {
		var a wideAcc
		a.addFloat(x)
		return a.wide()
	}
	b.addWide(one(-3), false)
	c.addWide(one(3), true)
	if !slices.Equal(appendWide(nil, &b), appendWide(nil, &c)) {
		t.Fatalf("−3 encodes as %v and %v", appendWide(nil, &b), appendWide(nil, &c))
	}
	for range 70 {
		b.addWide(one(math.MaxFloat64), false)
	}
	var d wideAcc
	d.addFloat(-3)
	for range 70 {
		d.addFloat(math.MaxFloat64)
	}
	dw := d.wide()
	if !slices.Equal(appendWide(nil, &b), appendWide(nil, &dw)) {
		t.Fatal("70 × MaxFloat64 − 3 encodes two ways")
	}
}
