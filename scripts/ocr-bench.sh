#!/usr/bin/env bash
# Sightline's local OCR against @gutenye/ocr-node on the 50-image set
# (issue 18): installs the peer, assembles the set, builds bin/sightline,
# then times both, one process each, and scores them against the references.
#   [OCR_RUNS=N] scripts/ocr-bench.sh [-- extra sightline ocr flags]
# Each is timed OCR_RUNS times (default 1), alternately; medians compared.
# Writes ocr-compare.json. Takes minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
deps=${SIGHTLINE_DEPS:-$root/deps}
[ "${1:-}" = "--" ] && shift
export OCR_PEER_DIR=$(scripts/ocr-peer.sh)
export OCR_SET_DIR=$(scripts/ocr-set.sh)
export OCR_PEER_SCRIPT=$root/scripts/ocr-peer.mjs
export OCR_MODELS_DIR=${OCR_MODELS_DIR:-$deps/models/ppocr-v4}
go build -o bin/sightline .
export SIGHTLINE_BIN=$root/bin/sightline
export SIGHTLINE_OCR_ARGS="ocr --backend local $*"
export SIGHTLINE_OCR_COMPARE=1 OCR_COMPARE_JSON=$root/ocr-compare.json
go test ./internal/bench -run '^TestOCRVersusPeer$' -count 1 -v -timeout 60m
