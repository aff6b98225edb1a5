package track

// Box is an axis-aligned box in pixels: top-left (X1, Y1), bottom-right
// (X2, Y2).
type Box struct{ X1, Y1, X2, Y2 float64 }

// W and H are the box's width and height.
func (b Box) W() float64 { return b.X2 - b.X1 }
func (b Box) H() float64 { return b.Y2 - b.Y1 }

// grow widens b by f of its width on the left and the right and f of its
// height at the top and the bottom.
func (b Box) grow(f float64) Box {
	dx, dy := f*b.W(), f*b.H()
	return Box{b.X1 - dx, b.Y1 - dy, b.X2 + dx, b.Y2 + dy}
}

// IoU is the intersection of a and b over their union, 0 for disjoint or
// empty boxes.
func IoU(a, b Box) float64 {
	iw := min(a.X2, b.X2) - max(a.X1, b.X1)
	ih := min(a.Y2, b.Y2) - max(a.Y1, b.Y1)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := a.W()*a.H() + b.W()*b.H() - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}
