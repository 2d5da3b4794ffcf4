#!/bin/sh
# Replay tests: the agent against recorded cassettes, with no browser —
# this tier must pass on a machine without Chromium.  Also the script
# author's tools that need no browser (new, check, report).
# Usage: tests/replay/run.sh [test-name-pattern]
# (IDLCM_BIN picks the binaries, e.g. build/asan/bin.)
. "$(dirname "$0")/../e2e/lib.sh"
ONLY=${1:-${ONLY:-}}
case $BIN in /*) ;; *) BIN="$(pwd)/$BIN" ;; esac	# tests change directory
CASSETTES="$ROOT/tests/fixtures/cassettes"
echo "== replay (no browser; chromium on PATH: $(command -v chromium || echo none))"
run_tests "$ROOT"/tests/replay/test_*.sh
echo "replay: $passed passed, $failed failed"
[ "$failed" = 0 ]
