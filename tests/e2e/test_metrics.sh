# GET /metrics on a real bin/idlcm-coordinator: the Prometheus text format
# checked line by line (tests/e2e/prom_check.awk), the figures against
# the database, the bearer token; and every binary's --help and --version.
# curl + jq + sqlite3 (or psql), no browser.

MT_WD=; MT_PID=; MT_URL=

mt_start() { # [coordinator options…]
	: >"$MT_WD/co.out"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$(co_db "$MT_WD")" --claim-wait-s 1 "$@" \
		>"$MT_WD/co.out" 2>>"$MT_WD/co.err" &
	MT_PID=$!
	for _ in $(seq 1 100); do
		MT_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$MT_WD/co.out")
		[ -n "$MT_URL" ] && return 0
		sleep 0.05
	done
	fail "coordinator did not start: $(cat "$MT_WD/co.err")"
}

mt_teardown() {
	[ -n "$MT_PID" ] && kill "$MT_PID" 2>/dev/null && wait "$MT_PID" 2>/dev/null
	if [ -n "$MT_WD" ] && grep -q "Sanitizer" "$MT_WD/co.err" 2>/dev/null; then
		grep -A20 "Sanitizer" "$MT_WD/co.err" | head -60
		exit 1
	fi
}

mt_setup() {
	MT_WD=$(mktemp -d "$WORK/metrics-XXXXXX")
	trap mt_teardown EXIT
}

mt_post() { # PATH JSON [AUTH] → prints the body
	curl -fsS -X POST -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} \
		-d "$2" "$MT_URL$1"
}

mt_enq() { # APP ACTION USER-EMAIL → job id
	mt_post /v1/jobs "{\"integration\":\"m-$1\",\"app\":\"$1\",\"action\":\"$2\",\"user\":{\"email\":\"$3\"},\"account\":{\"base_url\":\"http://x\",\"username\":\"u\",\"password\":\"p\"}}" |
		jq -r .id
}

# mt_sample NAME LABELS → the value of the sample NAME{LABELS} ("" when absent)
mt_sample() {
	awk -v want="$1$2" '$1 == want { print $2 }' "$MT_WD/metrics"
}

mt_check() { # the checker must accept the scrape
	awk -f "$ROOT/tests/e2e/prom_check.awk" "$MT_WD/metrics" >"$MT_WD/check" 2>&1 ||
		fail "/metrics is not valid exposition format: $(cat "$MT_WD/check")"
}

t_metrics_scrape_matches_db() {
	mt_setup
	mt_start
	a=$(mt_enq acme invite a@example.com)
	mt_enq acme invite b@example.com >/dev/null
	mt_enq globex remove c@example.com >/dev/null
	mt_enq globex invite d@example.com >/dev/null
	# one job claimed, given events (one of them sent twice) and completed
	mt_post /v1/claim '{"worker":"w1","capacity":1,"wait_s":0,"apps":["acme"]}' >/dev/null
	ev='{"attempt":1,"events":[{"seq":1,"kind":"state","user":"a@example.com","from":"provisioning_awaiting","state":"inviting"}]}'
	mt_post "/v1/jobs/$a/events" "$ev" >/dev/null
	dup=$(mt_post "/v1/jobs/$a/events" "$ev" | jq -r .duplicates)
	expect_eq "$dup" 1 "the redelivered event is a duplicate"
	mt_post "/v1/jobs/$a/complete" '{"worker":"w1","attempt":1,"outcome":"ok","state":"pending_user_claim"}' >/dev/null
	# SCIM: an integration and three calls (one refused)
	tok=$(mt_post /v1/integrations '{"id":"okta","app":"acme"}' | jq -r .scim_token)
	for p in /ServiceProviderConfig /Users; do
		curl -fsS -H "authorization: Bearer $tok" "$MT_URL/scim/v2/okta$p" >/dev/null
	done
	code=$(curl -s -o /dev/null -w '%{http_code}' "$MT_URL/scim/v2/okta/Users")
	expect_eq "$code" 401 "SCIM without a token"

	ctype=$(curl -fsS -o "$MT_WD/metrics" -w '%{content_type}' "$MT_URL/metrics")
	expect_eq "$ctype" "text/plain; version=0.0.4; charset=utf-8" "content type"
	mt_check
	# every (status, outcome) the jobs table holds, with its count
	co_sql "$MT_WD" "SELECT status || ' ' || COALESCE(outcome, '') || ' ' || COUNT(*) FROM jobs
		GROUP BY status, COALESCE(outcome, '')" >"$MT_WD/db_jobs"
	[ "$(wc -l <"$MT_WD/db_jobs")" -ge 2 ] || fail "expected jobs in two states: $(cat "$MT_WD/db_jobs")"
	while read -r st n; do
		case $n in *' '*) oc=${n% *}; n=${n#* } ;; *) oc= ;; esac
		expect_eq "$(mt_sample idlcm_jobs "{status=\"$st\",outcome=\"$oc\"}")" "$n" "jobs $st/$oc"
	done <"$MT_WD/db_jobs"
	expect_eq "$(grep -c '^idlcm_jobs{' "$MT_WD/metrics")" "$(wc -l <"$MT_WD/db_jobs")" "idlcm_jobs series"
	for app in acme globex; do
		n=$(co_sql "$MT_WD" "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND app = '$app'")
		got=$(mt_sample idlcm_queue_depth "{app=\"$app\"}")
		expect_eq "${got:-0}" "$n" "queue depth of $app"
		[ "$n" = 0 ] || [ -n "$(mt_sample idlcm_queue_oldest_age_seconds "{app=\"$app\"}")" ] ||
			fail "no oldest-age gauge for $app"
	done
	expect_eq "$(mt_sample idlcm_events_applied_total '')" \
		"$(co_sql "$MT_WD" "SELECT COUNT(*) FROM events")" "events applied = rows stored"
	expect_eq "$(mt_sample idlcm_events_duplicated_total '')" 1 "events duplicated"
	expect_eq "$(mt_sample idlcm_scim_request_seconds_count '')" 3 "SCIM requests timed"
	expect_eq "$(mt_sample idlcm_scim_request_seconds_bucket '{le="+Inf"}')" 3 "+Inf bucket"
	expect_eq "$(mt_sample idlcm_claim_wait_seconds_count '')" \
		"$(co_sql "$MT_WD" "SELECT COUNT(*) FROM jobs WHERE attempt > 0")" "claims timed"
	echo "# $(grep -c '^[^#]' "$MT_WD/metrics") samples, checker passed"
}

# With --token-file, /metrics wants the same bearer token as /v1.
t_metrics_token() {
	mt_setup
	printf 'metrics-token-1234\n' >"$MT_WD/tok"; chmod 600 "$MT_WD/tok"
	mt_start --token-file "$MT_WD/tok"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$MT_URL/metrics")
	expect_eq "$code" 401 "no token"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer wrong' "$MT_URL/metrics")
	expect_eq "$code" 401 "a wrong token"
	curl -fsS -H 'authorization: Bearer metrics-token-1234' -o "$MT_WD/metrics" "$MT_URL/metrics" ||
		fail "the right token was refused"
	mt_check
}

# The checker itself is strict: each broken exposition is refused.
t_metrics_checker_refuses() {
	mt_setup
	h='# HELP m_s A histogram.
# TYPE m_s histogram'
	ok="$h
m_s_bucket{le=\"0.1\"} 1
m_s_bucket{le=\"+Inf\"} 2
m_s_sum 0.3
m_s_count 2"
	printf '%s\n' "$ok" | awk -f "$ROOT/tests/e2e/prom_check.awk" || fail "a valid histogram refused"
	i=0
	for bad in \
		'm_total 1' \
		'# TYPE m gauge
m 1' \
		'# HELP m x
# TYPE m gauge
m{a="unterminated} 1' \
		'# HELP m x
# TYPE m gauge
m{a="x"} one' \
		'# HELP m x
# TYPE m gauge
m{a="bad \q escape"} 1' \
		'# HELP m x
# TYPE m gauge
m 1
# HELP n x
# TYPE n gauge
n 1
m 2' \
		"$h
m_s_bucket{le=\"0.1\"} 3
m_s_bucket{le=\"+Inf\"} 2
m_s_sum 0.3
m_s_count 2" \
		"$h
m_s_bucket{le=\"0.1\"} 1
m_s_bucket{le=\"+Inf\"} 2
m_s_sum 0.3
m_s_count 3" \
		"$h
m_s_bucket{le=\"0.1\"} 1
m_s_bucket{le=\"1\"} 2
m_s_sum 0.3
m_s_count 2" \
		"$h
m_s_bucket{le=\"1\"} 1
m_s_bucket{le=\"0.1\"} 1
m_s_bucket{le=\"+Inf\"} 1
m_s_count 1"; do
		i=$((i + 1))
		printf '%s\n' "$bad" | awk -f "$ROOT/tests/e2e/prom_check.awk" >/dev/null &&
			fail "broken exposition $i accepted: $bad"
	done
	echo "# $i broken expositions refused"
}

# Every binary and subcommand answers --help (usage on stdout, exit 0) and
# every binary --version with "<name> <version>".
t_metrics_help_and_version() {
	for cmd in "" run record replay new check report vault "vault set" worker version help; do
		OUT=$("$BIN/idlcm-agent" $cmd --help 2>"$WORK/help.err"); RC=$?; ERR=$(cat "$WORK/help.err")
		expect_rc 0
		[ -n "$OUT" ] || fail "idlcm-agent $cmd --help printed nothing on stdout"
		expect_out "usage: idlcm-agent"
	done
	for cmd in "" "integration" "integration add" "integration list" "integration show" \
		   "integration set" "integration rotate-token" "integration delete"; do
		OUT=$("$BIN/idlcm-coordinator" $cmd --help 2>"$WORK/help.err"); RC=$?; ERR=$(cat "$WORK/help.err")
		expect_rc 0
		expect_out "usage: idlcm-coordinator"
	done
	OUT=$("$BIN/idlcm-fixtures" --help 2>"$WORK/help.err"); RC=$?; ERR=$(cat "$WORK/help.err")
	expect_rc 0
	expect_out "usage: idlcm-fixtures"
	for b in idlcm-agent idlcm-coordinator idlcm-fixtures; do
		OUT=$("$BIN/$b" --version 2>"$WORK/help.err"); RC=$?; ERR=$(cat "$WORK/help.err")
		expect_rc 0
		printf '%s\n' "$OUT" | grep -qx "$b [0-9A-Za-z][0-9A-Za-z.+_-]*" ||
			fail "$b --version printed \"$OUT\""
	done
	v1=$("$BIN/idlcm-agent" --version); v2=$("$BIN/idlcm-coordinator" --version)
	expect_eq "${v1#idlcm-agent }" "${v2#idlcm-coordinator }" "one version for every binary"
}
