//go:build matprofile

package pipeline

import "gocv.io/x/gocv"

// openMats counts live gocv Mats (builds with -tags matprofile).
func openMats() (int, bool) { return gocv.MatProfile.Count(), true }
