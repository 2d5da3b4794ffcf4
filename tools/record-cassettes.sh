#!/bin/sh
# Re-record the cassettes listed in tests/fixtures/cassettes/cassettes.list
# on real Chromium against the fixture server, then replay each one to make
# sure it replays as it ran.  Usage: tools/record-cassettes.sh [pattern]
# (only cassettes whose name contains pattern).  `make cassettes` runs it.
#
# The fixture server listens on a fixed port (IDLCM_CASSETTE_PORT, default
# 47615) so that re-recorded cassettes keep the same URLs.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
BIN=${IDLCM_BIN:-bin}
DIR=tests/fixtures/cassettes
LIST=$DIR/cassettes.list
PORT=${IDLCM_CASSETTE_PORT:-47615}
ONLY=${1:-}
WORK=$(mktemp -d /tmp/idlcm-cassettes-XXXXXX)
FX_PID=

cleanup() {
	[ -n "$FX_PID" ] && kill "$FX_PID" 2>/dev/null && wait "$FX_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

for b in idlcm-agent idlcm-fixtures; do
	[ -x "$BIN/$b" ] || { echo "record-cassettes: $BIN/$b is missing (run make)" >&2; exit 2; }
done
[ -r "$LIST" ] || { echo "record-cassettes: cannot read $LIST" >&2; exit 2; }

"$BIN/idlcm-fixtures" --port "$PORT" --root tests/fixtures/apps >"$WORK/fx.out" 2>"$WORK/fx.err" &
FX_PID=$!
FX=
for _ in $(seq 1 100); do
	FX=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$WORK/fx.out")
	[ -n "$FX" ] && break
	kill -0 "$FX_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$FX" ]; then
	echo "record-cassettes: the fixture server did not start on port $PORT" \
		"(set IDLCM_CASSETTE_PORT to a free port):" >&2
	cat "$WORK/fx.err" >&2
	exit 2
fi
echo "== recording cassettes (fixtures $FX)"
# A scratch vault: an invite that captures a password must store it (with
# no vault the job fails), and never in the repository's ./idlcm-vault.db.
IDLCM_VAULT="$WORK/vault.db"
IDLCM_VAULT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
unset IDLCM_VAULT_KEY_FILE
export IDLCM_VAULT IDLCM_VAULT_KEY

recorded=0; bad=0; lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in ''|'#'*) continue ;; esac
	set -f; set -- $line; set +f
	if [ "$1" = account ]; then
		[ $# -ge 3 ] || { echo "$LIST:$lineno: account NAME JSON" >&2; exit 2; }
		name=$2
		json=$(printf '%s\n' "$line" | sed 's/^account[ 	]*[^ 	]*[ 	]*//')
		printf '%s' "$json" | sed "s|\\\$FX|$FX|g" >"$WORK/account.$name"
		continue
	fi
	[ $# -ge 5 ] || { echo "$LIST:$lineno: name script action account user|-" >&2; exit 2; }
	name=$1; script=$2; action=$3; account=$4
	user=$(printf '%s\n' "$line" | sed 's/^[^ 	]*[ 	]*[^ 	]*[ 	]*[^ 	]*[ 	]*[^ 	]*[ 	]*//')
	if [ -n "$ONLY" ] && ! printf '%s' "$name" | grep -q -- "$ONLY"; then continue; fi
	[ -r "$WORK/account.$account" ] || {
		echo "$LIST:$lineno: no account line for \"$account\" above it" >&2; exit 2; }
	acc=$(cat "$WORK/account.$account")
	app=$(printf '%s' "$acc" | sed -n 's|.*"base_url":"[^"]*/\([^/"]*\)/*".*|\1|p')
	curl -fsS -X POST "$FX/__fx/$app/reset" >/dev/null || {
		echo "$name: cannot reset fixture app \"$app\"" >&2; bad=$((bad + 1)); continue; }
	set -- record "$script" "$action" --account "$acc" --cassette "$DIR/$name.jsonl" \
		--runs-dir "$WORK/runs"
	[ "$user" = - ] || set -- "$@" --user "$user"
	"$BIN/idlcm-agent" "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "  FAIL $name: record exited $rc"; sed 's/^/      /' "$WORK/err"
		bad=$((bad + 1)); continue
	fi
	# It must replay as it ran, with no browser.
	"$BIN/idlcm-agent" replay "$script" "$action" --cassette "$DIR/$name.jsonl" \
		--runs-dir "$WORK/runs" >"$WORK/rout" 2>"$WORK/rerr"
	rrc=$?
	if [ "$rrc" != "$rc" ]; then
		echo "  FAIL $name: recorded with exit $rc, replays with exit $rrc"
		sed 's/^/      /' "$WORK/rerr"; bad=$((bad + 1)); continue
	fi
	frames=$(($(wc -l <"$DIR/$name.jsonl") - 2))
	printf "  ok   %-24s exit %d, %d frames%s\n" "$name" "$rc" "$frames" \
		"$(sed -n "s/^error \(([a-z_]*)\).*/, \1/p" "$WORK/err")"
	recorded=$((recorded + 1))
done <"$LIST"
echo "cassettes: $recorded recorded, $bad failed"
[ "$bad" = 0 ]
