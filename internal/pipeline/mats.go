//go:build !matprofile

package pipeline

// openMats is unknown without -tags matprofile.
func openMats() (int, bool) { return 0, false }
