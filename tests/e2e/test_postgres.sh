# The coordinator on PostgreSQL (issue 13): a real PostgreSQL server from
# Debian's package, started in a temporary directory for each test (as an
# unprivileged user: the server refuses to run as root), two coordinator
# processes on it and workers that fail over between them.

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# pg_start: the server on a unix socket in $PG_DIR (no TCP port to find
# or collide on); sets PG_URL.  Fails with PG_SKIP saying why when no
# server can start here.
pg_start() {
	PG_BIN=$(pg_bindir)
	if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/initdb" ]; then
		PG_SKIP="no PostgreSQL server installed (/usr/lib/postgresql/*/bin/postgres: make deps installs Debian's postgresql)"
		return 1
	fi
	PG_DIR=$(mktemp -d /tmp/idlcm-pg-XXXXXX)
	PG_AS=
	if [ "$(id -u)" = 0 ]; then
		PG_USER=${IDLCM_PG_USER:-nobody}
		if ! id "$PG_USER" >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
			PG_SKIP="running as root and cannot switch to an unprivileged user ($PG_USER) for the server"
			return 1
		fi
		chown "$PG_USER" "$PG_DIR"
		PG_AS="runuser -u $PG_USER --"
	fi
	if ! $PG_AS "$PG_BIN/initdb" -D "$PG_DIR/data" -U idlcm --auth=trust -E UTF8 --no-sync \
		>"$PG_DIR/initdb.log" 2>&1; then
		PG_SKIP="initdb cannot make a cluster here: $(tail -2 "$PG_DIR/initdb.log" | tr '\n' ' ')"
		return 1
	fi
	# durability off: a test's database dies with it
	$PG_AS "$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -c listen_addresses= -p 5432 \
		-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		-c max_connections=30 >"$PG_DIR/server.log" 2>&1 &
	for _ in $(seq 1 300); do
		"$PG_BIN/pg_isready" -q -h "$PG_DIR" -p 5432 && break
		sleep 0.1
	done
	if ! "$PG_BIN/createdb" -h "$PG_DIR" -p 5432 -U idlcm idlcm 2>"$PG_DIR/createdb.err"; then
		PG_SKIP="the server did not start: $(tail -3 "$PG_DIR/server.log" "$PG_DIR/createdb.err" | tr '\n' ' ')"
		return 1
	fi
	PG_URL="postgresql://idlcm@/idlcm?host=$PG_DIR&port=5432"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		pid=$(head -1 "$PG_DIR/data/postmaster.pid")
		kill -INT "$pid" 2>/dev/null	# fast shutdown
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}

psql_q() { "$PG_BIN/psql" -h "$PG_DIR" -p 5432 -U idlcm -d idlcm -Atqc "$1"; }

PGT_PIDS=
pgt_teardown() {
	for p in $PGT_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PGT_PIDS; do wait "$p" 2>/dev/null; done
	PGT_PIDS=
	pg_stop
	if [ -n "${PD:-}" ] && grep -l "Sanitizer" "$PD"/*.err 2>/dev/null; then
		grep -h -A20 "Sanitizer" "$PD"/*.err | head -60
		exit 1
	fi
}

# pgt_co NAME [ARGS…]: a coordinator on the database; sets CO_URL and CO_PID
pgt_co() {
	name=$1; shift
	: >"$PD/$name.out"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$PG_URL" --key-file "$PD/key" \
		--claim-wait-s 2 "$@" >"$PD/$name.out" 2>>"$PD/$name.err" &
	CO_PID=$!
	PGT_PIDS="$PGT_PIDS $CO_PID"
	for _ in $(seq 1 200); do
		CO_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$PD/$name.out")
		[ -n "$CO_URL" ] && return 0
		kill -0 "$CO_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "coordinator $name did not start: $(cat "$PD/$name.err")"
}

pgt_setup() {
	PD=$(mktemp -d "$WORK/pg-XXXXXX")
	trap pgt_teardown EXIT
	if ! pg_start; then
		echo "# skipped: $PG_SKIP"
		exit 0
	fi
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PD/key"
	chmod 600 "$PD/key"
}

# enqueue_n URL FROM TO: jobs drain-FROM … drain-TO, on one connection
enqueue_n() {
	for k in $(seq "$2" "$3"); do
		printf 'url = "%s/v1/jobs"\nheader = "content-type: application/json"\n' "$1"
		printf 'data = "{\\"integration\\":\\"drain\\",\\"app\\":\\"drain\\",\\"action\\":\\"list_users\\",\\"idempotency_key\\":\\"drain-%d\\"}"\n' "$k"
		printf 'output = "/dev/null"\nnext\n'
	done | sed '$d' >"$PD/enqueue-$2.curl"
	curl -fsS -K "$PD/enqueue-$2.curl" || fail "cannot enqueue jobs $2-$3 at $1"
}

# The protocol on PostgreSQL, call by call, across two coordinators: a long
# poll on one is answered when the other queues a job (LISTEN/NOTIFY), a
# redelivered event batch counts as duplicates on either, the schema is
# counted in schema_version, and a lease expired under one coordinator is
# requeued by the other.
t_postgres_protocol_across_coordinators() {
	pgt_setup
	pgt_co a --test-hooks --lease-s 2; A=$CO_URL
	pgt_co b --claim-wait-s 20; B=$CO_URL
	"$BIN/idlcm-coordinator" integration list --db "$PD/probe.db" >/dev/null 2>&1
	expect_eq "$(psql_q "select version from schema_version")" \
		"$(sqlite3 "$PD/probe.db" "pragma user_version")" "schema steps on PostgreSQL and SQLite"
	start=$(date +%s%N)
	curl -fsS -X POST -d '{"worker":"w1","capacity":1,"wait_s":20}' "$B/v1/claim" >"$PD/claim.json" &
	cpid=$!
	sleep 1
	curl -fsS -X POST -d '{"integration":"i1","app":"acme","action":"invite","idempotency_key":"k1","user":{"email":"a@x.test","roles":["admin"]}}' \
		"$A/v1/jobs" >/dev/null || fail "enqueue on a"
	wait "$cpid"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_eq "$(jq -r '.jobs[0].id' "$PD/claim.json")" "j1" "claim on b woken by a job queued on a"
	[ "$ms" -lt 15000 ] || fail "the claim on b waited $ms ms: not woken by a's NOTIFY"
	echo "# a long poll on b answered $ms ms after it started (a queued the job at 1000 ms)"
	# the same idempotency key on the other coordinator: the same job
	expect_eq "$(curl -fsS -X POST -d '{"integration":"i1","app":"acme","action":"invite","idempotency_key":"k1","user":{"email":"a@x.test","roles":["admin"]}}' "$B/v1/jobs" | jq -c .)" \
		'{"id":"j1","existing":true}' "idempotency across coordinators"
	ev='{"attempt":1,"events":[{"seq":1,"kind":"state","user":"a@x.test","state":"invited"},{"seq":2,"kind":"log","message":"x"}]}'
	expect_eq "$(curl -fsS -X POST -d "$ev" "$A/v1/jobs/j1/events" | jq -c .)" '{"applied":2,"duplicates":0}' "events on a"
	expect_eq "$(curl -fsS -X POST -d "$ev" "$B/v1/jobs/j1/events" | jq -c .)" '{"applied":0,"duplicates":2}' "the same events again on b"
	expect_eq "$(psql_q "select count(*) from events where job_id = 'j1'")" 2 "event rows"
	expect_eq "$(psql_q "select state from users where integration = 'i1' and user_key = 'a@x.test'")" invited "user state"
	expect_eq "$(curl -fsS -X POST -d '{"attempt":1,"outcome":"ok","state":"invited"}' "$B/v1/jobs/j1/complete" | jq -c .)" \
		'{"already":false}' "complete on b"
	# a job claimed through b, never heartbeated: its 2 s lease (a's
	# default) expires and a claim on a requeues and takes it
	curl -fsS -X POST -d '{"integration":"i1","app":"acme","action":"remove","user":{"email":"b@x.test"}}' "$A/v1/jobs" >/dev/null
	expect_eq "$(curl -fsS -X POST -d '{"worker":"w2","capacity":1,"wait_s":0}' "$B/v1/claim" | jq -r '.jobs[0].id')" j2 "claim of j2 on b"
	sleep 2.5
	expect_eq "$(curl -fsS -X POST -d '{"worker":"w3","capacity":5,"wait_s":0}' "$A/v1/claim" | jq -c '[.jobs[] | [.id, .attempt]]')" \
		'[["j2",2]]' "j2 requeued by a after its lease expired under b"
	expect_eq "$(curl -fsS "$A/v1/jobs/j1" | jq -r '.status + " " + (.events|tostring)')" "completed 2" "j1 seen from a"
	expect_eq "$(curl -fsS "$A/v1/integrations/i1" | jq -c .jobs)" \
		'{"queued":0,"running":1,"completed":1,"failed":0}' "job counts seen from a"
}

# The drill: two coordinator processes on one PostgreSQL, four workers
# that know both, 1,000 jobs; one coordinator is SIGKILLed a third of the
# way through and its workers fail over to the other.  Every job is done
# exactly once (finished in PostgreSQL; run by one worker under one
# attempt, in all the workers' stores) and every event is stored once.
t_postgres_drill_two_coordinators_one_killed() {
	n=${PG_DRAIN_N:-1000}
	case "$BIN" in *asan*) n=100; echo "# ASan build: draining $n jobs (1,000 in the release tier)";; esac
	pgt_setup
	pgt_co a --lease-s 10; A=$CO_URL; A_PID=$CO_PID
	pgt_co b --lease-s 10; B=$CO_URL
	half=$((n / 2))
	enqueue_n "$A" 1 "$half"
	enqueue_n "$B" $((half + 1)) "$n"
	expect_eq "$(psql_q "select count(*) from jobs")" "$n" "jobs queued through both coordinators"
	for w in 1 2 3 4; do
		# two workers know a first, two b first: both serve from the start
		case $w in 1|2) first=$A; second=$B;; *) first=$B; second=$A;; esac
		IDLCM_LOG=info "$BIN/idlcm-agent" worker --coordinator "$first" --coordinator "$second" \
			--worker-id "w$w" --slots 1 --db "$PD/wk$w.db" --runs-dir "$PD/runs$w" \
			--scripts "$ROOT/tests/e2e/scripts/speed" --browser "$CHROME_HTTP" \
			--prewarm-max-ms 3000 --poll-s 2 --retry-base 200 --retry-max 1000 --grace 5000 \
			>"$PD/wk$w.out" 2>"$PD/wk$w.err" &
		PGT_PIDS="$PGT_PIDS $!"
	done
	t0=$(date +%s)
	done_q="select count(*) from jobs where status in ('completed', 'failed')"
	killed=
	# no bound on the whole (a loaded machine runs a job in seconds, not
	# ms): the drill fails when no job finishes for 3 minutes
	last=-1; moved_at=$t0
	while [ $(( $(date +%s) - moved_at )) -lt 180 ]; do
		d=$(psql_q "$done_q")
		[ "$d" != "$last" ] && { last=$d; moved_at=$(date +%s); }
		if [ -z "$killed" ] && [ "$d" -ge $((n / 3)) ]; then
			kill -KILL "$A_PID"
			killed=$d
			echo "# coordinator a SIGKILLed with $d of $n jobs done"
		fi
		[ "$d" -ge "$n" ] && break
		sleep 0.5
	done
	secs=$(( $(date +%s) - t0 ))
	[ -n "$killed" ] || fail "the drain ended before coordinator a could be killed"
	[ "$(psql_q "$done_q")" -ge "$n" ] ||
		fail "stuck: $(psql_q "$done_q") of $n jobs done after $secs s, none for 3 minutes; $(psql_q "select status, count(*) from jobs group by 1" | tr '\n' ' ')"
	echo "# $n jobs in $secs s on two coordinators and four workers"
	# A job fails only for the browser's sake (a machine so loaded that
	# Chromium stops answering for 10 s): transient, said so, and never
	# for the coordinators' sake
	failed=$(psql_q "select count(*) from jobs where status = 'failed'")
	if [ "$failed" != 0 ]; then
		echo "# $failed job(s) failed in the browser: $(psql_q "select error from jobs where status = 'failed' limit 1")"
		expect_eq "$(psql_q "select count(*) from jobs where status = 'failed' and error not like '%\"class\":\"transient\"%'")" 0 \
			"jobs failed other than transiently"
	fi
	expect_eq "$(psql_q "select count(*) from jobs where status = 'completed' and outcome = 'ok'")" "$((n - failed))" "jobs completed"
	# done exactly once: each job ran under one attempt in one worker (a
	# transient retry there is the same attempt's second try)
	for w in 1 2 3 4; do sqlite3 "$PD/wk$w.db" "select distinct job_id || ' w$w/' || attempt from runs"; done |
		sort >"$PD/runs.txt"
	expect_eq "$(wc -l <"$PD/runs.txt" | tr -d ' ')" "$n" "(job, worker, attempt) runs in all the workers"
	expect_eq "$(cut -d' ' -f1 "$PD/runs.txt" | uniq -d | head -3 | tr '\n' ' ')" "" "jobs run by two workers or under two attempts"
	# every event stored once: what the workers delivered, by (job, seq),
	# is what PostgreSQL holds; none lost, none twice
	for w in 1 2 3 4; do
		sqlite3 "$PD/wk$w.db" "select job_id || ' ' || seq from outbox where kind = 0 and status = 1"
	done | sort -u >"$PD/sent.txt"
	psql_q "select job_id || ' ' || seq from events" | sort >"$PD/stored.txt"
	expect_eq "$(wc -l <"$PD/stored.txt" | tr -d ' ')" "$(wc -l <"$PD/sent.txt" | tr -d ' ')" "events stored / delivered"
	expect_eq "$(cmp "$PD/sent.txt" "$PD/stored.txt" >/dev/null && echo same)" same "the events delivered are the events stored"
	expect_eq "$(psql_q "select count(*) from (select job_id, attempt, seq from events group by 1, 2, 3 having count(*) > 1) d")" 0 \
		"events stored twice"
	moved=$(grep -l "switching to $B" "$PD"/wk*.err | wc -l)
	[ "$moved" -ge 1 ] || fail "no worker failed over to b: $(tail -5 "$PD"/wk1.err)"
	requeued=$(psql_q "select count(*) from jobs where attempt > 1")
	echo "# $moved worker(s) failed over to b; $requeued job(s) needed a second attempt (claimed by a as it died); $(wc -l <"$PD/stored.txt") events, each stored once"
}

# A worker given several coordinators (repeated --coordinator) moves to the
# next when the one in use cannot be reached, and runs its jobs there.  No
# PostgreSQL needed: the first coordinator is a port nobody listens on.
t_postgres_worker_moves_to_the_next_coordinator() {
	PD=$(mktemp -d "$WORK/pgw-XXXXXX")
	trap pgt_teardown EXIT
	: >"$PD/co.out"
	"$BIN/idlcm-coordinator" --listen 127.0.0.1:0 --db "$PD/co.db" --claim-wait-s 2 \
		>"$PD/co.out" 2>"$PD/co.err" &
	PGT_PIDS="$PGT_PIDS $!"
	for _ in $(seq 1 100); do
		CO_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$PD/co.out")
		[ -n "$CO_URL" ] && break
		sleep 0.05
	done
	[ -n "$CO_URL" ] || fail "the coordinator did not start: $(cat "$PD/co.err")"
	IDLCM_LOG=info "$BIN/idlcm-agent" worker --coordinator http://127.0.0.1:1 \
		--coordinator "$CO_URL" --slots 1 --db "$PD/wk.db" --runs-dir "$PD/runs" \
		--scripts "$ROOT/tests/e2e/scripts/speed" --browser "$CHROME_HTTP" --poll-s 2 \
		--retry-base 200 --retry-max 1000 >"$PD/wk.out" 2>"$PD/wk.err" &
	PGT_PIDS="$PGT_PIDS $!"
	curl -fsS -X POST -d '{"id":"m1","integration":"drain","app":"drain","action":"list_users"}' \
		"$CO_URL/v1/jobs" >/dev/null || fail "enqueue"
	for _ in $(seq 1 300); do
		[ "$(curl -fsS "$CO_URL/v1/jobs/m1" | jq -r .status)" = completed ] && break
		sleep 0.2
	done
	expect_eq "$(curl -fsS "$CO_URL/v1/jobs/m1" | jq -r '.status + " " + .outcome')" "completed ok" \
		"the job, run through the second coordinator"
	grep -q "coordinator http://127.0.0.1:1: .*; switching to $CO_URL" "$PD/wk.err" ||
		fail "the worker did not say it switched: $(tail -5 "$PD/wk.err")"
}

# Two coordinators claim at once: neither sees the other's lease before it
# commits, so each would find the user idle and an update would run beside
# the invite.  psql plays the other coordinator mid-claim — it holds the
# claim's lock on the user and has leased the invite, not yet committed —
# while a claim on the coordinator must leave the user's update queued.
t_postgres_one_running_job_per_user_across_claims() {
	pgt_setup
	pgt_co a; A=$CO_URL
	curl -fsS -X POST -d '{"integration":"i1","app":"acme","action":"invite","user":{"email":"a@x.test","roles":["admin"]}}' "$A/v1/jobs" >/dev/null
	curl -fsS -X POST -d '{"integration":"i1","app":"acme","action":"update","user":{"email":"a@x.test","roles":["member"]}}' "$A/v1/jobs" >/dev/null
	ukey=$(psql_q "select user_key from jobs where id = 'j2'")
	[ -n "$ukey" ] || fail "the update has no user key"
	psql_q "begin; select pg_advisory_xact_lock(hashtextextended('user:i1' || chr(10) || '$ukey', 0));
		update jobs set status = 'running', attempt = 1, worker = 'other' where id = 'j1';
		select pg_sleep(3); commit;" >/dev/null &
	spid=$!
	sleep 1
	got=$(curl -sS -o "$PD/claim.json" -w '%{http_code}' -X POST -d '{"worker":"w1","capacity":5,"wait_s":0}' "$A/v1/claim")
	wait "$spid"
	expect_eq "$got $(cat "$PD/claim.json")" '204 ' "a claim while another coordinator leases the user's invite"
	expect_eq "$(psql_q "select count(*) from jobs where status = 'running'")" 1 "jobs of the user running"
	# the invite done, the update is claimable
	psql_q "update jobs set status = 'completed', outcome = 'ok' where id = 'j1'" >/dev/null
	expect_eq "$(curl -fsS -X POST -d '{"worker":"w1","capacity":5,"wait_s":0}' "$A/v1/claim" | jq -c '[.jobs[].id]')" \
		'["j2"]' "the update after the invite"
}
