package local

import (
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sightline/sightline/internal/deps"
)

// Device is where ONNX Runtime runs the local models: its execution
// provider. The runtime library the set-up installs offers only the CPU;
// the others need an ONNX Runtime library built with their provider.
type Device string

// The devices --device accepts.
const (
	DeviceCPU      Device = "cpu"
	DeviceCUDA     Device = "cuda"
	DeviceOpenVINO Device = "openvino"
)

// Devices lists the devices in the order help shows them.
var Devices = []Device{DeviceCPU, DeviceCUDA, DeviceOpenVINO}

// ParseDevice reads a --device value.
func ParseDevice(s string) (Device, error) {
	for _, d := range Devices {
		if strings.EqualFold(s, string(d)) {
			return d, nil
		}
	}
	names := make([]string, len(Devices))
	for i, d := range Devices {
		names[i] = string(d)
	}
	return "", fmt.Errorf("unknown device %q (%s)", s, strings.Join(names, ", "))
}

func (d Device) orDefault() Device {
	if d == "" {
		return DeviceCPU
	}
	return d
}

// appendProvider puts d's execution provider first in o; ONNX Runtime
// falls back to the CPU for the operators the provider lacks. A runtime
// without the provider is an error that says so.
func appendProvider(o *ort.SessionOptions, d Device) error {
	var err error
	switch d.orDefault() {
	case DeviceCPU:
		return nil
	case DeviceCUDA:
		var cuda *ort.CUDAProviderOptions
		if cuda, err = ort.NewCUDAProviderOptions(); err == nil {
			err = o.AppendExecutionProviderCUDA(cuda)
			cuda.Destroy()
		}
	case DeviceOpenVINO:
		err = o.AppendExecutionProviderOpenVINO(map[string]string{})
	default:
		return fmt.Errorf("unknown device %q", d)
	}
	if err != nil {
		lib, _ := deps.ONNXRuntimeLib()
		return fmt.Errorf("--device %s: the ONNX Runtime library %s (version %s) has no %s execution provider; use --device cpu, or an ONNX Runtime built with it: %w",
			d, lib, ort.GetVersion(), d.provider(), err)
	}
	return nil
}

// provider is ONNX Runtime's name for d's execution provider.
func (d Device) provider() string {
	switch d {
	case DeviceCUDA:
		return "CUDA"
	case DeviceOpenVINO:
		return "OpenVINO"
	}
	return "CPU"
}
