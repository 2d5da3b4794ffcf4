#!/bin/sh
# End-to-end tests: the real agent, a real headless Chromium, the real
# fixture server.  Usage: tests/e2e/run.sh [test-name-pattern]
# (IDLCM_BIN picks the binaries, e.g. build/asan/bin for make asan.)
. "$(dirname "$0")/lib.sh"
ONLY=${1:-${ONLY:-}}
start_fixtures
start_chromium
echo "== e2e (fixtures $FX_URL, chromium $CHROME_HTTP)"
run_tests "$ROOT"/tests/e2e/test_*.sh
echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
