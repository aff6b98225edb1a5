package local

import (
	"os"
	"testing"

	"github.com/sightline/sightline/analyzer/local/onnxtest"
)

func TestMain(m *testing.M) { os.Exit(onnxtest.RunWithPrivateCache(m)) }
