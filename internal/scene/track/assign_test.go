package track

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteForce is the best total cost over every partial matching, where
// an unpaired row and column together cost limit.
func bruteForce(cost [][]float64, limit float64) float64 {
	rows, cols := len(cost), len(cost[0])
	used := make([]bool, cols)
	var best func(r int) float64
	best = func(r int) float64 {
		if r == rows {
			return 0
		}
		b := limit/2 + best(r+1) // row r unpaired
		for c := range cols {
			if !used[c] && cost[r][c] < limit {
				used[c] = true
				b = min(b, cost[r][c]-limit/2+best(r+1))
				used[c] = false
			}
		}
		return b
	}
	// Every column left unpaired costs limit/2 too: count them by
	// rewriting pairs as saving limit/2 on the column side.
	return best(0) + float64(cols)*limit/2
}

func total(a *assigner, cost [][]float64, limit float64) float64 {
	sum := 0.0
	for r, c := range a.RowMatch {
		if c < 0 {
			sum += limit / 2
			continue
		}
		if cost[r][c] >= limit {
			return math.Inf(1)
		}
		sum += cost[r][c]
	}
	for _, r := range a.ColMatch {
		if r < 0 {
			sum += limit / 2
		}
	}
	return sum
}

// The assignment is optimal, with the limit, on random sparse and dense
// problems, and consistent both ways.
func TestAssignerIsOptimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a assigner
	for trial := range 3000 {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		density := rng.Float64()
		cost := make([][]float64, rows)
		a.reset(rows, cols)
		for r := range rows {
			cost[r] = make([]float64, cols)
			for c := range cols {
				cost[r][c] = math.Inf(1)
				if rng.Float64() < density {
					cost[r][c] = rng.Float64()
					a.set(r, c, cost[r][c])
				}
			}
		}
		limit := 0.2 + 0.8*rng.Float64()
		a.solve(limit)
		for r, c := range a.RowMatch {
			if c >= 0 && a.ColMatch[c] != r {
				t.Fatalf("trial %d: row %d → column %d, but column %d → row %d", trial, r, c, c, a.ColMatch[c])
			}
		}
		if got, want := total(&a, cost, limit), bruteForce(cost, limit); math.Abs(got-want) > 1e-9 {
			t.Fatalf("trial %d: total %v, optimum %v (limit %v, cost %v, rows %v)", trial, got, want, limit, cost, a.RowMatch)
		}
	}
}
