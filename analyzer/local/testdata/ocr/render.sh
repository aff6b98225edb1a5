#!/bin/bash
# Renders the OCR test images from the .txt files beside them (ImageMagick,
# fonts-dejavu). The PNGs are committed; rerun only to change them.
set -e
cd "$(dirname "$0")"
# render TEXT PNG WIDTH HEIGHT POINTSIZE LINE-SPACING FONT
render() {
	local args=() y=$(($6 + 10)) line
	while IFS= read -r line; do
		args+=(-annotate "+24+$y" "$line")
		y=$((y + $6))
	done <"$1"
	convert -size "$3x$4" xc:white -font "$7" -pointsize "$5" -fill black "${args[@]}" -depth 8 "$2"
}
render lines.txt lines.png 900 240 22 40 DejaVu-Sans
convert lines.png -rotate 180 lines_upside_down.png
render frame20.txt frame_1280x720_20lines.png 1280 720 20 34 DejaVu-Serif
