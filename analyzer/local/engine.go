package local

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// engine runs a fixed-shape model: fill input(), call run(), read its
// output. ONNX Runtime is the engine Sightline uses; OpenCV DNN runs the
// same model for comparison (sightline bench).
type engine interface {
	input() []float32
	run() ([]float32, error)
	close()
}

// ortEngine is one ONNX Runtime session bound to reused tensors.
type ortEngine struct {
	session *ort.AdvancedSession
	in, out *ort.Tensor[float32]
}

func newORTEngine(path string, spec sessionSpec, inName, outName string, inShape, outShape ort.Shape) (*ortEngine, error) {
	e := &ortEngine{}
	var err error
	if e.in, err = ort.NewEmptyTensor[float32](inShape); err != nil {
		return nil, err
	}
	if e.out, err = ort.NewEmptyTensor[float32](outShape); err != nil {
		e.close()
		return nil, err
	}
	err = newSession(path, spec, func(file string, opts *ort.SessionOptions) (err error) {
		e.session, err = ort.NewAdvancedSession(file, []string{inName}, []string{outName},
			[]ort.Value{e.in}, []ort.Value{e.out}, opts)
		return err
	})
	if err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *ortEngine) input() []float32 { return e.in.GetData() }

func (e *ortEngine) run() ([]float32, error) {
	if err := e.session.Run(); err != nil {
		return nil, err
	}
	return e.out.GetData(), nil
}

func (e *ortEngine) close() {
	if e.session != nil {
		e.session.Destroy()
	}
	if e.in != nil {
		e.in.Destroy()
	}
	if e.out != nil {
		e.out.Destroy()
	}
}

// dnnEngine runs the model on OpenCV DNN with its default CPU backend.
type dnnEngine struct {
	net  gocv.Net
	blob gocv.Mat
	buf  []float32 // the blob's memory, filled in place
	out  gocv.Mat
}

func newDNNEngine(path string, inShape []int) (*dnnEngine, error) {
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		return nil, fmt.Errorf("model %s: OpenCV DNN cannot read it", path)
	}
	net.SetPreferableBackend(gocv.NetBackendOpenCV)
	net.SetPreferableTarget(gocv.NetTargetCPU)
	e := &dnnEngine{net: net, blob: gocv.NewMatWithSizes(inShape, gocv.MatTypeCV32F), out: gocv.NewMat()}
	var err error
	if e.buf, err = e.blob.DataPtrFloat32(); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *dnnEngine) input() []float32 { return e.buf }

func (e *dnnEngine) run() ([]float32, error) {
	e.net.SetInput(e.blob, "")
	e.out.Close()
	e.out = e.net.Forward("")
	if e.out.Empty() {
		return nil, fmt.Errorf("OpenCV DNN produced no output")
	}
	return e.out.DataPtrFloat32()
}

func (e *dnnEngine) close() {
	e.net.Close()
	e.blob.Close()
	e.out.Close()
}

// NewYOLOXOnDNN loads a YOLOX model like NewYOLOX but runs it on OpenCV DNN,
// with identical pre- and post-processing.
func NewYOLOXOnDNN(path string) (*YOLOX, error) {
	y, err := NewYOLOX(path)
	if err != nil {
		return nil, err
	}
	y.engine.close()
	if y.engine, err = newDNNEngine(path, []int{1, 3, y.inH, y.inW}); err != nil {
		y.lb.Close()
		return nil, err
	}
	return y, nil
}
