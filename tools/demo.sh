#!/bin/sh
# make demo: the main job end to end.  Starts the fixture server and one
# headless Chromium, then on the acme fixture app: invite → list → update →
# list → remove → list, printing the users table after each step.  Leaves
# nothing running.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/e2e/lib.sh"

start_fixtures
start_chromium
ACCOUNT=$(acme_account)
SCRIPT="$ROOT/scripts/apps/acme.lua"
USER_ADA='{"email":"ada@example.com","display_name":"Ada Lovelace","roles":["member"]}'

step() {
	if [ -t 1 ]; then b='\033[1m'; n='\033[0m'; else b=; n=; fi
	printf "\n${b}$ idlcm-agent run scripts/apps/acme.lua %s${n}\n" "$*"
	"$BIN/idlcm-agent" run "$SCRIPT" "$@" --account "$ACCOUNT" --browser "$CHROME_HTTP" \
		--runs-dir "$WORK/runs" || { echo "demo: step failed: $*"; exit 1; }
}

echo "fixture app: $FX_URL/acme/  (admin@acme.test)"
echo "chromium:    $CHROME_HTTP"
step invite --user "$USER_ADA"
step list_users
step update --user '{"email":"ada@example.com","roles":["admin"]}'
step list_users
step remove --user '{"email":"ada@example.com"}'
step list_users
printf '\ndemo: done; the fixture server and Chromium are shut down.\n'
