package mats

import (
	"testing"

	"gocv.io/x/gocv"
)

func TestPool(t *testing.T) {
	var p Pool
	a := p.Get(4, 6)
	if a.Rows() != 4 || a.Cols() != 6 || a.Type() != gocv.MatTypeCV8UC3 {
		t.Fatalf("Get(4, 6) = %dx%d type %v", a.Rows(), a.Cols(), a.Type())
	}
	ptr := a.Ptr()
	p.Put(a)
	if b := p.Get(4, 6); b.Ptr() != ptr {
		t.Error("a Mat of the same size was not reused")
	} else {
		p.Put(b)
	}
	if c := p.Get(8, 6); c.Rows() != 8 || c.Cols() != 6 {
		t.Errorf("Get(8, 6) = %dx%d: a Mat of another size was handed out", c.Rows(), c.Cols())
	} else {
		p.Put(c)
	}

	src := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(1, 2, 3, 0), 8, 6, gocv.MatTypeCV8UC3)
	defer src.Close()
	cp := p.Copy(src)
	if cp.Ptr() == src.Ptr() || cp.GetVecbAt(7, 5)[2] != 3 {
		t.Error("Copy did not copy the pixels into a Mat of its own")
	}
	p.Put(cp)
	gray := gocv.NewMatWithSize(2, 2, gocv.MatTypeCV8UC1)
	defer gray.Close()
	g := p.Copy(gray)
	if g.Type() != gocv.MatTypeCV8UC1 || g.Rows() != 2 {
		t.Error("Copy of a non-BGR Mat must clone it")
	}
	p.Put(g) // not kept: not 8-bit BGR

	for range poolMax + 2 {
		p.Put(gocv.NewMatWithSize(8, 6, gocv.MatTypeCV8UC3))
	}
	if n := len(p.free); n > poolMax {
		t.Errorf("%d idle Mats kept, want at most %d", n, poolMax)
	}
	p.Close()
	if len(p.free) != 0 {
		t.Error("Close kept idle Mats")
	}
	late := gocv.NewMatWithSize(8, 6, gocv.MatTypeCV8UC3)
	p.Put(late) // after Close: freed at once
	if len(p.free) != 0 {
		t.Error("a Mat put after Close was kept")
	}
}
