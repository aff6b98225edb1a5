package cli

import (
	"strings"
	"testing"
)

// The runtime the set-up installs has only the CPU provider: asking for
// another is a configuration error that says what is missing, in one line,
// before any input is read.
func TestDeviceFlag(t *testing.T) {
	img := opencvData + "messi5.jpg"
	cvModel := "../../../shared/models/customvision-classifier-sample"
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown device", []string{"ocr", "--backend", "local", "--device", "tpu", img}, exitUsage, `unknown device "tpu" (cpu, cuda, openvino)`},
		{"ocr on cuda", []string{"ocr", "--backend", "local", "--device", "cuda", img}, exitUsage, "has no CUDA execution provider"},
		{"analyze on openvino", []string{"analyze", "--backend", "local", "--features", "objects", "--device", "openvino", img}, exitUsage, "has no OpenVINO execution provider"},
		{"predict on cuda", []string{"predict", "--model", cvModel, "--device", "cuda", img}, exitUsage, "has no CUDA execution provider"},
		{"cpu by name", []string{"analyze", "--backend", "local", "--features", "objects", "--device", "CPU", img}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.msg) {
				t.Errorf("stderr %q does not say %q", stderr, tt.msg)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr is more than one line: %q", stderr)
			}
			if tt.code != exitOK && out != "" {
				t.Errorf("inputs were read despite the error: %q", out)
			}
		})
	}
}
