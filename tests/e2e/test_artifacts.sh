# A remote worker's failure evidence reaches the coordinator: the worker
# PUTs its run folder's screenshot and report files to
# /v1/jobs/{id}/artifacts/{name} (bound to the attempt by its artifact
# key), the coordinator keeps them in its store, and the Jobs page serves
# them with no --artifacts-dir and no disk shared with the worker.  Uses
# the helpers of test_worker.sh (co_start, wk_start, enq, wait_done) and
# test_pages.sh (signin_token).

ART_PW=artifacts-admin-pw-0

# art_setup: a coordinator with the admin pages and NO --artifacts-dir
art_setup() {
	WD=$(mktemp -d "$WORK/art-XXXXXX")
	printf '%s\n' "$ART_PW" >"$WD/admin.pw"
	chmod 600 "$WD/admin.pw"
	CO_PORT=0
	CO_ARGS="--admin-password-file $WD/admin.pw"
	trap wk_teardown EXIT
	co_start
}

# art_login: a signed-in cookie jar in $WD/cj
art_login() {
	t=$(signin_token)
	curl -fsS -b "$WD/cj" -c "$WD/cj" -o /dev/null -d "csrf=$t&password=$ART_PW" "$CO_URL/admin/sign-in" ||
		fail "sign-in failed"
}

# art_key JOB ATTEMPT WORKER: the attempt's artifact key, as the coordinator
# derives it (HMAC-SHA256 under its sealing key)
art_key() {
	k=$(cat "${IDLCM_COORDINATOR_KEY_FILE:-$WD/co.db.key}")
	printf 'idlcm artifact key\n%s\n%s\n%s' "$1" "$2" "$3" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$k" | sed 's/^.*= *//'
}

# art_put JOB NAME FILE WORKER ATTEMPT KEY → "HTTP-CODE BODY"
art_put() {
	curl -s --path-as-is -o "$WD/put.out" -w '%{http_code}' -X PUT --data-binary "@$3" \
		-H "x-idlcm-worker: $4" -H "x-idlcm-attempt: $5" -H "x-idlcm-artifact-key: $6" \
		"$CO_URL/v1/jobs/$1/artifacts/$2"
	printf ' %s' "$(cat "$WD/put.out")"
}

# a job that fails on the acme fixture (wrong service-account password)
art_fail_job() {
	PW=wrong-password enq acme-bad invite '{"email":"eve@example.com","roles":["member"]}'
}

t_artifacts_remote_worker_uploads_its_evidence() {
	fx acme reset >/dev/null
	art_setup
	wk_start
	e=$(art_fail_job)
	wait_done "$e" 120
	expect_eq "$(jobf "$e" .status)" failed "the job failed"
	names=$(co_sql "$WD" "select name from artifacts where job_id = '$e' order by name" | tr '\n' ' ')
	case "$names" in *failure.png*) ;; *) fail "no screenshot uploaded (stored: $names; worker: $(tail -5 "$WD/wk.err"))";; esac
	case "$names" in *steps.json*) ;; *) fail "no report uploaded (stored: $names)";; esac
	expect_eq "$(jobf "$e" '.artifacts_stored | join(" ")') " "$names" "GET /v1/jobs/{id} lists them"
	# the worker's private bookkeeping never reached the job's row
	co_sql "$WD" "select result from jobs where id = '$e'" | grep -q '_upload\|artifact_key' &&
		fail "the upload key is in the job's result"
	art_login
	page=$(curl -fsS -b "$WD/cj" "$CO_URL/admin/jobs/$e")
	printf '%s' "$page" | grep -q "/admin/jobs/$e/artifacts/failure.png" || fail "the page shows no screenshot"
	printf '%s' "$page" | grep -q "artifacts/steps.json" || fail "the page lists no report"
	# the screenshot: a real PNG, from the store (nothing on this coordinator's disk)
	h=$(curl -fsS -b "$WD/cj" -D - -o "$WD/shot.png" "$CO_URL/admin/jobs/$e/artifacts/failure.png")
	printf '%s' "$h" | grep -qi '^content-type: image/png' || fail "screenshot type: $h"
	expect_eq "$(head -c 8 "$WD/shot.png" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "PNG magic"
	expect_eq "$(wc -c <"$WD/shot.png" | tr -d ' ')" \
		"$(cat "$WD"/runs/"$e"/*/failure.png | wc -c | tr -d ' ')" "the worker's bytes"
	curl -fsS -b "$WD/cj" "$CO_URL/admin/jobs/$e/artifacts/steps.json" | jq -e '.error | length > 0' >/dev/null ||
		fail "the report does not parse or names no error"
	# redacted, as the run folder is: the service account's password is in none
	for n in $names; do
		curl -fsS -b "$WD/cj" "$CO_URL/admin/jobs/$e/artifacts/$n" | grep -q 'wrong-password' &&
			fail "$n carries the account's password"
	done
	echo "# uploaded: $names"
	# the shared-disk way still works where nothing was uploaded: without
	# the rows and --artifacts-dir the file is on the worker (404) ...
	co_sql "$WD" "delete from artifacts where job_id = '$e'" >/dev/null
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$WD/cj" "$CO_URL/admin/jobs/$e/artifacts/failure.png")" \
		404 "no upload, no shared dir"
	# ... and with --artifacts-dir over the worker's runs dir it is served from disk
	kill "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	CO_ARGS="--admin-password-file $WD/admin.pw --artifacts-dir $WD/runs" co_start
	curl -fsS -b "$WD/cj" -o "$WD/shot2.png" "$CO_URL/admin/jobs/$e/artifacts/failure.png" ||
		fail "the shared-dir screenshot is not served"
	cmp -s "$WD/shot.png" "$WD/shot2.png" || fail "the shared-dir screenshot differs"
}

t_artifacts_refusals() {
	fx acme reset >/dev/null
	art_setup
	wk_start
	e=$(art_fail_job)
	wait_done "$e" 120
	kill -TERM "$WK_PID"; wait "$WK_PID" 2>/dev/null; WK_PID=
	w=$(co_sql "$WD" "select worker from jobs where id = '$e'")
	a=$(co_sql "$WD" "select attempt from jobs where id = '$e'")
	k=$(art_key "$e" "$a" "$w")
	printf 'a note\n' >"$WD/note.txt"
	# the attempt's own worker with its key: taken (a completed attempt still may)
	r=$(art_put "$e" note.txt "$WD/note.txt" "$w" "$a" "$k")
	expect_eq "${r%% *}" 201 "upload by the attempt's worker: $r"
	# anyone else, or another attempt, or a made-up key: 403
	r=$(art_put "$e" note.txt "$WD/note.txt" "$w" "$a" "$(other_token "$k")")
	expect_eq "${r%% *}" 403 "wrong key: $r"
	r=$(art_put "$e" note.txt "$WD/note.txt" other-worker "$a" "$(art_key "$e" "$a" other-worker)")
	expect_eq "${r%% *}" 403 "another worker with its own key: $r"
	printf '%s' "$r" | grep -q "is not (and was not) leased to \\\\\"other-worker\\\\\"" || fail "403 message: $r"
	r=$(art_put "$e" note.txt "$WD/note.txt" "$w" $((a + 1)) "$(art_key "$e" $((a + 1)) "$w")")
	expect_eq "${r%% *}" 403 "another attempt: $r"
	r=$(art_put "$e" note.txt "$WD/note.txt" "$w" "$a" "")
	expect_eq "${r%% *}" 400 "no key: $r"
	n0=$(co_sql "$WD" "select count(*) from artifacts where job_id = '$e'")
	# names: a plain file name of a safe charset, else 400 naming the problem
	for bad in '.hidden' 'a%2Fb' 'a%20b' 'x%5C..%5Cy' 'a%25b' 'a%3Bb'; do
		r=$(art_put "$e" "$bad" "$WD/note.txt" "$w" "$a" "$k")
		expect_eq "${r%% *}" 400 "name $bad: $r"
		printf '%s' "$r" | grep -q 'artifact name' || fail "400 for $bad names no problem: $r"
	done
	# the HTTP layer folds "..", and drops a NUL, before any handler: refused too
	for bad in '..' '..%2Fco.db' '..%2F..%2F..%2Fetc%2Fpasswd' 'a%00b'; do
		r=$(art_put "$e" "$bad" "$WD/note.txt" "$w" "$a" "$k")
		case "${r%% *}" in 2*) fail "name $bad taken: $r";; esac
	done
	expect_eq "$(co_sql "$WD" "select count(*) from artifacts where job_id = '$e'")" "$n0" "a bad name kept"
	r=$(art_put "$e" fake.png "$WD/note.txt" "$w" "$a" "$k")
	expect_eq "${r%% *}" 400 "a .png that is not a PNG: $r"
	# too big: over 5 MiB per file
	head -c $((5 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'x' >"$WD/big.txt"
	r=$(art_put "$e" big.txt "$WD/big.txt" "$w" "$a" "$k")
	expect_eq "${r%% *}" 413 "too big: $r"
	# and no more than 8 files an attempt
	for i in 1 2 3 4 5 6 7 8; do art_put "$e" "n$i.txt" "$WD/note.txt" "$w" "$a" "$k" >/dev/null; done
	r=$(art_put "$e" n9.txt "$WD/note.txt" "$w" "$a" "$k")
	expect_eq "${r%% *}" 413 "a ninth file: $r"
	# nothing refused was kept
	expect_eq "$(co_sql "$WD" "select count(*) from artifacts where job_id = '$e' and name in ('big.txt', 'fake.png', 'n9.txt')")" 0 "refused kept"
	# without the bearer token the route is closed like every worker call
	kill "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	printf 'co-token-0123456789\n' >"$WD/co.tok"; chmod 600 "$WD/co.tok"
	CO_ARGS="--admin-password-file $WD/admin.pw --token-file $WD/co.tok" co_start
	r=$(art_put "$e" note.txt "$WD/note.txt" "$w" "$a" "$k")
	expect_eq "${r%% *}" 401 "no bearer token: $r"
}

# The coordinator is away when the job ends: the complete waits in the
# worker's outbox with its upload, and both arrive once it is back.
t_artifacts_upload_waits_for_the_coordinator() {
	fx acme reset >/dev/null
	LEASE=60 art_setup
	fx acme config '{"latency_ms":400}' >/dev/null
	wk_start
	e=$(art_fail_job)
	wait_running "$e"
	kill -KILL "$CO_PID"; wait "$CO_PID" 2>/dev/null; CO_PID=
	for _ in $(seq 1 300); do
		[ "$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$e' and kind = 1")" = 1 ] && break
		sleep 0.2
	done
	expect_eq "$(sqlite3 "$WD/wk.db" "select count(*) from outbox where job_id='$e' and kind = 1")" 1 "the complete is in the outbox"
	sleep 1	# a failed try or two, then the coordinator is back
	LEASE=60 co_start
	wait_done "$e" 60
	expect_eq "$(co_sql "$WD" "select count(*) from artifacts where job_id = '$e' and name = 'failure.png'")" 1 \
		"the screenshot arrived after the outage ($(grep -c 'artifact' "$WD/wk.err") worker log lines on artifacts)"
}

# The same on PostgreSQL (test_pgrest.sh's server), when one can start.
t_pgart_artifacts_on_postgres() { pgr_run '^t_artifacts_'; }
