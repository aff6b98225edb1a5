package schedule

import (
	"hash/maphash"
	"image"
	"time"

	"github.com/sightline/sightline/analyzer"
	"gocv.io/x/gocv"
)

// Thumbnails for change detection are this small: enough to see a person
// walk in, too small for sensor noise or compression flicker to matter.
const (
	thumbW = 32
	thumbH = 18
	// A thumbnail pixel "changed" when it moved by more than pixelDelta
	// grey levels; a frame changed when more than changedShare of them did.
	pixelDelta   = 18
	changedShare = 0.02
)

// Fingerprint identifies a frame exactly (a hash of every pixel) and
// approximately (a tiny grey thumbnail).
type Fingerprint struct {
	Exact uint64
	Thumb [thumbW * thumbH]byte
	W, H  int
}

// Near reports whether two frames show the same scene: same size and less
// than changedShare of the thumbnail changed. This is the motion gate: a
// frame that is Near the last analysed one has no motion worth paying for.
func (f *Fingerprint) Near(g *Fingerprint) bool {
	if f.W != g.W || f.H != g.H {
		return false
	}
	changed := 0
	for i := range f.Thumb {
		d := int(f.Thumb[i]) - int(g.Thumb[i])
		if d > pixelDelta || d < -pixelDelta {
			changed++
		}
	}
	return float64(changed) <= changedShare*float64(len(f.Thumb))
}

// fingerprinter computes fingerprints with reused buffers.
type fingerprinter struct {
	seed  maphash.Seed
	small gocv.Mat
	gray  gocv.Mat
}

func newFingerprinter() *fingerprinter {
	return &fingerprinter{seed: maphash.MakeSeed(), small: gocv.NewMat(), gray: gocv.NewMat()}
}

func (fp *fingerprinter) of(m gocv.Mat) Fingerprint {
	f := Fingerprint{W: m.Cols(), H: m.Rows()}
	if pix, err := m.DataPtrUint8(); err == nil {
		f.Exact = maphash.Bytes(fp.seed, pix)
	}
	gocv.Resize(m, &fp.small, image.Pt(thumbW, thumbH), 0, 0, gocv.InterpolationArea)
	if fp.small.Channels() == 1 {
		fp.small.CopyTo(&fp.gray)
	} else {
		gocv.CvtColor(fp.small, &fp.gray, gocv.ColorBGRToGray)
	}
	if pix, err := fp.gray.DataPtrUint8(); err == nil {
		copy(f.Thumb[:], pix)
	}
	return f
}

func (fp *fingerprinter) Close() {
	fp.small.Close()
	fp.gray.Close()
}

// cacheSize bounds the remembered cloud results: a few recent scenes, so a
// camera panning back and forth between two views is not paid twice.
const cacheSize = 8

type cacheEntry struct {
	fp     Fingerprint
	result *analyzer.Analysis
	at     time.Time
}

// Cache remembers cloud results by frame fingerprint for TTL, so identical
// and near-identical frames are not paid for twice.
type Cache struct {
	TTL     time.Duration
	entries []cacheEntry
}

// Lookup returns the result of an identical frame, else of a near-identical
// one, analysed within TTL.
func (c *Cache) Lookup(fp *Fingerprint, now time.Time) (*analyzer.Analysis, bool) {
	if c.TTL <= 0 {
		return nil, false
	}
	var near *analyzer.Analysis
	for i := len(c.entries) - 1; i >= 0; i-- { // newest first
		e := &c.entries[i]
		if now.Sub(e.at) >= c.TTL {
			continue
		}
		if e.fp.Exact == fp.Exact && e.fp.W == fp.W && e.fp.H == fp.H {
			return e.result, true
		}
		if near == nil && e.fp.Near(fp) {
			near = e.result
		}
	}
	return near, near != nil
}

// Add remembers a result, dropping expired and the oldest entries.
func (c *Cache) Add(fp Fingerprint, a *analyzer.Analysis, now time.Time) {
	kept := c.entries[:0]
	for _, e := range c.entries {
		if now.Sub(e.at) < c.TTL {
			kept = append(kept, e)
		}
	}
	c.entries = kept
	if len(c.entries) == cacheSize {
		c.entries = append(c.entries[:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, cacheEntry{fp, a, now})
}
