package local

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
)

// Custom Vision exports come in these shapes, told apart by their outputs:
//   - classifiers: `classLabel` (string) and `loss` (a sequence holding one
//     map label→probability), or a newer single float tensor [N, classes];
//   - object detectors of the "General (compact) [S1]" domain:
//     `detected_boxes` [1,N,4] (x1,y1,x2,y2 as fractions),
//     `detected_classes` [1,N] and `detected_scores` [1,N];
//   - object detectors of the "General (compact)" domain: one float tensor
//     [1, A·(5+classes), H, W], a YOLOv2 grid of A anchors a cell that the
//     app decodes (decodeGrid).
const (
	cvDetBoxes   = "detected_boxes"
	cvDetClasses = "detected_classes"
	cvDetScores  = "detected_scores"
)

// The grid detectors' post-processing constants, as in Microsoft's reference
// (customvision-export-samples, samples/python/onnx/object_detection/predict.py).
var cvAnchors = [...][2]float64{{0.573, 0.677}, {1.87, 2.06}, {3.34, 5.47}, {7.88, 3.53}, {9.77, 9.17}}

const (
	cvGridMaxDetections = 64
	cvGridMinProb       = 0.01 // kept when above
	cvGridIoU           = 0.45 // suppressed when above, whatever the class
)

// CustomVision runs a Custom Vision ONNX export with ONNX Runtime. It is
// safe for concurrent use; calls are serialised because the input tensor is
// shared.
type CustomVision struct {
	mu        sync.Mutex
	modelPath string
	labels    []string
	detector  bool
	w, h      int
	bgr       bool
	scale     float32 // pixel value multiplier (1, 1/255 or 2/255)
	offset    float32 // added after scaling (0 or -1)
	outNames  []string
	probsOut  bool        // classifier with a plain probability tensor
	grid      bool        // detector with a raw grid output (decodeGrid)
	cands     []detection // decodeGrid's candidates, reused between images
	sess      *ort.DynamicAdvancedSession
	input     *ort.Tensor[float32]
	version   string
}

// NewCustomVision loads model.onnx and labels.txt from dir; without
// labels.txt, the class names come from the model itself when it carries
// them (older Windows ML exports). The input size comes from the model's
// input dimensions, and the colour order and pixel range from its
// metadata, as Microsoft's export samples read them.
func NewCustomVision(dir string) (*CustomVision, error) { return NewCustomVisionOn(dir, DeviceCPU) }

// NewCustomVisionOn is NewCustomVision running on dev.
func NewCustomVisionOn(dir string, dev Device) (*CustomVision, error) {
	modelPath := filepath.Join(dir, "model.onnx")
	labelsPath := filepath.Join(dir, "labels.txt")
	labels, err := readLabels(labelsPath)
	if errors.Is(err, fs.ErrNotExist) {
		labels, err = modelLabels(modelPath, err)
	}
	if err != nil {
		return nil, err
	}
	ins, outs, err := modelInfo(modelPath)
	if err != nil {
		return nil, err
	}
	c := &CustomVision{modelPath: modelPath, labels: labels}
	if len(ins) == 1 && ins[0].DataType == ort.TensorElementDataTypeFloat16 {
		return nil, fmt.Errorf("model %s takes float16 input (the OnnxFloat16 export flavour), which is not supported: export the model again in the default ONNX flavour (float32)", modelPath)
	}
	if len(ins) != 1 || ins[0].OrtValueType != ort.ONNXTypeTensor ||
		ins[0].DataType != ort.TensorElementDataTypeFloat || len(ins[0].Dimensions) != 4 ||
		ins[0].Dimensions[1] != 3 || ins[0].Dimensions[2] <= 0 || ins[0].Dimensions[3] <= 0 {
		return nil, fmt.Errorf("model %s: expected one float image input [N,3,H,W] with fixed H and W, got %v", modelPath, ioString(ins))
	}
	c.h, c.w = int(ins[0].Dimensions[2]), int(ins[0].Dimensions[3])

	names := map[string]ort.InputOutputInfo{}
	for _, o := range outs {
		names[o.Name] = o
	}
	switch {
	case has(names, cvDetBoxes) && has(names, cvDetClasses) && has(names, cvDetScores):
		c.detector = true
		c.outNames = []string{cvDetBoxes, cvDetClasses, cvDetScores}
	case has(names, "loss") && names["loss"].OrtValueType == ort.ONNXTypeSequence:
		c.outNames = []string{"loss"}
	case len(outs) == 1 && outs[0].OrtValueType == ort.ONNXTypeTensor &&
		outs[0].DataType == ort.TensorElementDataTypeFloat && len(outs[0].Dimensions) == 2:
		if n := outs[0].Dimensions[1]; n > 0 && int(n) != len(labels) {
			return nil, fmt.Errorf("labels %s has %d labels but model %s outputs %d class probabilities", labelsPath, len(labels), modelPath, n)
		}
		c.outNames = []string{outs[0].Name}
		c.probsOut = true
	case len(outs) == 1 && outs[0].OrtValueType == ort.ONNXTypeTensor &&
		outs[0].DataType == ort.TensorElementDataTypeFloat && len(outs[0].Dimensions) == 4 &&
		outs[0].Dimensions[1] > 0 && outs[0].Dimensions[1]%int64(len(cvAnchors)) == 0:
		if n := outs[0].Dimensions[1]; n != int64(len(cvAnchors)*(5+len(labels))) {
			return nil, fmt.Errorf("labels %s has %d labels but model %s outputs a grid for %d classes (%d channels: %d anchors × (5 + classes))",
				labelsPath, len(labels), modelPath, n/int64(len(cvAnchors))-5, n, len(cvAnchors))
		}
		c.detector, c.grid = true, true
		c.outNames = []string{outs[0].Name}
	default:
		return nil, fmt.Errorf("model %s: expected Custom Vision outputs (classLabel and loss, or %s, %s and %s, or one grid [1,%d·(5+classes),H,W]), got %v",
			modelPath, cvDetBoxes, cvDetClasses, cvDetScores, len(cvAnchors), ioString(outs))
	}
	if err := c.readMetadata(); err != nil {
		return nil, err
	}
	if c.version, err = modelVersion(modelPath); err != nil {
		return nil, err
	}
	err = newSession(modelPath, sessionSpec{device: dev}, func(file string, opts *ort.SessionOptions) (err error) {
		c.sess, err = ort.NewDynamicAdvancedSession(file, []string{ins[0].Name}, c.outNames, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.input, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 3, int64(c.h), int64(c.w)))
	if err != nil {
		c.Close()
		return nil, err
	}
	if !c.detector && !c.probsOut {
		// The loss map's keys are the model's own class names; check the
		// labels file against them once, on a blank image, so a mismatched
		// export fails at load time rather than on the first image.
		probs, err := c.runClassifier()
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("model %s: %w", modelPath, err)
		}
		if len(probs) != len(labels) {
			c.Close()
			return nil, fmt.Errorf("labels %s has %d labels but model %s has %d classes", labelsPath, len(labels), modelPath, len(probs))
		}
		for _, p := range probs {
			if !contains(labels, p.Tag) {
				c.Close()
				return nil, fmt.Errorf("labels %s lacks the model's class %q", labelsPath, p.Tag)
			}
		}
	}
	return c, nil
}

// readMetadata picks the colour order and pixel range as Microsoft's
// export samples do: Image.BitmapPixelFormat Bgr8 or Rgb8, and
// Image.NominalPixelRange. Without a range, current exports (probability
// tensors, detectors) want 0–1, as the samples assume; the older Windows ML
// classifiers (classLabel and loss) want 0–255, which the sample export
// confirms: it misclassifies its own test images when fed 0–1.
func (c *CustomVision) readMetadata() error {
	c.bgr, c.scale, c.offset = false, 1.0/255, 0
	if len(c.outNames) == 1 && c.outNames[0] == "loss" {
		c.scale = 1
	}
	md, err := ort.GetModelMetadata(c.modelPath)
	if err != nil {
		return fmt.Errorf("model %s: reading metadata: %w", c.modelPath, err)
	}
	defer md.Destroy()
	if v, ok, _ := md.LookupCustomMetadataMap("Image.BitmapPixelFormat"); ok && v == "Bgr8" {
		c.bgr = true
	}
	if v, ok, _ := md.LookupCustomMetadataMap("Image.NominalPixelRange"); ok {
		switch v {
		case "NominalRange_0_255":
			c.scale = 1
		case "Normalized_0_1":
			c.scale = 1.0 / 255
		case "Normalized_1_1":
			c.scale, c.offset = 2.0/255, -1
		}
	}
	return nil
}

// Predict classifies img, or detects objects in it when detect is set.
// Predictions are sorted by probability, highest first.
func (c *CustomVision) Predict(ctx context.Context, img analyzer.Image, detect bool) ([]analyzer.Prediction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if detect != c.detector {
		if c.detector {
			return nil, fmt.Errorf("model %s is an object detector: use --detect", c.modelPath)
		}
		return nil, fmt.Errorf("model %s is a classifier and cannot detect objects: drop --detect", c.modelPath)
	}
	m, release, err := decodeImage(img)
	if err != nil {
		return nil, err
	}
	defer release()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fillInput(m)
	var preds []analyzer.Prediction
	switch {
	case c.grid:
		preds, err = c.runGrid()
	case c.detector:
		preds, err = c.runDetector()
	default:
		preds, err = c.runClassifier()
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", c.modelPath, err)
	}
	sort.SliceStable(preds, func(i, j int) bool { return preds[i].Probability > preds[j].Probability })
	return preds, nil
}

// fillInput resizes m to the model's size (stretching, as the samples'
// PIL resize does) and writes it planar in the model's colour order and range.
func (c *CustomVision) fillInput(m gocv.Mat) {
	r := gocv.NewMat()
	defer r.Close()
	interp := gocv.InterpolationArea // anti-aliased like PIL when shrinking
	if m.Cols() < c.w || m.Rows() < c.h {
		interp = gocv.InterpolationCubic
	}
	gocv.Resize(m, &r, image.Pt(c.w, c.h), 0, 0, interp)
	px, _ := r.DataPtrUint8()
	dst := c.input.GetData()
	plane := c.w * c.h
	// Mat pixels are BGR; channel k of the tensor takes Mat channel order[k].
	order := [3]int{2, 1, 0}
	if c.bgr {
		order = [3]int{0, 1, 2}
	}
	for i := 0; i < plane; i++ {
		for k := 0; k < 3; k++ {
			dst[k*plane+i] = float32(px[i*3+order[k]])*c.scale + c.offset
		}
	}
}

func (c *CustomVision) runClassifier() ([]analyzer.Prediction, error) {
	outs := []ort.Value{nil}
	if err := c.sess.Run([]ort.Value{c.input}, outs); err != nil {
		return nil, err
	}
	defer outs[0].Destroy()
	if c.probsOut {
		t, ok := outs[0].(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("expected float probabilities, got %T", outs[0])
		}
		data := t.GetData()
		if len(data) < len(c.labels) {
			return nil, fmt.Errorf("expected %d probabilities, got %d", len(c.labels), len(data))
		}
		preds := make([]analyzer.Prediction, len(c.labels))
		for i, l := range c.labels {
			preds[i] = analyzer.Prediction{Tag: l, Probability: float64(data[i])}
		}
		return preds, nil
	}
	seq, ok := outs[0].(*ort.Sequence)
	if !ok {
		return nil, fmt.Errorf("expected loss to be a sequence, got %T", outs[0])
	}
	vals, _ := seq.GetValues()
	if len(vals) != 1 {
		return nil, fmt.Errorf("expected one map in loss, got %d", len(vals))
	}
	mp, ok := vals[0].(*ort.Map)
	if !ok {
		return nil, fmt.Errorf("expected loss to hold a map, got %T", vals[0])
	}
	kv, vv, _ := mp.GetKeysAndValues()
	keys, ok1 := kv.(*ort.StringTensor)
	values, ok2 := vv.(*ort.Tensor[float32])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("expected loss to map strings to floats, got %T→%T", kv, vv)
	}
	names, err := keys.GetContents()
	if err != nil {
		return nil, err
	}
	probs := values.GetData()
	if len(names) != len(probs) {
		return nil, fmt.Errorf("loss map has %d keys but %d values", len(names), len(probs))
	}
	preds := make([]analyzer.Prediction, len(names))
	for i, n := range names {
		preds[i] = analyzer.Prediction{Tag: n, Probability: float64(probs[i])}
	}
	return preds, nil
}

func (c *CustomVision) runDetector() ([]analyzer.Prediction, error) {
	outs := []ort.Value{nil, nil, nil}
	if err := c.sess.Run([]ort.Value{c.input}, outs); err != nil {
		return nil, err
	}
	defer func() {
		for _, o := range outs {
			o.Destroy()
		}
	}()
	boxes, ok := outs[0].(*ort.Tensor[float32])
	scores, ok2 := outs[2].(*ort.Tensor[float32])
	if !ok || !ok2 {
		return nil, fmt.Errorf("expected float %s and %s, got %T and %T", cvDetBoxes, cvDetScores, outs[0], outs[2])
	}
	classes, err := intValues(outs[1])
	if err != nil {
		return nil, err
	}
	b, s := boxes.GetData(), scores.GetData()
	n := len(s)
	if len(classes) != n || len(b) != 4*n {
		return nil, fmt.Errorf("inconsistent detections: %d boxes, %d classes, %d scores", len(b)/4, len(classes), n)
	}
	preds := make([]analyzer.Prediction, 0, n)
	for i := 0; i < n; i++ {
		k := classes[i]
		if k < 0 || k >= int64(len(c.labels)) {
			return nil, fmt.Errorf("class %d is outside the %d labels of labels.txt", k, len(c.labels))
		}
		preds = append(preds, c.boxPrediction(int(k), s[i], rectF{b[4*i], b[4*i+1], b[4*i+2], b[4*i+3]}))
	}
	return preds, nil
}

// boxPrediction is a detection as the service returns it: the box clamped
// to the image, as fractions.
func (c *CustomVision) boxPrediction(class int, score float32, r rectF) analyzer.Prediction {
	x1, y1 := clamp01(float64(r.x1)), clamp01(float64(r.y1))
	x2, y2 := clamp01(float64(r.x2)), clamp01(float64(r.y2))
	return analyzer.Prediction{
		Tag: c.labels[class], Probability: float64(score),
		BoundingBox: &analyzer.RelativeBox{Left: x1, Top: y1, Width: x2 - x1, Height: y2 - y1},
	}
}

func (c *CustomVision) runGrid() ([]analyzer.Prediction, error) {
	outs := []ort.Value{nil}
	if err := c.sess.Run([]ort.Value{c.input}, outs); err != nil {
		return nil, err
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("expected a float grid, got %T", outs[0])
	}
	shape := t.GetShape()
	channels := int64(len(cvAnchors) * (5 + len(c.labels)))
	if len(shape) != 4 || shape[0] != 1 || shape[1] != channels || shape[2] <= 0 || shape[3] <= 0 {
		return nil, fmt.Errorf("expected a grid [1,%d,H,W], got %v", channels, shape)
	}
	dets := nms(c.decodeGrid(t.GetData(), int(shape[2]), int(shape[3])), cvGridIoU, false)
	dets = dets[:min(len(dets), cvGridMaxDetections)]
	preds := make([]analyzer.Prediction, len(dets))
	for i, d := range dets {
		preds[i] = c.boxPrediction(d.class, d.score, d.box)
	}
	return preds, nil
}

// decodeGrid turns a grid [A·(5+C), H, W] into candidate boxes (as fractions
// of the image) scoring above cvGridMinProb, each with its best class. It
// follows Microsoft's reference predict.py on purpose, quirks included, so
// that results match what the export's own sample prints: x and y are
// offsets added to the cell without a sigmoid, w and h scale the anchors by
// exp, objectness is a logistic, and the score is the best class's softmax
// times objectness.
// Candidates come in the reference's order (row, column, anchor) and go to
// a reused buffer, so steady-state decoding allocates nothing.
func (c *CustomVision) decodeGrid(out []float32, h, w int) []detection {
	nc, plane := len(c.labels), h*w
	stride := (5 + nc) * plane // from one anchor's channels to the next
	if c.cands == nil {
		c.cands = make([]detection, 0, plane*len(cvAnchors))
	}
	c.cands = c.cands[:0]
	for row := 0; row < h; row++ {
		for col := 0; col < w; col++ {
			for a, anchor := range cvAnchors {
				o := out[a*stride+row*w+col:] // channel k of this box is o[k*plane]
				obj := 1 / (1 + math.Exp(-float64(o[4*plane])))
				// softmax(best) = 1/Σ exp(l_k − l_best), so the best class's
				// probability needs no division per class.
				best := 0
				for k := 1; k < nc; k++ {
					if o[(5+k)*plane] > o[(5+best)*plane] {
						best = k
					}
				}
				var sum float64
				for k := 0; k < nc; k++ {
					sum += math.Exp(float64(o[(5+k)*plane] - o[(5+best)*plane]))
				}
				prob := obj / sum
				if !(prob > cvGridMinProb) { // NaN is dropped too, as in the reference
					continue
				}
				x := (float64(o[0]) + float64(col)) / float64(w)
				y := (float64(o[plane]) + float64(row)) / float64(h)
				bw := math.Exp(float64(o[2*plane])) * anchor[0] / float64(w)
				bh := math.Exp(float64(o[3*plane])) * anchor[1] / float64(h)
				c.cands = append(c.cands, detection{
					box:   rectF{float32(x - bw/2), float32(y - bh/2), float32(x + bw/2), float32(y + bh/2)},
					class: best, score: float32(prob),
				})
			}
		}
	}
	return c.cands
}

// Name implements analyzer.Predictor.
func (c *CustomVision) Name() string { return "local" }

// Labels returns the class names, in labels.txt's order (or the model's,
// when they were read from it).
func (c *CustomVision) Labels() []string { return append([]string(nil), c.labels...) }

// IsDetector reports whether the export is an object detector.
func (c *CustomVision) IsDetector() bool { return c.detector }

// ModelVersion is the model's file name and short sha256.
func (c *CustomVision) ModelVersion() string { return c.version }

// Close releases the session.
func (c *CustomVision) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil {
		c.sess.Destroy()
		c.sess = nil
	}
	if c.input != nil {
		c.input.Destroy()
		c.input = nil
	}
	return nil
}

func intValues(v ort.Value) ([]int64, error) {
	switch t := v.(type) {
	case *ort.Tensor[int64]:
		return t.GetData(), nil
	case *ort.Tensor[int32]:
		out := make([]int64, len(t.GetData()))
		for i, x := range t.GetData() {
			out[i] = int64(x)
		}
		return out, nil
	case *ort.Tensor[float32]:
		out := make([]int64, len(t.GetData()))
		for i, x := range t.GetData() {
			out[i] = int64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected integer %s, got %T", cvDetClasses, v)
}

// modelLabels reads the class names from the model when labels.txt is
// missing (missing is the error saying so).
func modelLabels(modelPath string, missing error) ([]string, error) {
	labels, err := labelsFromModel(modelPath)
	if err != nil {
		return nil, err
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("%w, and model %s carries no class names of its own (no ZipMap): put the export's labels.txt beside it", missing, modelPath)
	}
	return labels, nil
}

// readLabels reads labels.txt (splitLabels: one name per line).
func readLabels(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	labels := splitLabels(string(b))
	if len(labels) == 0 {
		return nil, fmt.Errorf("labels %s: no labels (expected one class name per line)", path)
	}
	return labels, nil
}

func has(m map[string]ort.InputOutputInfo, k string) bool { _, ok := m[k]; return ok }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

func ioString(infos []ort.InputOutputInfo) string {
	s := make([]string, len(infos))
	for i, x := range infos {
		s[i] = x.String()
	}
	return "[" + strings.Join(s, "; ") + "]"
}
