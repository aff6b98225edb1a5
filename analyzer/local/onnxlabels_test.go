package local

import (
	"encoding/binary"
	"path/filepath"
	"reflect"
	"testing"
)

// protoBytes appends a length-delimited field.
func protoBytes(b []byte, num int, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(num<<3|protoLengthDelimit))
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func protoVarintField(b []byte, num int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(num<<3|protoVarint))
	return binary.AppendUvarint(b, v)
}

// onnxWithNodes is a ModelProto whose graph holds nodes; fields a real
// model has around them (ir_version, a fixed32 and fixed64 field, an
// initializer) check that the walk skips what it does not read.
func onnxWithNodes(nodes ...[]byte) []byte {
	var graph []byte
	graph = protoBytes(graph, 5, []byte("initializer bytes"))
	for _, n := range nodes {
		graph = protoBytes(graph, onnxGraphNode, n)
	}
	var m []byte
	m = protoVarintField(m, 1, 7) // ir_version
	m = append(binary.AppendUvarint(m, 99<<3|protoFixed32), 1, 2, 3, 4)
	m = append(binary.AppendUvarint(m, 98<<3|protoFixed64), 1, 2, 3, 4, 5, 6, 7, 8)
	return protoBytes(m, onnxModelGraph, graph)
}

func onnxNode(opType string, attrs ...[]byte) []byte {
	n := protoBytes(nil, onnxNodeOpType, []byte(opType))
	for _, a := range attrs {
		n = protoBytes(n, onnxNodeAttribute, a)
	}
	return n
}

func stringsAttr(name string, values ...string) []byte {
	a := protoBytes(nil, onnxAttrName, []byte(name))
	for _, v := range values {
		a = protoBytes(a, onnxAttrStrings, []byte(v))
	}
	return a
}

func TestLabelsFromModel(t *testing.T) {
	packed := binary.AppendUvarint(binary.AppendUvarint(nil, 3), 11)
	unpacked := protoVarintField(protoVarintField(protoBytes(nil, onnxAttrName, []byte("classlabels_int64s")), onnxAttrInts, 5), onnxAttrInts, 9)
	tests := []struct {
		name  string
		model []byte
		want  []string
	}{
		{"string labels", onnxWithNodes(onnxNode("Softmax"), onnxNode("ZipMap", stringsAttr("classlabels_strings", "cat", "dog"))), []string{"cat", "dog"}},
		{"other attributes ignored", onnxWithNodes(onnxNode("ZipMap", stringsAttr("other", "x"), stringsAttr("classlabels_strings", "a"))), []string{"a"}},
		{"packed int labels", onnxWithNodes(onnxNode("ZipMap", protoBytes(protoBytes(nil, onnxAttrName, []byte("classlabels_int64s")), onnxAttrInts, packed))), []string{"3", "11"}},
		{"unpacked int labels", onnxWithNodes(onnxNode("ZipMap", unpacked)), []string{"5", "9"}},
		{"labels of another op", onnxWithNodes(onnxNode("LabelEncoder", stringsAttr("classlabels_strings", "x"))), nil},
		{"no ZipMap", onnxWithNodes(onnxNode("Conv")), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.onnx")
			writeFile(t, path, tt.model)
			got, err := labelsFromModel(path)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, bad := range [][]byte{{0x0a}, {0x0a, 0x05, 1}, {0xff}, {0x0b}} {
		path := filepath.Join(t.TempDir(), "model.onnx")
		writeFile(t, path, bad)
		if _, err := labelsFromModel(path); err == nil {
			t.Errorf("% x: want a malformed-protobuf error", bad)
		}
	}
}

// FuzzLabelsFromModel: any bytes, as a model, give labels or an
// error, never a panic or a hang.
func FuzzLabelsFromModel(f *testing.F) {
	f.Add(onnxWithNodes(onnxNode("ZipMap", stringsAttr("classlabels_strings", "cat", "dog"))))
	f.Add([]byte{0x3a, 0x80, 0x80, 0x80, 0x80, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = labelsFromONNX(b)
	})
}
