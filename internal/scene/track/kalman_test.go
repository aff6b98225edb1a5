package track

import (
	"math"
	"math/rand/v2"
	"testing"
)

// byteTrackKF is ByteTrack's kalman_filter.py, transcribed with full 8×8
// matrices in its own units (one step a frame), as the reference the
// decomposed filter must reproduce.
type byteTrackKF struct {
	mean [8]float64
	cov  [8][8]float64
}

func (k *byteTrackKF) initiate(z [4]float64) {
	h := z[3]
	std := [8]float64{2 * h / 20, 2 * h / 20, 1e-2, 2 * h / 20, 10 * h / 160, 10 * h / 160, 1e-5, 10 * h / 160}
	*k = byteTrackKF{}
	copy(k.mean[:4], z[:])
	for i, s := range std {
		k.cov[i][i] = s * s
	}
}

func (k *byteTrackKF) predict() {
	h := k.mean[3]
	q := [8]float64{h / 20, h / 20, 1e-2, h / 20, h / 160, h / 160, 1e-5, h / 160}
	var f [8][8]float64
	for i := range 8 {
		f[i][i] = 1
	}
	for i := range 4 {
		f[i][4+i] = 1
	}
	var m [8]float64
	for i := range 8 {
		for j := range 8 {
			m[i] += f[i][j] * k.mean[j]
		}
	}
	k.mean = m
	k.cov = mul(mul(f, k.cov), transpose(f))
	for i := range 8 {
		k.cov[i][i] += q[i] * q[i]
	}
}

func (k *byteTrackKF) update(z [4]float64) {
	h := k.mean[3]
	r := [4]float64{h / 20, h / 20, 1e-1, h / 20}
	// S = H P Hᵀ + R is the top-left 4×4 block; K = P Hᵀ S⁻¹.
	var s [4][4]float64
	for i := range 4 {
		for j := range 4 {
			s[i][j] = k.cov[i][j]
		}
		s[i][i] += r[i] * r[i]
	}
	si := inverse4(s)
	var gain [8][4]float64
	for i := range 8 {
		for j := range 4 {
			for l := range 4 {
				gain[i][j] += k.cov[i][l] * si[l][j]
			}
		}
	}
	var innov [4]float64
	for i := range 4 {
		innov[i] = z[i] - k.mean[i]
	}
	for i := range 8 {
		for j := range 4 {
			k.mean[i] += gain[i][j] * innov[j]
		}
	}
	// P -= K S Kᵀ
	var next [8][8]float64
	for i := range 8 {
		for j := range 8 {
			v := k.cov[i][j]
			for a := range 4 {
				for b := range 4 {
					v -= gain[i][a] * s[a][b] * gain[j][b]
				}
			}
			next[i][j] = v
		}
	}
	k.cov = next
}

func mul(a, b [8][8]float64) (c [8][8]float64) {
	for i := range 8 {
		for j := range 8 {
			for l := range 8 {
				c[i][j] += a[i][l] * b[l][j]
			}
		}
	}
	return c
}

func transpose(a [8][8]float64) (t [8][8]float64) {
	for i := range 8 {
		for j := range 8 {
			t[i][j] = a[j][i]
		}
	}
	return t
}

// inverse4 inverts a symmetric positive-definite 4×4 by Gauss-Jordan.
func inverse4(m [4][4]float64) [4][4]float64 {
	var inv [4][4]float64
	for i := range 4 {
		inv[i][i] = 1
	}
	for c := range 4 {
		p := m[c][c]
		for j := range 4 {
			m[c][j] /= p
			inv[c][j] /= p
		}
		for r := range 4 {
			if r != c {
				f := m[r][c]
				for j := range 4 {
					m[r][j] -= f * m[c][j]
					inv[r][j] -= f * inv[c][j]
				}
			}
		}
	}
	return inv
}

// At ByteTrack's step of 1/30 s the decomposed filter is ByteTrack's:
// same means and covariances (velocities per second here, per frame there).
func TestKalmanIsByteTracks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	box := Box{100, 50, 140, 150}
	var ref byteTrackKF
	var k kalman
	ref.initiate(measurement(box))
	k.init(box)
	for step := range 60 {
		ref.predict()
		k.predict(refStep)
		if step%7 != 3 { // now and then no measurement
			box = Box{box.X1 + 3 + rng.Float64(), box.Y1 + rng.Float64(), box.X2 + 3 + rng.Float64(), box.Y2 + 1 + rng.Float64()}
			ref.update(measurement(box))
			k.update(box)
		}
		for d := range dims {
			a := k.ax[d]
			pairs := [][2]float64{
				{a.pos, ref.mean[d]}, {a.vel * refStep, ref.mean[4+d]},
				{a.ppp, ref.cov[d][d]}, {a.ppv * refStep, ref.cov[d][4+d]}, {a.pvv * refStep * refStep, ref.cov[4+d][4+d]},
			}
			for i, p := range pairs {
				if math.Abs(p[0]-p[1]) > 1e-9*max(1, math.Abs(p[1])) {
					t.Fatalf("step %d, coordinate %d, quantity %d: %v, ByteTrack %v", step, d, i, p[0], p[1])
				}
			}
			for e := range dims {
				if e != d && (ref.cov[d][e] != 0 || ref.cov[d][4+e] != 0) {
					t.Fatalf("step %d: ByteTrack couples coordinates %d and %d", step, d, e)
				}
			}
		}
	}
}

// The filter learns a constant velocity in pixels per second whatever the
// analysis rate, and predicts ahead by real time.
func TestKalmanVelocityPerSecond(t *testing.T) {
	for _, fps := range []float64{3, 10, 30, 60} {
		var k kalman
		box := func(ts float64) Box { return Box{100 + 90*ts, 200, 140 + 90*ts, 300} }
		k.init(box(0))
		n := int(3 * fps)
		for i := 1; i <= n; i++ {
			k.predict(1 / fps)
			k.update(box(float64(i) / fps))
		}
		if v := k.ax[dimX].vel; math.Abs(v-90) > 3 {
			t.Errorf("%g fps: velocity %.1f px/s, want 90", fps, v)
		}
		k.predict(0.5)
		if got, want := k.box().X1, box(float64(n)/fps+0.5).X1; math.Abs(got-want) > 2 {
			t.Errorf("%g fps: predicted x %.1f half a second on, want %.1f", fps, got, want)
		}
	}
}
