#!/bin/sh
# tools/demo-worker.sh — the worker loop end to end: the fixture app, the
# reference coordinator, `idlcm-agent worker` with its own Chromium.  Enqueues
# invite, update, remove and list_users for several users on acme, prints the
# coordinator's Users table each time a state changes, then stops everything
# (SIGTERM, nothing left running) and ends with the admin pages' URL.
# Usage: sh tools/demo-worker.sh   (DEMO_KEEP=1: keep serving the admin
# pages until Ctrl-C before stopping)
set -u
BIN=${IDLCM_BIN:-bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
for b in idlcm-agent idlcm-fixtures idlcm-coordinator; do
	[ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is missing: run make first"; exit 1; }
done
command -v jq >/dev/null || { echo "demo: needs jq"; exit 1; }

D=$(mktemp -d /tmp/idlcm-demo-XXXXXX)
FX=; CO=; WK=
stop() {
	[ -n "$WK" ] && kill -TERM "$WK" 2>/dev/null && wait "$WK" 2>/dev/null
	[ -n "$CO" ] && kill "$CO" 2>/dev/null && wait "$CO" 2>/dev/null
	[ -n "$FX" ] && kill "$FX" 2>/dev/null && wait "$FX" 2>/dev/null
	WK=; CO=; FX=
}
trap 'stop; rm -rf "$D"' EXIT
trap 'exit 130' INT TERM

url_of() { # FILE → the URL its "listening on URL" line names
	for _ in $(seq 1 100); do
		u=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$1" 2>/dev/null)
		[ -n "$u" ] && { echo "$u"; return 0; }
		sleep 0.05
	done
	return 1
}

"$BIN/idlcm-fixtures" --port 0 --root tests/fixtures/apps >"$D/fx.out" 2>"$D/fx.err" &
FX=$!
( umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/token"
  head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/admin.pw" )
"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$D/coordinator.db" \
	--token-file "$D/token" --admin-password-file "$D/admin.pw" --artifacts-dir "$D" \
	>"$D/co.out" 2>"$D/co.err" &
CO=$!
FX_URL=$(url_of "$D/fx.out") || { echo "demo: fixture server did not start"; cat "$D/fx.err"; exit 1; }
CO_URL=$(url_of "$D/co.out") || { echo "demo: coordinator did not start"; cat "$D/co.err"; exit 1; }
IDLCM_LOG=info "$BIN/idlcm-agent" worker --coordinator "$CO_URL" --token-file "$D/token" --slots 2 \
	--db "$D/worker.db" --runs-dir "$D/runs" --poll-s 10 >"$D/wk.out" 2>"$D/wk.log" &
WK=$!
echo "fixtures $FX_URL   coordinator $CO_URL   worker pid $WK (own Chromium)"

api() { # METHOD PATH [JSON]
	if [ -n "${3:-}" ]; then
		curl -sS -X "$1" -H "Authorization: Bearer $(cat "$D/token")" \
			-H 'content-type: application/json' -d "$3" "$CO_URL$2"
	else
		curl -sS -X "$1" -H "Authorization: Bearer $(cat "$D/token")" "$CO_URL$2"
	fi
}
ACCOUNT="{\"base_url\":\"$FX_URL/acme\",\"username\":\"admin@acme.test\",\"password\":\"acme-admin-pw\"}"
job() { # ACTION [USER-JSON]
	if [ -n "${2:-}" ]; then
		api POST /v1/jobs "{\"integration\":\"acme-prod\",\"app\":\"acme\",\"action\":\"$1\",\"user\":$2,\"account\":$ACCOUNT}"
	else
		api POST /v1/jobs "{\"integration\":\"acme-prod\",\"app\":\"acme\",\"action\":\"$1\",\"account\":$ACCOUNT}"
	fi | jq -r '"enqueued " + .id + "  " + .action + "  " + (.user.email // "")'
}

echo
echo "== enqueue"
job invite '{"email":"ada@example.com","display_name":"Ada L","roles":["member"]}'
job invite '{"email":"grace@example.com","roles":["viewer"]}'
job invite '{"email":"alice@acme.test","roles":["admin"]}'
job update '{"email":"bob@acme.test","roles":["admin"]}'
job remove '{"email":"carol@acme.test"}'
job update '{"email":"nobody@example.com","roles":["admin"]}'
job list_users

table() {
	api GET /v1/integrations/acme-prod/users | jq -r '
		["USER", "STATE", "LOGIN", "ROLES", "LAST CHANGE"],
		(.users[] | [.user, (.state // "-"), (.login_method // "-"),
		  ((.roles // []) | join(",")), (.last_change // "-")])
		| @tsv' | if command -v column >/dev/null; then column -t -s "$(printf '\t')"; else cat; fi
}
status() { api GET /v1/integrations/acme-prod | jq -r '"integration acme-prod: " + .status + "  jobs " + (.jobs | tojson)'; }

echo
last=
for _ in $(seq 1 240); do
	now=$(table)
	if [ "$now" != "$last" ]; then
		echo "-- $(date -u +%H:%M:%S)"
		echo "$now"
		last=$now
	fi
	left=$(api GET /v1/integrations/acme-prod | jq '.jobs.queued + .jobs.running')
	[ "$left" = 0 ] && break
	sleep 0.5
done
echo
status
echo
echo "== job history"
api GET "/v1/jobs?integration=acme-prod" | jq -r '.jobs[] | "\(.id)  \(.action)\t\(.user // "-")\t\(.status)  events=\(.events)" + (if .error then "  error(" + .error.class + "): " + .error.message else "" end)'

DASH="$CO_URL/admin/integrations/acme-prod/users   (admin password: $(cat "$D/admin.pw"))"
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	echo
	echo "== admin pages: $DASH"
	echo "   serving until Ctrl-C"
	keep=1
	trap 'keep=0' INT
	while [ "$keep" = 1 ] && kill -0 "$CO" 2>/dev/null; do sleep 1; done
	trap 'exit 130' INT
fi

echo
echo "== stopping (SIGTERM to the worker, then the coordinator and fixtures)"
stop
sleep 0.3
left=$(ps -eo pid,args | grep -F "$D" | grep -v grep || true)
if [ -n "$left" ]; then echo "demo: left running:"; echo "$left"; exit 1; fi
echo "all stopped; worker log tail:"
tail -3 "$D/wk.log" | sed 's/^/  /'
echo
echo "dashboard (served while the demo ran; DEMO_KEEP=1 keeps it up): $DASH"
