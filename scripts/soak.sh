#!/usr/bin/env bash
# Soak: a loopback RTSP stream at 25 fps for SOAK_DURATION (default 30m),
# the server killed and restarted every SOAK_RESTART (default 2m), local
# analysis on. Reports RSS, goroutines and open gocv Mats at start and end,
# and the reconnects. Goal: RSS growth < 5 %, goroutines and Mats constant.
set -euo pipefail
export LANG=en_US.UTF-8
root=$(cd "$(dirname "$0")/.." && pwd)
duration=${SOAK_DURATION:-30m}
restart=${SOAK_RESTART:-120}
port=${SOAK_PORT:-18554}
health=${SOAK_HEALTH:-30s}
# The events stay for a look at the whole series.
events=${SOAK_EVENTS:-$root/soak-events.jsonl}
work=$(mktemp -d)
# The restarter starts servers in a subshell, so they are found by their
# command line, not as jobs.
trap 'kill $(jobs -p) 2>/dev/null || true; pkill -f "rtsp_server.py --port $port" || true; rm -rf "$work"' EXIT

cd "$root"
go build -tags matprofile -ldflags "-X github.com/sightline/sightline/internal/deps.Dir=$root/deps" -o "$work/sightline" .
ffmpeg -loglevel error -y -i /usr/share/doc/opencv-doc/examples/data/vtest.avi \
	-vf fps=25 -c:v libx264 -pix_fmt yuv420p -g 25 "$work/stream.mp4"

serve() {
	# The server loops the file: each client gets it from the start, and
	# the restarts below make the clients come back.
	/usr/bin/python3 video/videotest/rtsp_server.py --port "$port" --file "$work/stream.mp4" >/dev/null 2>&1 &
	echo $!
}
server=$(serve)
(
	while sleep "$restart"; do
		kill "$server" 2>/dev/null || true
		sleep 2
		server=$(serve)
	done
) &
restarter=$!

echo "soak: $duration of rtsp://127.0.0.1:$port/test, server restarted every ${restart}s" >&2
"$work/sightline" run --source "rtsp://127.0.0.1:$port/test" --backend local --duration "$duration" \
	--health-every "$health" --events "$events" >/dev/null
kill "$restarter" 2>/dev/null || true
python3 - "$events" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
health = [e for e in ev if e["type"] == "health"]
summary = ev[-1]
# The baseline is the first health after the first reconnect: models are
# loaded and the reconnect path has sized its buffers once. Growth from
# there on is what a shift-long run would see; the warm-up is shown too.
warm = next((h for h in health if h["frames_read"] > 100), health[0])
base = next((h for h in health if h["reconnects"] >= 1 and h["t_ms"] > warm["t_ms"]), warm)
print(f"warm-up    {warm['rss_mib']:.1f} MiB at {warm['t_ms']/1000:.0f} s → {base['rss_mib']:.1f} MiB at {base['t_ms']/1000:.0f} s (first reconnect)")
# The last health written while running; the very last is after shutdown.
end, after = health[-2], health[-1]
growth = 100 * (end["rss_mib"] - base["rss_mib"]) / base["rss_mib"]
print(f"RSS        {base['rss_mib']:.1f} MiB → {end['rss_mib']:.1f} MiB ({growth:+.1f} %, goal < 5 %)")
print(f"goroutines {base['goroutines']} → {end['goroutines']} (after shutdown {after['goroutines']})")
print(f"open Mats  {base.get('open_mats')} → {end.get('open_mats')} (after shutdown {after.get('open_mats')})")
print(f"frames {summary['frames_read']}, reconnects {summary['reconnects']}, dropped {summary.get('frames_dropped')}")
sys.exit(0 if growth < 5 else 1)
PY
