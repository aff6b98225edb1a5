#!/usr/bin/env bash
# Assembles the OCR comparison set (internal/bench/ocrset/manifest.tsv)
# into DIR (default deps/ocr-set): images copied from the project's shared/
# folder and OpenCV's documentation, PDF pages rendered at 150 dpi.
# Idempotent: files already there are kept. Prints DIR.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/deps/ocr-set}
manifest=$root/internal/bench/ocrset/manifest.tsv
shared=${SIGHTLINE_SHARED:-$root/../shared}
if [ ! -d "$shared/azure" ] && [ -n "${SIGHTLINE_MODELS:-}" ]; then
	shared=$(cd "$SIGHTLINE_MODELS/.." && pwd) # SIGHTLINE_MODELS is shared/models
fi
[ -d "$shared/azure" ] || { echo "ocr-set: no shared/azure under $shared (set SIGHTLINE_SHARED)" >&2; exit 2; }
if ! command -v pdftoppm >/dev/null; then
	echo "ocr-set: installing poppler-utils (pdftoppm)" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
fi
mkdir -p "$dir"
while IFS=$'\t' read -r name _ src; do
	case $name in '#'* | '') continue ;; esac
	case $src in
	shared:*) path=$shared/${src#shared:} ;;
	opencv:*) path=/usr/share/doc/opencv-doc/examples/${src#opencv:} ;;
	opencvhtml:*) path=/usr/share/doc/opencv-doc/opencv4/html/${src#opencvhtml:} ;;
	*) echo "ocr-set: $name: unknown source $src" >&2; exit 2 ;;
	esac
	[ -f "$path" ] || { echo "ocr-set: $name: missing $path" >&2; exit 1; }
	ext=${path##*.}
	if [ "$ext" = pdf ]; then
		[ -f "$dir/$name.png" ] || pdftoppm -r 150 -png -singlefile "$path" "$dir/$name"
	else
		[ -f "$dir/$name.$ext" ] || cp "$path" "$dir/$name.$ext"
	fi
done <"$manifest"
echo "$dir"
