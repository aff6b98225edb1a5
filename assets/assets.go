// Package assets holds files built into the binary: the app icon and the
// COCO class names of the default detector.
package assets

import _ "embed"

// Icon is the app icon (PNG).
//
//go:embed icon.png
var Icon []byte
