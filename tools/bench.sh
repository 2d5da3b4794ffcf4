#!/bin/sh
# make bench: idlcm against Puppeteer (puppeteer-core from bench/, driving
# the same system Chromium; no browser download), side by side in one run,
# as one table.  RUNS alternated runs per figure (default 21), medians.
#   (a) one Runtime.evaluate round trip: our CDP layer (agent/cdp.c, from C),
#       the floor (bench/cdp_floor.c: bare libwebsockets), Puppeteer's CDPSession
#   (b) an invite flow (new context, navigate, fill, select, click, wait for
#       the new row): `idlcm-agent run` per job vs `node bench/flow.js` per
#       job, cold (login form) and with saved sign-in state
#   (c) jobs per minute through coordinator + worker at 1, 2 and 4 slots vs a
#       Puppeteer pool of 1, 2 and 4 doing the same jobs, cold and saved
#   (d) peak RSS and CPU seconds of one job process (the (b) runs)
# The machine is shared and noisy: read ratios, not absolute numbers.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IDLCM_BIN=${IDLCM_BIN:-$ROOT/bin}; export IDLCM_BIN
. "$ROOT/tests/e2e/lib.sh"
RUNS=${RUNS:-21}
RTT_N=${RTT_N:-100}
POOL_JOBS=${POOL_JOBS:-12}
FLOW=$ROOT/bench/apps/acme_flow.lua

# node and puppeteer-core (npm ci from the committed lock; no Chromium download)
command -v node >/dev/null && command -v npm >/dev/null || sh "$ROOT/tools/deps.sh" nodejs npm || exit 1
if [ ! -d "$ROOT/bench/node_modules/puppeteer-core" ]; then
	(cd "$ROOT/bench" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi
make -s -C "$ROOT" build/release/bench/cdp_rtt >/dev/null || exit 1

start_fixtures
# the flags the agent launches its own Chromium with (agent/browser.c):
# one renderer per job's context instead of three; both sides run on it
CHROME_FLAGS=${CHROME_FLAGS-"--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,SpareRendererForSitePerProcess"}
start_chromium
WS=$(curl -fsS "$CHROME_HTTP/json/version" | jq -r .webSocketDebuggerUrl)
BASE="$FX_URL/acme"
ACCOUNT=$(acme_account)
median() { sort -n | awk '{a[NR]=$1} END {if (!NR) {print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f\n", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
R=$WORK/bench; mkdir -p "$R"
echo "== make bench: $RUNS alternated runs per figure (fixtures $FX_URL)" >&2

# ---- (a) one round trip
echo "-- (a) Runtime.evaluate round trips ($RUNS x $RTT_N)" >&2
for i in $(seq "$RUNS"); do
	"$BIN/idlcm-cdp-floor" --rtt "$RTT_N" "$WS" | median >>"$R/a.floor"
	"$ROOT/build/release/bench/cdp_rtt" "$RTT_N" "$WS" | median >>"$R/a.ours"
	node "$ROOT/bench/flow.js" rtt "$WS" "$RTT_N" | median >>"$R/a.pptr"
done

# ---- (b) + (d) one invite flow per process
HZ=$(getconf CLK_TCK)
# one_run OUT-PREFIX CMD…: wall ms, peak RSS KB and CPU s of one process
one_run() {
	out=$1; shift
	c0=$(chrome_ticks)
	t0=$(now_ms)
	/usr/bin/time -f "%M %U %S" -o "$R/time" "$@" >"$R/last.out" 2>"$R/last.err" ||
		{ echo "bench: failed: $*" >&2; tail -5 "$R/last.err" >&2; exit 1; }
	echo $(( $(now_ms) - t0 )) >>"$R/$out.ms"
	sleep 0.3	# the job's renderer exits (disposed) and is counted here
	echo "$(chrome_ticks) $c0" | awk -v hz="$HZ" '{print ($1 - $2) / hz}' >>"$R/$out.chrome"
	awk '{print $1 / 1024 >> "'"$R/$out.rss"'"; print $2 + $3 >> "'"$R/$out.cpu"'"}' "$R/time"
}
ours_invite() { # EMAIL
	"$BIN/idlcm-agent" run "$FLOW" invite --user "{\"email\":\"$1\",\"roles\":[\"member\"]}" \
		--account "$ACCOUNT" --browser "$CHROME_HTTP" --runs-dir "$R/runs"
}
export IDLCM_VAULT="$R/vault.db"
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
for mode in cold saved; do
	echo "-- (b) invite flow per job, $mode ($RUNS runs each)" >&2
	fx acme reset >/dev/null
	rm -f "$R/pptr.cookies" "$IDLCM_VAULT"
	if [ $mode = saved ]; then
		export IDLCM_VAULT_KEY="$KEY"
		# one login each, untimed: the state the timed runs start from
		ours_invite "warm-ours@bench.test" >/dev/null 2>&1
		node "$ROOT/bench/flow.js" invite "$WS" "$BASE" "warm-pptr@bench.test" "$R/pptr.cookies"
	else
		unset IDLCM_VAULT_KEY
	fi
	for i in $(seq "$RUNS"); do
		one_run "b.$mode.ours" "$BIN/idlcm-agent" run "$FLOW" invite \
			--user "{\"email\":\"b-$mode-ours-$i@bench.test\",\"roles\":[\"member\"]}" \
			--account "$ACCOUNT" --browser "$CHROME_HTTP" --runs-dir "$R/runs" --json
		jq -r 'select(.kind == "result") | .sign_in' "$R/last.out" >>"$R/signin.$mode"
		if [ $mode = saved ]; then
			one_run "b.$mode.pptr" node "$ROOT/bench/flow.js" invite "$WS" "$BASE" \
				"b-$mode-pptr-$i@bench.test" "$R/pptr.cookies"
		else
			one_run "b.$mode.pptr" node "$ROOT/bench/flow.js" invite "$WS" "$BASE" "b-$mode-pptr-$i@bench.test"
		fi
	done
done
unset IDLCM_VAULT_KEY

# ---- (c) throughput through coordinator + worker vs a Puppeteer pool
co_up() {
	: >"$R/co.out"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$R/co-$1.db" --lease-s 60 \
		--claim-wait-s 1 >"$R/co.out" 2>>"$R/co.err" &
	CO=$!
	for _ in $(seq 100); do
		CO_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$R/co.out")
		[ -n "$CO_URL" ] && return 0
		sleep 0.05
	done
	echo "bench: the coordinator did not start" >&2; exit 1
}
enqueue() { # PREFIX N
	for k in $(seq "$2"); do
		curl -fsS -X POST -H 'content-type: application/json' -d "{\"integration\":\"bench\",\"app\":\"acme_flow\",\"action\":\"invite\",\"account\":$ACCOUNT,\"user\":{\"email\":\"$1-$k@bench.test\",\"roles\":[\"member\"]}}" \
			"$CO_URL/v1/jobs" >/dev/null || exit 1
	done
}
done_count() { sqlite3 "$R/co-$1.db" "select count(*) from jobs where status in ('completed','failed')"; }
worker_jobs_per_min() { # SLOTS MODE
	tag="c$1$2"
	co_up "$tag"
	[ "$2" = saved ] && export IDLCM_VAULT_KEY="$KEY" IDLCM_VAULT="$R/vault-$tag.db"
	IDLCM_LOG=warn "$BIN/idlcm-agent" worker --coordinator "$CO_URL" --slots "$1" \
		--browser "$CHROME_HTTP" --db "$R/wk-$tag.db" --runs-dir "$R/runs" \
		--scripts "$ROOT/bench/apps" --poll-s 1 2>>"$R/wk.err" &
	WK=$!
	# a first job, untimed: the worker is up, the sign-in state saved
	enqueue "$tag-warm" 1
	for _ in $(seq 600); do [ "$(done_count "$tag")" -ge 1 ] && break; sleep 0.1; done
	t0=$(now_ms)
	enqueue "$tag" "$POOL_JOBS"
	want=$((POOL_JOBS + 1))
	for _ in $(seq 3000); do [ "$(done_count "$tag")" -ge "$want" ] && break; sleep 0.05; done
	ms=$(( $(now_ms) - t0 ))
	failed=$(sqlite3 "$R/co-$tag.db" "select count(*) from jobs where status = 'failed'")
	[ "$failed" = 0 ] || echo "bench: $failed worker job(s) failed ($tag)" >&2
	kill -TERM "$WK"; wait "$WK" 2>/dev/null
	kill "$CO"; wait "$CO" 2>/dev/null
	unset IDLCM_VAULT_KEY
	awk -v n="$POOL_JOBS" -v ms="$ms" 'BEGIN {printf "%.1f", n * 60000 / ms}'
}
pool_jobs_per_min() { # N MODE
	tag="p$1$2"
	rm -f "$R/$tag.cookies.json"
	saved=; [ "$2" = saved ] && saved=saved
	# a first job, untimed (the saved cookies come from it)
	node "$ROOT/bench/flow.js" pool "$WS" "$BASE" 1 1 "$R/$tag-warm" $saved >/dev/null
	[ -n "$saved" ] && cp "$R/$tag-warm.cookies.json" "$R/$tag.cookies.json"
	ms=$(node "$ROOT/bench/flow.js" pool "$WS" "$BASE" "$1" "$POOL_JOBS" "$R/$tag" $saved) || exit 1
	awk -v n="$POOL_JOBS" -v ms="$ms" 'BEGIN {printf "%.1f", n * 60000 / ms}'
}
for mode in cold saved; do
	for n in 1 2 4; do
		echo "-- (c) $POOL_JOBS jobs, $n concurrent, $mode" >&2
		fx acme reset >/dev/null
		echo "$(worker_jobs_per_min $n $mode)" >"$R/c.$mode.$n.ours"
		echo "$(pool_jobs_per_min $n $mode)" >"$R/c.$mode.$n.pptr"
	done
done

# ---- the table
m() { median <"$R/$1"; }
chrome=$(chromium --version 2>/dev/null | head -1)
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
pv=$(node -e 'console.log(require(process.argv[1]).version)' "$ROOT/bench/node_modules/puppeteer-core/package.json")
echo
echo "make bench — $(date -u '+%Y-%m-%d %H:%M UTC') — $(uname -m), $(nproc) cores ($cpu), $chrome,"
echo "node $(node --version), puppeteer-core $pv; medians of $RUNS alternated runs; (c): $POOL_JOBS jobs per cell"
echo
printf '%-46s %10s %10s %10s %8s  %s\n' "measure" "idlcm" "floor" "puppeteer" "ratio" "target"
fa=$(m a.ours); ff=$(m a.floor); fp=$(m a.pptr)
printf '%-46s %10s %10s %10s %8s  %s\n' "(a) Runtime.evaluate round trip, µs" "$fa" "$ff" "$fp" "$(ratio "$fa" "$ff")" "≤ 1.10 × floor"
printf '%-46s %10s %10s %10s %8s  %s\n' "    (idlcm / puppeteer)" "" "" "" "$(ratio "$fa" "$fp")" ""
for mode in cold saved; do
	o=$(m b.$mode.ours.ms); p=$(m b.$mode.pptr.ms)
	t="≤ 0.40 ×"; [ $mode = saved ] && t="(≤ 0.25 × prewarmed: see (c))"
	printf '%-46s %10s %10s %10s %8s  %s\n' "(b) invite flow per job process, $mode, ms" "$o" "" "$p" "$(ratio "$o" "$p")" "$t"
done
for mode in cold saved; do
	for n in 1 2 4; do
		o=$(cat "$R/c.$mode.$n.ours"); p=$(cat "$R/c.$mode.$n.pptr")
		t=""; [ $n = 4 ] && { [ $mode = cold ] && t="≥ 2 ×" || t="≥ 3 ×"; }
		printf '%-46s %10s %10s %10s %8s  %s\n' "(c) jobs/min, $n concurrent, $mode" "$o" "" "$p" "$(ratio "$o" "$p")" "$t"
	done
done
o=$(m b.cold.ours.rss); p=$(m b.cold.pptr.rss)
printf '%-46s %10s %10s %10s %8s  %s\n' "(d) peak RSS per job process, MB" "$o" "" "$p" "$(ratio "$o" "$p")" "≤ 8 MB"
o=$(m b.cold.ours.cpu); p=$(m b.cold.pptr.cpu)
printf '%-46s %10s %10s %10s %8s  %s\n' "(d) CPU seconds per job process" "$o" "" "$p" "$(ratio "$o" "$p")" ""
o=$(m b.cold.ours.chrome); p=$(m b.cold.pptr.chrome)
printf '%-46s %10s %10s %10s %8s  %s\n' "    Chromium's CPU seconds per (b) cold job" "$o" "" "$p" "$(ratio "$o" "$p")" ""
o=$(m b.saved.ours.chrome); p=$(m b.saved.pptr.chrome)
printf '%-46s %10s %10s %10s %8s  %s\n' "    Chromium's CPU seconds per (b) saved job" "$o" "" "$p" "$(ratio "$o" "$p")" ""
echo
echo "ratio: idlcm / floor in (a), idlcm / puppeteer elsewhere.  Puppeteer runs the same"
echo "steps (bench/flow.js) on the same Chromium; our jobs run bench/apps/acme_flow.lua."
echo "Chromium: ${CHROME_FLAGS:-no extra flags}; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(b) our runs signed in: cold $(sort "$R/signin.cold" | uniq -c | tr -s ' \n' ' '), saved $(sort "$R/signin.saved" | uniq -c | tr -s ' \n' ' ')"
