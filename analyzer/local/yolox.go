package local

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/stages"
)

// yoloxStrides are the YOLOX heads' strides, in the order of the output rows.
var yoloxStrides = []int{8, 16, 32}

// yoloxNMS is the IoU above which YOLOX's reference post-processing
// suppresses a box of the same class.
const yoloxNMS = 0.45

// Detection is one YOLOX detection in source-image pixels.
type Detection struct {
	Class      int
	Name       string
	Confidence float64
	Box        analyzer.BoundingBox
}

// YOLOX runs any YOLOX-format ONNX detector (input [1,3,H,W] BGR 0–255,
// output [1,N,5+classes]) on ONNX Runtime, or on OpenCV DNN for
// comparison. One session, one input and one output tensor are created and
// reused for every frame; Detect is not safe for concurrent use.
type YOLOX struct {
	path    string
	version string
	classes []string
	inW     int
	inH     int
	rows    int
	stride  int // values per output row: 5 + classes

	engine engine
	lb     *letterbox
	// grid holds each output row's cell (x, y) and stride, precomputed.
	grid []gridCell
	// cands is reused between frames so steady-state decoding allocates nothing.
	cands []detection
}

type gridCell struct{ x, y, stride float32 }

// NewYOLOX loads model.onnx with class names from a labels file beside it
// (coco_classes.json: a JSON array, or labels.txt: one per line).
func NewYOLOX(path string) (*YOLOX, error) { return newYOLOX(path, sessionSpec{}) }

// NewYOLOXThreads is NewYOLOX with threads intra-op threads (0: one a core).
func NewYOLOXThreads(path string, threads int) (*YOLOX, error) {
	return newYOLOX(path, sessionSpec{threads: threads})
}

// newYOLOX loads the model for ONNX Runtime as spec says.
func newYOLOX(path string, spec sessionSpec) (*YOLOX, error) {
	ins, outs, err := modelInfo(path)
	if err != nil {
		return nil, err
	}
	if len(ins) != 1 || len(ins[0].Dimensions) != 4 || ins[0].Dimensions[1] != 3 {
		return nil, fmt.Errorf("model %s: expected one NCHW input [1,3,H,W] (YOLOX), found %v", path, ins)
	}
	if len(outs) != 1 || len(outs[0].Dimensions) != 3 {
		return nil, fmt.Errorf("model %s: expected one output [1,N,5+classes] (YOLOX), found %v", path, outs)
	}
	y := &YOLOX{path: path, inH: int(ins[0].Dimensions[2]), inW: int(ins[0].Dimensions[3])}
	if y.inH <= 0 || y.inW <= 0 {
		return nil, fmt.Errorf("model %s: input size %dx%d is dynamic; a fixed YOLOX export is expected", path, y.inW, y.inH)
	}
	for _, s := range yoloxStrides {
		gh, gw := y.inH/s, y.inW/s
		for gy := 0; gy < gh; gy++ {
			for gx := 0; gx < gw; gx++ {
				y.grid = append(y.grid, gridCell{float32(gx), float32(gy), float32(s)})
			}
		}
	}
	y.rows = len(y.grid)
	y.stride = int(outs[0].Dimensions[2])
	if int(outs[0].Dimensions[1]) != y.rows || y.stride < 6 {
		return nil, fmt.Errorf("model %s: output %v does not match a %dx%d YOLOX (%d rows of 5+classes)", path, outs[0].Dimensions, y.inW, y.inH, y.rows)
	}
	if y.classes, err = loadLabels(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if len(y.classes) != y.stride-5 {
		return nil, fmt.Errorf("labels beside %s: %d names for a model with %d classes", path, len(y.classes), y.stride-5)
	}
	if y.version, err = modelVersion(path); err != nil {
		return nil, err
	}
	if y.engine, err = newORTEngine(path, spec, ins[0].Name, outs[0].Name, ort.NewShape(1, 3, int64(y.inH), int64(y.inW)), ort.NewShape(1, int64(y.rows), int64(y.stride))); err != nil {
		return nil, err
	}
	y.lb = newLetterbox(y.inW, y.inH)
	return y, nil
}

// loadLabels reads class names from coco_classes.json or labels.txt in dir.
func loadLabels(dir string) ([]string, error) {
	if b, err := os.ReadFile(filepath.Join(dir, "coco_classes.json")); err == nil {
		var names []string
		if err := json.Unmarshal(b, &names); err != nil {
			return nil, fmt.Errorf("labels %s: expected a JSON array of class names: %w", filepath.Join(dir, "coco_classes.json"), err)
		}
		return names, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "labels.txt"))
	if err != nil {
		return nil, fmt.Errorf("no class names beside the model in %s (expected coco_classes.json or labels.txt)", dir)
	}
	return splitLabels(string(b)), nil
}

// Classes returns the model's class names in model order.
func (y *YOLOX) Classes() []string { return y.classes }

// Version is the model's file name and short sha256.
func (y *YOLOX) Version() string { return y.version }

// InputSize is the model's input width and height.
func (y *YOLOX) InputSize() (int, int) { return y.inW, y.inH }

// LetterboxSize is the size a w×h picture takes in the model's input:
// a picture of this size goes in without resizing (DetectScaled).
func (y *YOLOX) LetterboxSize(w, h int) image.Point { return y.lb.sizeFor(w, h) }

// Detect runs the model on a BGR image and returns detections scoring at
// least threshold after class-aware NMS, highest first, in source pixels.
// The returned slice is appended to dst (pass dst[:0] to reuse it).
func (y *YOLOX) Detect(img gocv.Mat, threshold float32, dst []Detection) ([]Detection, error) {
	return y.DetectScaled(img, image.Pt(img.Cols(), img.Rows()), threshold, dst)
}

// DetectScaled is Detect on img, a picture of full's size scaled down
// (to InputSize's letterbox, ideally: then it goes into the model as it
// is): the boxes are in full's pixels, mapped back from the model's
// input in one step.
func (y *YOLOX) DetectScaled(img gocv.Mat, full image.Point, threshold float32, dst []Detection) ([]Detection, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return dst, fmt.Errorf("yolox: expected a non-empty 8-bit BGR image, got %dx%d type %v", img.Cols(), img.Rows(), img.Type())
	}
	if full.X < img.Cols() || full.Y < img.Rows() {
		return dst, fmt.Errorf("yolox: a %dx%d image cannot be scaled down from %dx%d", img.Cols(), img.Rows(), full.X, full.Y)
	}
	span := stages.Begin()
	scale := y.lb.fill(img, y.engine.input())
	span.End(stages.Fill)
	// Model pixels a source pixel: the letterbox's scale times the
	// image's own (exactly the letterbox's when img is full size).
	sx := scale * float32(img.Cols()) / float32(full.X)
	sy := scale * float32(img.Rows()) / float32(full.Y)
	span = stages.Begin()
	out, err := y.engine.run()
	span.End(stages.Infer)
	if err != nil {
		return dst, fmt.Errorf("yolox: inference: %w", err)
	}
	span = stages.Begin()
	defer span.End(stages.Boxes)
	dets := nms(y.decode(out, threshold), yoloxNMS, true)
	for _, d := range dets {
		r := d.box.toSource(sx, sy, full.X, full.Y)
		if r.Empty() {
			continue
		}
		dst = append(dst, Detection{
			Class: d.class, Name: y.classes[d.class], Confidence: float64(d.score),
			Box: analyzer.BoundingBox{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()},
		})
	}
	return dst, nil
}

// decode turns the raw output into candidates (one per box and class scoring
// at least threshold), as YOLOX's demo_postprocess and class-aware
// multiclass_nms do, in model-input pixels.
func (y *YOLOX) decode(out []float32, threshold float32) []detection {
	y.cands = y.cands[:0]
	nc := y.stride - 5
	for i, g := range y.grid {
		row := out[i*y.stride : (i+1)*y.stride]
		obj := row[4]
		if obj < threshold { // score = obj·class ≤ obj
			continue
		}
		cx := (row[0] + g.x) * g.stride
		cy := (row[1] + g.y) * g.stride
		w := float32(math.Exp(float64(row[2]))) * g.stride
		h := float32(math.Exp(float64(row[3]))) * g.stride
		box := rectF{cx - w/2, cy - h/2, cx + w/2, cy + h/2}
		for c := 0; c < nc; c++ {
			if s := obj * row[5+c]; s >= threshold {
				y.cands = append(y.cands, detection{box: box, class: c, score: s})
			}
		}
	}
	return y.cands
}

// Infer runs the model alone on the input tensor as it is, without pre-
// or post-processing: the limit a pipeline around it can approach.
func (y *YOLOX) Infer() error {
	_, err := y.engine.run()
	return err
}

// Close releases the session, tensors and buffers.
func (y *YOLOX) Close() error {
	if y.engine != nil {
		y.engine.close()
	}
	if y.lb != nil {
		y.lb.Close()
	}
	return nil
}
