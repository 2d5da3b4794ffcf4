# tests/e2e/lib.sh — the end-to-end harness: a real fixture server, a real
# Chromium, the real agent.  Each test is a shell function named t_*; the
# runner prints "ok"/"FAIL" per test and a closing "N passed, N failed".
# Sourced by tests/e2e/run.sh and tools/demo.sh.

BIN=${IDLCM_BIN:-bin}
# absolute, so that a test may cd into a scratch directory
case $BIN in /*) ;; *) BIN=$(cd "$BIN" && pwd) ;; esac
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d /tmp/idlcm-e2e-XXXXXX)
FX_PID=; CHROME_PID=; CHROME_DIR=
passed=0; failed=0; failures=

cleanup() {
	[ -n "$FX_PID" ] && kill "$FX_PID" 2>/dev/null && wait "$FX_PID" 2>/dev/null
	if [ -n "$CHROME_PID" ]; then
		kill -TERM -"$CHROME_PID" "$CHROME_PID" 2>/dev/null
		sleep 0.3
		kill -KILL -"$CHROME_PID" "$CHROME_PID" 2>/dev/null
		wait "$CHROME_PID" 2>/dev/null
	fi
	[ -n "$CHROME_DIR" ] && rm -rf "$CHROME_DIR"
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# start_fixtures: bin/idlcm-fixtures on a free port; sets FX_URL.
start_fixtures() {
	"$BIN/idlcm-fixtures" --port 0 --root "$ROOT/tests/fixtures/apps" >"$WORK/fx.out" 2>"$WORK/fx.err" &
	FX_PID=$!
	for _ in $(seq 1 100); do
		FX_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$WORK/fx.out")
		[ -n "$FX_URL" ] && return 0
		sleep 0.05
	done
	echo "fixture server did not start:"; cat "$WORK/fx.err"; exit 1
}

# start_chromium: one shared headless Chromium; sets CHROME_HTTP (http://…).
# CHROME_FLAGS: more flags (make bench passes the ones the agent launches with).
start_chromium() {
	CHROME_DIR=$(mktemp -d /tmp/idlcm-e2e-chrome-XXXXXX)
	# setsid: its own process group, so cleanup reaches every process
	setsid chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-extensions --mute-audio --hide-scrollbars --window-size=1280,800 \
		${CHROME_FLAGS:-} --remote-debugging-port=0 --user-data-dir="$CHROME_DIR" about:blank \
		>"$CHROME_DIR/log" 2>&1 &
	CHROME_PID=$!
	for _ in $(seq 1 200); do
		# two lines (the second has no newline): port, then the path
		if [ -n "$(sed -n 2p "$CHROME_DIR/DevToolsActivePort" 2>/dev/null)" ]; then
			CHROME_HTTP="http://127.0.0.1:$(head -1 "$CHROME_DIR/DevToolsActivePort")"
			return 0
		fi
		sleep 0.05
	done
	echo "chromium did not start"; tail "$CHROME_DIR/log"; exit 1
}

# fx APP VERB [JSON]: the fixture server's control API.
# chrome_ticks: CPU clock ticks of start_chromium's whole process group so
# far (a renderer that exited is in its parent's cutime/cstime); the
# benchmarks' measure of Chromium's own work
chrome_ticks() {
	for p in $(pgrep -g "$CHROME_PID"); do cat "/proc/$p/stat" 2>/dev/null; done |
		sed 's/^.*) //' | awk '{t += $12 + $13 + $14 + $15} END {print t + 0}'
}

fx() {
	if [ -n "${3:-}" ]; then
		curl -fsS -X POST -H 'content-type: application/json' -d "$3" "$FX_URL/__fx/$1/$2"
	elif [ "$2" = state ]; then
		curl -fsS "$FX_URL/__fx/$1/state"
	else
		curl -fsS -X POST "$FX_URL/__fx/$1/$2"
	fi
}

acme_account() {
	printf '{"base_url":"%s/acme","username":"admin@acme.test","password":"acme-admin-pw"}' "$FX_URL"
}

# agent ARGS…: run bin/idlcm-agent; sets RC, OUT, ERR.
agent() {
	"$BIN/idlcm-agent" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
}

# acme ACTION [ARGS…]: run scripts/apps/acme.lua against the fixture app.
acme() {
	action=$1; shift
	agent run "$ROOT/scripts/apps/acme.lua" "$action" --account "$(acme_account)" \
		--browser "$CHROME_HTTP" --runs-dir "$WORK/runs" "$@"
}

# The coordinator's state for work directory DIR: the SQLite file DIR/co.db,
# or, when IDLCM_TEST_PG names a running PostgreSQL server's socket
# directory (tests/e2e/test_pgrest.sh), a database of its own on it.
# co_db DIR prints what --db takes; co_sql DIR SQL prints rows as sqlite3
# does (a line each, columns split by |); co_dump DIR dumps it all.
co_db() {
	if [ -z "${IDLCM_TEST_PG:-}" ]; then printf '%s/co.db' "$1"; return 0; fi
	_n=co_$(printf '%s' "$1" | md5sum | cut -c1-16)
	if [ ! -e "$1/.pgdb" ]; then
		psql -h "$IDLCM_TEST_PG" -U idlcm -d postgres -Xq -c "CREATE DATABASE $_n" >/dev/null ||
			return 1
		: >"$1/.pgdb"
	fi
	printf 'postgresql://idlcm@/%s?host=%s' "$_n" "$IDLCM_TEST_PG"
}
co_sql() {
	if [ -z "${IDLCM_TEST_PG:-}" ]; then sqlite3 "$1/co.db" "$2"; return; fi
	psql "$(co_db "$1")" -XAtq -v ON_ERROR_STOP=1 -c "$2"
}
co_dump() {
	if [ -z "${IDLCM_TEST_PG:-}" ]; then sqlite3 "$1/co.db" .dump; return; fi
	pg_dump "$(co_db "$1")"
}

fail() {
	echo "    $*"
	echo "    --- exit $RC; stdout:"; printf '%s\n' "$OUT" | sed 's/^/    | /' | tail -20
	echo "    --- stderr:"; printf '%s\n' "$ERR" | sed 's/^/    | /' | tail -20
	exit 1	# each test runs in its own subshell: this ends the test
}
expect_rc() { [ "$RC" = "$1" ] || fail "expected exit $1, got $RC"; }
expect_out() { printf '%s' "$OUT" | grep -qF -- "$1" || fail "stdout lacks: $1"; }
expect_err() { printf '%s' "$ERR" | grep -qF -- "$1" || fail "stderr lacks: $1"; }
expect_eq() { [ "$1" = "$2" ] || fail "expected \"$2\", got \"$1\"${3:+ ($3)}"; }

run_tests() {
	for f in "$@"; do . "$f"; done
	for t in $(grep -ho '^t_[a-z0-9_]* *()' "$@" | sed 's/ *()//'); do
		if [ -n "${ONLY:-}" ] && ! printf '%s' "$t" | grep -q "$ONLY"; then continue; fi
		start=$(date +%s%N)
		( $t ) >"$WORK/test.log" 2>&1
		if [ $? = 0 ]; then
			passed=$((passed + 1))
			printf '  ok   %s (%d ms)\n' "$t" $(( ($(date +%s%N) - start) / 1000000 ))
			# a passing test's figures: its lines starting "# "
			sed -n 's/^# /       /p' "$WORK/test.log"
		else
			failed=$((failed + 1)); failures="$failures $t"
			printf '  FAIL %s\n' "$t"; sed 's/^/      /' "$WORK/test.log"
		fi
	done
}
