// Package onnxtest writes tiny ONNX models for tests: models whose outputs
// are known constants, built at test time so that no model binaries are
// committed. It encodes the protobuf by hand (varints and length-delimited
// fields, numbered as in onnx/onnx.proto), and lays out Custom Vision export
// folders (model.onnx and labels.txt) for the local backend's tests and the
// CLI's.
package onnxtest

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/deps"
)

// Element types (TensorProto.DataType).
const (
	Float   = 1
	Int64   = 7
	Float16 = 10
)

// Tensor is a constant graph output. Exactly one of Floats and Int64s is set;
// its length is the product of Dims.
type Tensor struct {
	Name   string
	Dims   []int64
	Floats []float32
	Int64s []int64
}

func (t Tensor) elemType() int {
	if t.Int64s != nil {
		return Int64
	}
	return Float
}

// Model is a one-input graph whose outputs are constants that still depend
// on the input: each output is its value plus 0 × mean(input), so running
// the model runs the input through it.
type Model struct {
	Input     string
	InputType int     // Float or Float16
	InputDims []int64 // a negative dimension is symbolic ("N")
	Outputs   []Tensor
	// OutputDims, when set for an output, is declared instead of the
	// value's own dims (to declare symbolic dimensions, as real exports do).
	OutputDims map[string][]int64
	Metadata   [][2]string // metadata_props, key and value
}

// Bytes encodes the model as an ONNX ModelProto (IR version 8, opset 13).
func (m Model) Bytes() []byte {
	var g pb
	// input → Cast to float → ReduceMean (a scalar) → ×0 = "zero_of_input".
	g.msg(5, tensorProto("zero", nil, Float, f32bytes([]float32{0})))
	g.msg(1, node("Cast", []string{m.Input}, []string{"input_f"}, intAttr("to", Float)))
	g.msg(1, node("ReduceMean", []string{"input_f"}, []string{"input_mean"}, intAttr("keepdims", 0)))
	g.msg(1, node("Mul", []string{"input_mean", "zero"}, []string{"zero_of_input"}))
	for _, o := range m.Outputs {
		var raw []byte
		if o.Int64s != nil {
			raw = make([]byte, 8*len(o.Int64s))
			for i, v := range o.Int64s {
				binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
			}
		} else {
			raw = f32bytes(o.Floats)
		}
		g.msg(5, tensorProto(o.Name+"_value", o.Dims, o.elemType(), raw))
		g.msg(1, node("Cast", []string{"zero_of_input"}, []string{o.Name + "_zero"}, intAttr("to", int64(o.elemType()))))
		g.msg(1, node("Add", []string{o.Name + "_value", o.Name + "_zero"}, []string{o.Name}))
	}
	g.str(2, "onnxtest")
	inType := m.InputType
	if inType == 0 {
		inType = Float
	}
	g.msg(11, valueInfo(m.Input, inType, m.InputDims))
	for _, o := range m.Outputs {
		dims := o.Dims
		if d, ok := m.OutputDims[o.Name]; ok {
			dims = d
		}
		g.msg(12, valueInfo(o.Name, o.elemType(), dims))
	}

	var b pb
	b.uint(1, 8) // ir_version
	b.str(2, "sightline onnxtest")
	b.msg(7, g)
	var opset pb
	opset.str(1, "")
	opset.uint(2, 13)
	b.msg(8, opset)
	for _, kv := range m.Metadata {
		var e pb
		e.str(1, kv[0])
		e.str(2, kv[1])
		b.msg(14, e)
	}
	return b
}

// Bgr8 is the metadata real Custom Vision exports carry.
var Bgr8 = [][2]string{{"Image.BitmapPixelFormat", "Bgr8"}}

// S1Detector is a "General (compact) [S1]" detector export: input data
// [1,3,320,320] and outputs detected_boxes [1,N,4] (x1,y1,x2,y2 fractions,
// four values a box), detected_classes [1,N] and detected_scores [1,N].
func S1Detector(boxes []float32, classes []int64, scores []float32) Model {
	n := int64(len(scores))
	return Model{
		Input: "data", InputDims: []int64{1, 3, 320, 320},
		Outputs: []Tensor{
			{Name: "detected_boxes", Dims: []int64{1, n, 4}, Floats: boxes},
			{Name: "detected_classes", Dims: []int64{1, n}, Int64s: classes},
			{Name: "detected_scores", Dims: []int64{1, n}, Floats: scores},
		},
		OutputDims: map[string][]int64{
			"detected_boxes": {1, -1, 4}, "detected_classes": {1, -1}, "detected_scores": {1, -1},
		},
		Metadata: Bgr8,
	}
}

// Anchors is the number of anchor boxes a cell of a grid detector.
const Anchors = 5

// Grid is the raw output of a "General (compact)" detector export,
// [1, Anchors·(5+Classes), H, W]: for anchor a, channel a·(5+Classes)+k holds
// tx, ty, tw, th, objectness (k = 0…4) and the class logits (k = 5…).
type Grid struct {
	Classes, H, W int
	Data          []float32
}

// NewGrid is a grid in which nothing is found: every objectness logit is
// -20 (a probability of 2e-9) and everything else 0.
func NewGrid(classes, h, w int) *Grid {
	g := &Grid{Classes: classes, H: h, W: w, Data: make([]float32, Anchors*(5+classes)*h*w)}
	for row := range h {
		for col := range w {
			for a := range Anchors {
				g.Data[g.index(row, col, a, 4)] = -20
			}
		}
	}
	return g
}

func (g *Grid) index(row, col, anchor, k int) int {
	return ((anchor*(5+g.Classes)+k)*g.H+row)*g.W + col
}

// Set writes one anchor box of the cell at row, col: its offsets tx, ty,
// log-scales tw, th, objectness logit and class logits.
func (g *Grid) Set(row, col, anchor int, tx, ty, tw, th, obj float32, classLogits ...float32) {
	for k, v := range append([]float32{tx, ty, tw, th, obj}, classLogits...) {
		g.Data[g.index(row, col, anchor, k)] = v
	}
}

// GridDetector is a "General (compact)" detector export: input data
// [N,3,416,416] and one output model_outputs0, the grid.
func GridDetector(g *Grid) Model {
	return Model{
		Input: "data", InputDims: []int64{-1, 3, 416, 416},
		Outputs: []Tensor{{
			Name:   "model_outputs0",
			Dims:   []int64{1, int64(Anchors * (5 + g.Classes)), int64(g.H), int64(g.W)},
			Floats: g.Data,
		}},
		Metadata: Bgr8,
	}
}

// Export writes m and labels into a new export folder under t.TempDir().
func Export(t testing.TB, m Model, labels ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.txt"), []byte(strings.Join(labels, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CustomVisionSample is the shared sample export (a Windows ML classifier
// of hemlock and Japanese cherry, with test images), which lives only under
// SIGHTLINE_MODELS (e.g. /work/shared/models).
func CustomVisionSample(t testing.TB) string {
	t.Helper()
	dir, err := deps.Model("customvision-classifier-sample")
	if err != nil {
		t.Fatalf("Custom Vision sample not found (make test sets SIGHTLINE_MODELS=../shared/models): %v", err)
	}
	return dir
}

// pb is a protobuf message being encoded.
type pb []byte

func (b *pb) varint(v uint64) { *b = binary.AppendUvarint(*b, v) }

// uint writes a varint field (wire type 0).
func (b *pb) uint(field int, v uint64) {
	b.varint(uint64(field) << 3)
	b.varint(v)
}

// bytes writes a length-delimited field (wire type 2).
func (b *pb) bytes(field int, p []byte) {
	b.varint(uint64(field)<<3 | 2)
	b.varint(uint64(len(p)))
	*b = append(*b, p...)
}

func (b *pb) str(field int, s string) { b.bytes(field, []byte(s)) }
func (b *pb) msg(field int, m pb)     { b.bytes(field, m) }

// node is a NodeProto.
func node(op string, in, out []string, attrs ...pb) pb {
	var n pb
	for _, s := range in {
		n.str(1, s)
	}
	for _, s := range out {
		n.str(2, s)
	}
	n.str(3, op+"_"+out[0])
	n.str(4, op)
	for _, a := range attrs {
		n.msg(5, a)
	}
	return n
}

// intAttr is an AttributeProto of type INT.
func intAttr(name string, v int64) pb {
	var a pb
	a.str(1, name)
	a.uint(3, uint64(v))
	a.uint(20, 2) // AttributeType INT
	return a
}

// tensorProto is a TensorProto with raw little-endian data.
func tensorProto(name string, dims []int64, elem int, raw []byte) pb {
	var t pb
	for _, d := range dims {
		t.uint(1, uint64(d))
	}
	t.uint(2, uint64(elem))
	t.str(8, name)
	t.bytes(9, raw)
	return t
}

// valueInfo is a ValueInfoProto of a tensor; negative dims are symbolic.
func valueInfo(name string, elem int, dims []int64) pb {
	var shape pb
	for _, d := range dims {
		var dim pb
		if d < 0 {
			dim.str(2, "N") // dim_param
		} else {
			dim.uint(1, uint64(d)) // dim_value
		}
		shape.msg(1, dim)
	}
	var tt pb
	tt.uint(1, uint64(elem))
	tt.msg(2, shape)
	var typ pb
	typ.msg(1, tt)
	var v pb
	v.str(1, name)
	v.msg(2, typ)
	return v
}

func f32bytes(fs []float32) []byte {
	raw := make([]byte, 4*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return raw
}

// RunWithPrivateCache runs a package's tests with ONNX Runtime's optimised
// graphs (analyzer/local caches one for each model it loads, the tiny
// models written here included) cached in a temporary folder rather than
// the user's cache, unless SIGHTLINE_ORT_CACHE is set. For TestMain:
// os.Exit(onnxtest.RunWithPrivateCache(m)).
func RunWithPrivateCache(m *testing.M) int {
	if os.Getenv("SIGHTLINE_ORT_CACHE") == "" {
		if dir, err := os.MkdirTemp("", "sightline-ort-cache"); err == nil {
			os.Setenv("SIGHTLINE_ORT_CACHE", dir)
			defer os.RemoveAll(dir)
		}
	}
	return m.Run()
}
