#!/bin/sh
# make bench: wall time of whole jobs against a running Chromium, and the
# cost of single page-API calls.  Medians from one run; the machine is
# shared and noisy, so compare ratios, not absolute numbers.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
RUNS=${RUNS:-10}

start_fixtures
start_chromium

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }

job_ms() { # ACTION USER-JSON: wall ms of one `run` (fixture reset first, untimed)
	fx acme reset >/dev/null
	t0=$(date +%s%N)
	"$BIN/idlcm-agent" run "$ROOT/scripts/apps/acme.lua" "$1" ${2:+--user "$2"} \
		--account "$(acme_account)" --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" >/dev/null 2>&1 ||
		{ echo "bench: run $1 failed" >&2; exit 1; }
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

echo "== jobs: median wall time over $RUNS runs (--browser, Chromium already running)"
for spec in 'invite {"email":"ada@example.com","roles":["member"]}' \
	    'update {"email":"bob@acme.test","roles":["admin"]}' \
	    'remove {"email":"bob@acme.test"}' \
	    'list_users'; do
	action=${spec%% *}; user=; [ "$action" != "$spec" ] && user=${spec#* }
	ms=$(for _ in $(seq "$RUNS"); do job_ms "$action" "$user"; done | median)
	printf '  run acme %-12s %6s ms\n' "$action" "$ms"
done

echo "== a job that launches its own Chromium (median of 5)"
ms=$(for _ in 1 2 3 4 5; do
	fx acme reset >/dev/null
	t0=$(date +%s%N)
	"$BIN/idlcm-agent" run "$ROOT/scripts/apps/acme.lua" list_users --account "$(acme_account)" \
		--runs-dir "$WORK/runs" >/dev/null 2>&1
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
done | median)
printf '  run acme list_users (launch) %6s ms\n' "$ms"

echo "== page API calls (median per call)"
"$BIN/idlcm-agent" run "$ROOT/tests/bench/micro.lua" list_users --browser "$CHROME_HTTP" \
	--runs-dir "$WORK/runs" 2>&1 >/dev/null | sed -n 's/.*bench: /  /p'
