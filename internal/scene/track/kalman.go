package track

// The Kalman filter is ByteTrack's (after SORT and DeepSORT): the state is
// a box's centre x, y, its aspect ratio a = w/h and its height h, each with
// a velocity, under constant velocity; the noise is proportional to the
// height. ByteTrack's covariances start diagonal and its motion and noise
// never couple two coordinates, so the 8-dimensional filter is exactly four
// independent 2-dimensional ones (position, velocity), which is how it is
// computed here: the same numbers for a tenth of the work.
//
// ByteTrack steps one frame at 30 fps at a time. Here a step is the real
// time between analyses: velocities are per second, and the process noise
// grows linearly with the step, so that a 1/30 s step is ByteTrack's.

const (
	refStep       = 1.0 / 30 // seconds: ByteTrack's frame interval
	stdWeightPos  = 1.0 / 20 // ByteTrack's _std_weight_position
	stdWeightVel  = 1.0 / 160
	aspectStdPos  = 1e-2 // the aspect ratio's noise is absolute, not height-scaled
	aspectStdVel  = 1e-5
	aspectStdMeas = 1e-1
	initPosFactor = 2  // initial position std: 2 × the per-step noise
	initVelFactor = 10 // initial velocity std: 10 × the per-step noise
	dims          = 4  // x, y, a, h
	dimX, dimY    = 0, 1
	dimA, dimH    = 2, 3
)

// axis is one coordinate's position and velocity with their covariance.
type axis struct {
	pos, vel float64
	ppp, ppv float64 // var(pos), cov(pos, vel)
	pvv      float64 // var(vel)
}

// kalman is one track's filter.
type kalman struct{ ax [dims]axis }

// measurement is a box as the filter sees it: centre, aspect, height.
func measurement(b Box) [dims]float64 {
	w, h := b.X2-b.X1, b.Y2-b.Y1
	return [dims]float64{(b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2, w / max(h, 1e-6), h}
}

// posStd and velStd are the per-step noise of coordinate d for height h.
func posStd(d int, h float64) float64 {
	if d == dimA {
		return aspectStdPos
	}
	return stdWeightPos * h
}

func velStd(d int, h float64) float64 {
	if d == dimA {
		return aspectStdVel / refStep
	}
	return stdWeightVel * h / refStep // per second
}

// init starts the filter at box b, at rest, uncertain about its velocity.
func (k *kalman) init(b Box) {
	z := measurement(b)
	h := z[dimH]
	for d := range dims {
		ps, vs := initPosFactor*posStd(d, h), initVelFactor*velStd(d, h)
		if d == dimA { // ByteTrack starts the aspect ratio at its step noise
			ps, vs = posStd(d, h), velStd(d, h)
		}
		k.ax[d] = axis{pos: z[d], ppp: ps * ps, pvv: vs * vs}
	}
}

// predict moves the state dt seconds on.
func (k *kalman) predict(dt float64) {
	if dt <= 0 {
		return
	}
	h := k.ax[dimH].pos
	scale := dt / refStep
	for d := range dims {
		a := &k.ax[d]
		ps, vs := posStd(d, h), velStd(d, h)
		a.pos += a.vel * dt
		a.ppp += 2*dt*a.ppv + dt*dt*a.pvv + ps*ps*scale
		a.ppv += dt * a.pvv
		a.pvv += vs * vs * scale
	}
}

// update corrects the state with a measured box.
func (k *kalman) update(b Box) {
	z := measurement(b)
	h := k.ax[dimH].pos
	for d := range dims {
		a := &k.ax[d]
		r := stdWeightPos * h
		if d == dimA {
			r = aspectStdMeas
		}
		s := a.ppp + r*r
		kp, kv := a.ppp/s, a.ppv/s
		innov := z[d] - a.pos
		a.pos += kp * innov
		a.vel += kv * innov
		a.pvv -= kv * a.ppv
		a.ppp *= 1 - kp
		a.ppv *= 1 - kp
	}
}

// box is the filter's current estimate.
func (k *kalman) box() Box {
	cx, cy, h := k.ax[dimX].pos, k.ax[dimY].pos, k.ax[dimH].pos
	w := k.ax[dimA].pos * h
	return Box{cx - w/2, cy - h/2, cx + w/2, cy + h/2}
}
