#!/usr/bin/env bash
# Runs every fuzz target in the module, one after the other, for the given
# budget each: a count of executions (default 20000x, what CI runs) or a
# duration (10m to resolve hardening issues).
#   scripts/fuzz.sh [budget] [target-regexp]
# CI counts executions because Go 1.26's fuzz coordinator can report a bare
# "context deadline exceeded" when a duration ends while a worker is busy
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
# Targets are discovered, so a new `func FuzzX` is fuzzed without editing
# this script. Fuzzing one target at a time keeps the cores for the fuzzer.
# FUZZ_PARALLEL sets the workers per target (default: GOMAXPROCS).
# Prints one summary line per target; exits 1 if any target failed (the
# failing input is kept in the package's testdata/fuzz/FuzzX/ by go test).
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:-20000x}
# go test minimises each new input for up to a minute by default: past a
# short -fuzztime that ends in "context deadline exceeded", a false failure.
minimize=${FUZZ_MINIMIZE:-2s}
filter=${2:-.}
: "${LANG:=en_US.UTF-8}"
export LANG
if [[ -z "${SIGHTLINE_MODELS:-}" && -d ../shared/models ]]; then
	SIGHTLINE_MODELS=$(cd ../shared/models && pwd)
	export SIGHTLINE_MODELS
fi
parallel=()
if [[ -n "${FUZZ_PARALLEL:-}" ]]; then
	parallel=(-parallel "$FUZZ_PARALLEL")
fi
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

failed=0
# "dir FuzzName" pairs, from every _test.go outside deps/.
targets=$(grep -rEo --include='*_test.go' --exclude-dir=deps --exclude-dir=.git '^func Fuzz[A-Za-z0-9_]+' . |
	sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)#\1 \2#' | sort -u)
while read -r dir name; do
	[[ -n "$name" ]] || continue
	[[ "$name" =~ $filter ]] || continue
	log="$logdir/$name.log"
	start=$SECONDS
	note=
	if ${GO:-go} test -run '^$' -fuzz "^${name}\$" -fuzztime "$budget" -fuzzminimizetime "$minimize" -timeout 0 "${parallel[@]}" "$dir" >"$log" 2>&1; then
		result=ok
	elif [[ $budget != *x ]] && grep -q '^    context deadline exceeded$' "$log" &&
		! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
		# go#75804: the duration ran out mid-execution; nothing failed. A
		# real finding always writes its input to testdata/fuzz.
		result=ok
		note="ended on Go's fuzz deadline race (golang/go#75804); no failing input"
	else
		result=FAIL
		failed=1
	fi
	execs=$(grep -Eo 'execs: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || true)
	printf '%-4s %-28s %-28s execs=%-10s %ds\n' "$result" "$name" "$dir" "${execs:-?}" $((SECONDS - start))
	[[ -z "$note" ]] || echo "    $note"
	if [[ $result == FAIL ]]; then
		sed 's/^/    /' "$log" | tail -40
	fi
done <<<"$targets"
exit $failed
