#!/bin/sh
# Chromium's CPU per invite job with a fresh browser context per job, one
# context kept (a new page per job) and one page kept (navigated per job):
# what reusing contexts across an integration's jobs could save (issue 11,
# (c)).  Puppeteer drives all three, signed in by saved cookies, ROUNDS
# rounds of N jobs each, alternated.  Not part of make bench; run it after
# make bench has installed bench/node_modules.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IDLCM_BIN=${IDLCM_BIN:-$ROOT/bin}; export IDLCM_BIN
. "$ROOT/tests/e2e/lib.sh"
[ -d "$ROOT/bench/node_modules/puppeteer-core" ] || { echo "run make bench first (bench/node_modules)"; exit 1; }
start_fixtures
CHROME_FLAGS="--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,SpareRendererForSitePerProcess"
start_chromium
WS=$(curl -fsS "$CHROME_HTTP/json/version" | jq -r .webSocketDebuggerUrl)
BASE="$FX_URL/acme"
HZ=$(getconf CLK_TCK)
N=${N:-10}
for round in $(seq "${ROUNDS:-3}"); do
 for mode in fresh context page; do
	fx acme reset >/dev/null
	t0=$(chrome_ticks); s0=$(date +%s%N)
	node "$ROOT/bench/context_reuse.js" "$WS" "$BASE" $mode $N "r$round$mode" || echo FAIL
	t1=$(chrome_ticks); s1=$(date +%s%N)
	awk -v m=$mode -v t=$((t1 - t0)) -v hz=$HZ -v n=$N -v ms=$(( (s1 - s0) / 1000000 )) 'BEGIN { printf "%-8s chromium %.3f CPU s/job  wall %d ms/job\n", m, t / hz / n, ms / n }'
 done
done
