# --log-format json: the coordinator, the worker (and its job children)
# and `run` write one JSON object per line, with the job's fields, and the
# secrets redacted as in the text logs.  jq reads each line on its own.

LJ_WD=; LJ_CO=; LJ_WK=

lj_teardown() {
	[ -n "$LJ_WK" ] && kill -TERM "$LJ_WK" 2>/dev/null && wait "$LJ_WK" 2>/dev/null
	[ -n "$LJ_CO" ] && kill "$LJ_CO" 2>/dev/null && wait "$LJ_CO" 2>/dev/null
	LJ_WK=; LJ_CO=
	if [ -n "$LJ_WD" ] && grep -l "Sanitizer" "$LJ_WD"/*.err 2>/dev/null; then
		grep -h -A20 "Sanitizer" "$LJ_WD"/*.err | head -60
		exit 1
	fi
}

# lj_scripts: acme.lua that also logs its password and a line of Latin-1
# through log.info (a careless script): the logger must redact it.
lj_scripts() {
	mkdir -p "$LJ_WD/apps"
	sed 's/^function app.login(page, account)$/&\n  log.info("signing in with " .. account.password .. " caf\\233")/' \
		"$ROOT/scripts/apps/acme.lua" >"$LJ_WD/apps/acme.lua"
	grep -q 'signing in with' "$LJ_WD/apps/acme.lua" || fail "could not patch acme.lua"
}

# lj_records FILE COMPONENT: every line of FILE is one JSON log record
# (ts, level, component, pid, msg); at least one is COMPONENT's.
lj_records() {
	[ -s "$1" ] || fail "$1 is empty"
	jq -R -n '[inputs | fromjson | if type == "object" and (.ts | test("^[0-9-]+T[0-9:.]+Z$"))
		and (.level | IN("error", "warn", "info", "debug")) and (.msg | type == "string")
		and (.component | type == "string") and (.pid | type == "number")
		then true else error("not a log record: \(.)") end] | length' "$1" >/dev/null 2>"$LJ_WD/jq.err" ||
		fail "$1 has a line that is not a JSON log record: $(cat "$LJ_WD/jq.err")
$(head -c 2000 "$1")"
	lj_has "$1" '.component == $c' --arg c "$2" ||
		fail "no record of component $2 in $1"
}

# lj_has FILE FILTER [JQ-ARGS…]: some record of FILE passes select(FILTER)
# (one answer for the whole file: jq 1.6's -e judges only the last line)
lj_has() {
	f=$1; q=$2; shift 2
	jq -R -n -e "$@" "[inputs | fromjson | select($q)] | length > 0" "$f" >/dev/null
}

lj_no_secret() { # FILE SECRET
	! grep -qF -- "$2" "$1" || fail "$1 shows the secret: $(grep -F -- "$2" "$1" | head -3)"
}

t_logjson_worker_and_coordinator() {
	LJ_WD=$(mktemp -d "$WORK/logjson-XXXXXX")
	trap lj_teardown EXIT
	lj_scripts
	fx acme reset >/dev/null
	pw=acme-admin-pw
	( umask 077; printf 'a-coordinator-token-0123456789\n' >"$LJ_WD/token" )
	: >"$LJ_WD/co.out"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$LJ_WD/co.db" --claim-wait-s 1 \
		--token-file "$LJ_WD/token" --log-format json >"$LJ_WD/co.out" 2>"$LJ_WD/co.err" &
	LJ_CO=$!
	for _ in $(seq 1 100); do
		url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$LJ_WD/co.out")
		[ -n "$url" ] && break
		sleep 0.05
	done
	[ -n "$url" ] || fail "coordinator did not start: $(cat "$LJ_WD/co.err")"
	# the worker takes its format from the environment (an EnvironmentFile)
	IDLCM_LOG_FORMAT=json IDLCM_LOG=debug "$BIN/idlcm-agent" worker --coordinator "$url" \
		--token-file "$LJ_WD/token" --browser "$CHROME_HTTP" --db "$LJ_WD/wk.db" \
		--runs-dir "$LJ_WD/runs" --scripts "$LJ_WD/apps" --poll-s 1 \
		>"$LJ_WD/wk.out" 2>"$LJ_WD/wk.err" &
	LJ_WK=$!
	body=$(printf '{"integration":"lj","app":"acme","action":"invite","user":{"email":"json@example.com","roles":["member"]},"account":{"base_url":"%s/acme","username":"admin@acme.test","password":"%s"}}' "$FX_URL" "$pw")
	id=$(curl -fsS -H "authorization: Bearer $(cat "$LJ_WD/token")" -d "$body" "$url/v1/jobs" | jq -r .id)
	[ -n "$id" ] && [ "$id" != null ] || fail "enqueue failed"
	for _ in $(seq 1 300); do
		st=$(curl -fsS -H "authorization: Bearer $(cat "$LJ_WD/token")" "$url/v1/jobs/$id" | jq -r .status)
		case $st in completed|failed) break;; esac
		sleep 0.2
	done
	expect_eq "$st" completed "the job (worker log: $(tail -3 "$LJ_WD/wk.err"))"
	lj_teardown

	lj_records "$LJ_WD/wk.err" worker
	lj_records "$LJ_WD/co.err" coordinator
	# the supervisor's lines about the job carry its fields
	lj_has "$LJ_WD/wk.err" '.component == "worker" and .job == $id and .app == "acme"
		and .action == "invite" and .attempt == 1
		and (.msg | startswith("job \($id): claimed"))' --arg id "$id" ||
		fail "no \"claimed\" record with job, app, action and attempt"
	# so do the job child's, which never name it: the script's line included
	lj_has "$LJ_WD/wk.err" '.component == "job" and .job == $id and .app == "acme"
		and .source == "script"
		and (.msg | startswith("signing in with [redacted] caf\ufffd"))' --arg id "$id" ||
		fail "the script's log line is not a job record with its fields"
	lj_has "$LJ_WD/co.err" '.component == "coordinator" and (.msg | startswith("listening on"))' ||
		fail "no coordinator record"
	for f in "$LJ_WD/wk.err" "$LJ_WD/co.err"; do
		lj_no_secret "$f" "$pw"
		lj_no_secret "$f" a-coordinator-token-0123456789
	done
	echo "# $(wc -l <"$LJ_WD/wk.err") worker and $(wc -l <"$LJ_WD/co.err") coordinator records parsed"
}

t_logjson_run_failure() {
	LJ_WD=$(mktemp -d "$WORK/logjson-XXXXXX")
	trap lj_teardown EXIT
	lj_scripts
	pw=wrong-Pass-\"quoted\"-77
	( umask 077; printf '{"base_url":"%s/acme","username":"admin@acme.test","password":"%s"}' \
		"$FX_URL" "$(printf '%s' "$pw" | sed 's/"/\\"/g')" >"$LJ_WD/acct.json" )
	"$BIN/idlcm-agent" run "$LJ_WD/apps/acme.lua" invite --log-format json --log-level debug \
		--user '{"email":"x@example.com","roles":["member"]}' --account @"$LJ_WD/acct.json" \
		--browser "$CHROME_HTTP" --runs-dir "$LJ_WD/runs" >"$LJ_WD/run.out" 2>"$LJ_WD/run.err"
	RC=$?
	expect_rc 1
	lj_records "$LJ_WD/run.err" run
	# the closing error is a record with its class and the evidence folder
	ev=$(jq -R -r 'fromjson | select(.level == "error" and .error_class == "needs_human") | .evidence' \
		"$LJ_WD/run.err")
	[ -n "$ev" ] && [ -d "$ev" ] || fail "no error record naming the evidence folder"
	lj_has "$LJ_WD/run.err" '.level == "debug"' ||
		fail "--log-level debug wrote no debug record"
	lj_no_secret "$LJ_WD/run.err" "$pw"
	lj_no_secret "$LJ_WD/run.err" 'wrong-Pass-\"quoted\"-77'
	# errors before the job are records too: no browser there, a bad action
	"$BIN/idlcm-agent" run "$LJ_WD/apps/acme.lua" list_users --browser http://127.0.0.1:9 \
		--log-format json >/dev/null 2>"$LJ_WD/nob.err"
	RC=$?
	expect_rc 2
	lj_records "$LJ_WD/nob.err" run
	lj_has "$LJ_WD/nob.err" '.level == "error" and (.msg | contains("127.0.0.1:9"))' ||
		fail "no error record about the browser"
	IDLCM_LOG_FORMAT=json "$BIN/idlcm-agent" run x.lua bogus >/dev/null 2>"$LJ_WD/use.err"
	RC=$?
	expect_rc 2
	lj_records "$LJ_WD/use.err" run
	# a bad value is a usage error that names the option
	"$BIN/idlcm-agent" run x.lua invite --log-format yaml >/dev/null 2>"$LJ_WD/bad.err"
	RC=$?
	expect_rc 2
	grep -q -- '--log-format wants text or json' "$LJ_WD/bad.err" || fail "no usage error"
	"$BIN/idlcm-coordinator" --log-format yaml --listen 127.0.0.1:0 --db "$LJ_WD/x.db" \
		2>"$LJ_WD/bad.err"
	RC=$?
	expect_rc 2
}
