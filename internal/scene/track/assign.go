package track

import "math"

// assigner solves the linear assignment problem that ByteTrack's
// linear_assignment hands to lapjv with a cost limit: pair rows with
// columns to minimise the total cost, where leaving a row and a column
// unpaired costs the limit, so that no pair at or above the limit is ever
// made. The answer is optimal (the Hungarian method), not greedy: greedy
// matching swaps identities when two objects pass close by, the case a
// tracker exists for.
//
// Pairs under the limit form a bipartite graph that, in a real scene, falls
// apart into many tiny components (each object overlaps one or two
// predictions); each component is solved on its own, which gives the same
// optimum in near-linear time. Every buffer is kept between calls, so a
// steady state allocates nothing.
type assigner struct {
	rows, cols int
	cost       []float64 // rows × cols, row-major
	RowMatch   []int     // the column paired with each row, or -1
	ColMatch   []int     // the row paired with each column, or -1

	// Components: a union-find forest over rows (0..rows-1) and columns
	// (rows..rows+cols-1), then one linked list of members per root.
	parent, head, next []int
	compRows, compCols []int
	hung               hungarian
}

// reset sizes the problem; every cost starts at +Inf (no pair).
func (a *assigner) reset(rows, cols int) {
	a.rows, a.cols = rows, cols
	a.cost = grow(a.cost, rows*cols)
	for i := range a.cost {
		a.cost[i] = math.Inf(1)
	}
	a.RowMatch = fill(grow(a.RowMatch, rows), -1)
	a.ColMatch = fill(grow(a.ColMatch, cols), -1)
}

func (a *assigner) set(r, c int, v float64) { a.cost[r*a.cols+c] = v }
func (a *assigner) at(r, c int) float64     { return a.cost[r*a.cols+c] }

// solve pairs rows and columns under limit.
func (a *assigner) solve(limit float64) {
	n := a.rows + a.cols
	a.parent = grow(a.parent, n)
	for i := range a.parent {
		a.parent[i] = i
	}
	for r := range a.rows {
		for c := range a.cols {
			if a.at(r, c) < limit {
				a.union(r, a.rows+c)
			}
		}
	}
	a.head = fill(grow(a.head, n), -1)
	a.next = grow(a.next, n)
	for i := n - 1; i >= 0; i-- {
		root := a.find(i)
		a.next[i] = a.head[root]
		a.head[root] = i
	}
	for root := range n {
		if a.head[root] >= 0 {
			a.solveComponent(root, limit)
		}
	}
}

// solveComponent pairs the rows and columns of one component.
func (a *assigner) solveComponent(root int, limit float64) {
	a.compRows, a.compCols = a.compRows[:0], a.compCols[:0]
	for i := a.head[root]; i >= 0; i = a.next[i] {
		if i < a.rows {
			a.compRows = append(a.compRows, i)
		} else {
			a.compCols = append(a.compCols, i-a.rows)
		}
	}
	if len(a.compRows) == 0 || len(a.compCols) == 0 {
		return
	}
	if len(a.compRows) == 1 && len(a.compCols) == 1 {
		a.pair(a.compRows[0], a.compCols[0])
		return
	}
	// Shift costs so that a pair under the limit is negative and anything
	// else is 0, the same as leaving both unpaired: a minimum assignment of
	// every row of the smaller side is then the optimum with the limit.
	transpose := len(a.compRows) > len(a.compCols)
	small, large := a.compRows, a.compCols
	if transpose {
		small, large = large, small
	}
	a.hung.reset(len(small), len(large))
	for i, s := range small {
		for j, l := range large {
			r, c := s, l
			if transpose {
				r, c = l, s
			}
			if v := a.at(r, c); v < limit {
				a.hung.set(i, j, v-limit)
			}
		}
	}
	a.hung.solve()
	for i, j := range a.hung.match[:len(small)] {
		r, c := small[i], large[j]
		if transpose {
			r, c = c, r
		}
		if a.at(r, c) < limit {
			a.pair(r, c)
		}
	}
}

func (a *assigner) pair(r, c int) { a.RowMatch[r], a.ColMatch[c] = c, r }

func (a *assigner) find(i int) int {
	for a.parent[i] != i {
		a.parent[i] = a.parent[a.parent[i]]
		i = a.parent[i]
	}
	return i
}

func (a *assigner) union(i, j int) {
	if ri, rj := a.find(i), a.find(j); ri != rj {
		a.parent[ri] = rj
	}
}

// hungarian is the O(n²m) shortest-augmenting-path Hungarian method for an
// n×m cost matrix with n ≤ m: every row gets a distinct column.
type hungarian struct {
	n, m   int
	cost   []float64 // n × m
	u, v   []float64 // potentials, 1-based with a 0 sentinel
	minv   []float64
	p, way []int // p[j]: the row (1-based) holding column j
	used   []bool
	match  []int // the column of each row, 0-based
}

func (h *hungarian) reset(n, m int) {
	h.n, h.m = n, m
	h.cost = fill(grow(h.cost, n*m), 0)
	h.u = fill(grow(h.u, n+1), 0)
	h.v = fill(grow(h.v, m+1), 0)
	h.minv = grow(h.minv, m+1)
	h.p = fill(grow(h.p, m+1), 0)
	h.way = fill(grow(h.way, m+1), 0)
	h.used = grow(h.used, m+1)
	h.match = grow(h.match, n)
}

func (h *hungarian) set(i, j int, v float64) { h.cost[i*h.m+j] = v }

func (h *hungarian) solve() {
	for i := 1; i <= h.n; i++ {
		h.augment(i)
	}
	for j := 1; j <= h.m; j++ {
		if h.p[j] > 0 {
			h.match[h.p[j]-1] = j - 1
		}
	}
}

// augment adds row i to the assignment along a shortest augmenting path.
func (h *hungarian) augment(i int) {
	h.p[0] = i
	j0 := 0
	for j := range h.minv {
		h.minv[j] = math.Inf(1)
		h.used[j] = false
	}
	for h.p[j0] != 0 {
		h.used[j0] = true
		i0, delta, j1 := h.p[j0], math.Inf(1), 0
		for j := 1; j <= h.m; j++ {
			if h.used[j] {
				continue
			}
			if cur := h.cost[(i0-1)*h.m+j-1] - h.u[i0] - h.v[j]; cur < h.minv[j] {
				h.minv[j], h.way[j] = cur, j0
			}
			if h.minv[j] < delta {
				delta, j1 = h.minv[j], j
			}
		}
		for j := 0; j <= h.m; j++ {
			if h.used[j] {
				h.u[h.p[j]] += delta
				h.v[j] -= delta
			} else {
				h.minv[j] -= delta
			}
		}
		j0 = j1
	}
	for j0 != 0 {
		j1 := h.way[j0]
		h.p[j0] = h.p[j1]
		j0 = j1
	}
}

// grow returns s with length n, reusing its array when it is big enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func fill[T any](s []T, v T) []T {
	for i := range s {
		s[i] = v
	}
	return s
}
