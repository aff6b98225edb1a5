package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Older Custom Vision exports (the Windows ML format: a classLabel output
// and a probability map) may come without labels.txt: their class names
// are inside the model, in the ZipMap node that builds the map. Reading
// them needs only a walk over the model's protobuf encoding, field numbers
// from onnx.proto; ONNX Runtime's API does not expose node attributes.
const (
	onnxModelGraph     = 7 // ModelProto.graph
	onnxGraphNode      = 1 // GraphProto.node
	onnxNodeOpType     = 4 // NodeProto.op_type
	onnxNodeAttribute  = 5 // NodeProto.attribute
	onnxAttrName       = 1 // AttributeProto.name
	onnxAttrInts       = 8 // AttributeProto.ints
	onnxAttrStrings    = 9 // AttributeProto.strings
	protoVarint        = 0
	protoFixed64       = 1
	protoLengthDelimit = 2
	protoFixed32       = 5
)

var errMalformedProto = errors.New("not a valid ONNX file (malformed protobuf)")

// labelsFromModel returns the class names of the model's ZipMap node, in
// the model's class order; nil when it has none.
func labelsFromModel(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	labels, err := labelsFromONNX(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return labels, nil
}

// labelsFromONNX is labelsFromModel on the model's bytes.
func labelsFromONNX(b []byte) ([]string, error) {
	var labels []string
	err := protoFields(b, func(num, typ int, _ uint64, graph []byte) error {
		if num != onnxModelGraph || typ != protoLengthDelimit {
			return nil
		}
		return protoFields(graph, func(num, typ int, _ uint64, node []byte) error {
			if num != onnxGraphNode || typ != protoLengthDelimit || labels != nil {
				return nil
			}
			var err error
			labels, err = zipMapLabels(node)
			return err
		})
	})
	return labels, err
}

// zipMapLabels returns the classlabels_strings (or _int64s) of a ZipMap
// node; nil for any other node.
func zipMapLabels(node []byte) ([]string, error) {
	var opType string
	var labels []string
	err := protoFields(node, func(num, typ int, _ uint64, data []byte) error {
		switch {
		case num == onnxNodeOpType && typ == protoLengthDelimit:
			opType = string(data)
		case num == onnxNodeAttribute && typ == protoLengthDelimit:
			l, err := classLabelsAttribute(data)
			if l != nil {
				labels = l
			}
			return err
		}
		return nil
	})
	if err != nil || opType != "ZipMap" {
		return nil, err
	}
	return labels, nil
}

// classLabelsAttribute returns the values of a classlabels_strings or
// classlabels_int64s attribute; nil for any other attribute.
func classLabelsAttribute(attr []byte) ([]string, error) {
	var name string
	var strs, ints []string
	err := protoFields(attr, func(num, typ int, v uint64, data []byte) error {
		switch {
		case num == onnxAttrName && typ == protoLengthDelimit:
			name = string(data)
		case num == onnxAttrStrings && typ == protoLengthDelimit:
			strs = append(strs, string(data))
		case num == onnxAttrInts && typ == protoVarint:
			ints = append(ints, strconv.FormatInt(int64(v), 10))
		case num == onnxAttrInts && typ == protoLengthDelimit: // packed
			for len(data) > 0 {
				x, n := binary.Uvarint(data)
				if n <= 0 {
					return errMalformedProto
				}
				ints = append(ints, strconv.FormatInt(int64(x), 10))
				data = data[n:]
			}
		}
		return nil
	})
	switch name {
	case "classlabels_strings":
		return strs, err
	case "classlabels_int64s":
		return ints, err
	}
	return nil, err
}

// protoFields calls fn with each field of the protobuf message b, in
// order: varints with their value, length-delimited fields with their
// bytes (a sub-slice of b); fixed-size fields are skipped.
func protoFields(b []byte, fn func(num, typ int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return errMalformedProto
		}
		b = b[n:]
		num, typ := int(tag>>3), int(tag&7)
		var v uint64
		var data []byte
		switch typ {
		case protoVarint:
			if v, n = binary.Uvarint(b); n <= 0 {
				return errMalformedProto
			}
			b = b[n:]
		case protoFixed64, protoFixed32:
			size := 8
			if typ == protoFixed32 {
				size = 4
			}
			if len(b) < size {
				return errMalformedProto
			}
			b = b[size:]
			continue
		case protoLengthDelimit:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errMalformedProto
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return errMalformedProto
		}
		if err := fn(num, typ, v, data); err != nil {
			return err
		}
	}
	return nil
}
