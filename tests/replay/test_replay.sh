# Every cassette replays as it was recorded; a script that does something
# else fails loudly, naming the command, the cassette line and the script
# line; replays are deterministic.  No browser anywhere in here.

# cassette_lines: "name script action" for each cassette in the list
cassette_lines() {
	grep -v '^[[:space:]]*\(#\|account[[:space:]]\|$\)' "$CASSETTES/cassettes.list" |
		awk '{ print $1, $2, $3 }'
}

# replay NAME [SCRIPT] [ARGS…]: replay a listed cassette (its own script by default)
replay() {
	name=$1; shift
	set -- "$name" "$@"
	line=$(cassette_lines | awk -v n="$name" '$1 == n')
	[ -n "$line" ] || fail "no cassette $name in the list"
	s=$(echo "$line" | awk '{ print $2 }'); a=$(echo "$line" | awk '{ print $3 }')
	shift
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then s=$1; shift; fi
	agent replay "$s" "$a" --cassette "$CASSETTES/$name.jsonl" --runs-dir "$WORK/runs" "$@"
}

recorded_exit() { tail -1 "$CASSETTES/$1.jsonl" | sed -n 's/.*"outcome":{"exit":\([0-9]*\).*/\1/p'; }

t_every_cassette_replays_as_recorded() {
	n=0
	for name in $(cassette_lines | awk '{ print $1 }'); do
		[ -r "$CASSETTES/$name.jsonl" ] || fail "cassette $name.jsonl is missing (tools/record-cassettes.sh)"
		replay "$name"
		expect_rc "$(recorded_exit "$name")"
		expect_err "outcome as recorded"
		n=$((n + 1))
	done
	[ "$n" -ge 9 ] || fail "only $n cassettes listed"
}

t_acme_actions_replay_their_states() {
	replay acme-invite
	expect_rc 0
	expect_out "ada@example.com  inviting → pending_user_claim"
	replay acme-invite-existing
	expect_out "alice@acme.test  inviting → onboarded (already in the app)"
	replay acme-update
	expect_out "bob@acme.test  updating → onboarded"
	replay acme-remove
	expect_out "bob@acme.test  removing → deleted"
	replay acme-list_users
	expect_out "dave@acme.test"
	expect_out "(4 users)"
	replay acme-validate
	expect_out "status: validated"
}

t_globex_actions_replay_their_states() {
	# TOTP login, a paged shadow-DOM grid, an iframe invite, a native confirm
	replay globex-invite
	expect_rc 0
	expect_out "ada@example.com  inviting → pending_user_claim"
	replay globex-update
	expect_rc 0
	expect_out "vera.petrov3@globex.test  updating → onboarded"
	replay globex-remove
	expect_rc 0
	expect_out "caio.eriksen4@globex.test  removing → deleted"
	replay globex-validate
	expect_rc 0
	expect_out "status: validated"
}

t_failing_cassettes_fail_the_same_way() {
	replay acme-update-absent
	expect_rc 1
	expect_err "error (business): nobody@example.com is not in the app, so it cannot be updated"
	replay acme-login-rejected
	expect_rc 1
	expect_err "error (needs_human): Acme rejected the service account"
	replay acme-missing-button
	expect_rc 1
	expect_err 'error (script): timeout 2000 ms waiting for "button.nope" to be visible (click, step 2 of invite)'
	expect_err "missing_button.lua:18"
}

t_replay_leaves_evidence_with_step_timings() {
	replay acme-missing-button
	expect_rc 1
	dir=$(printf '%s' "$ERR" | sed -n 's/^evidence: //p')
	for f in failure.png page.html cdp-frames.json error.txt steps.json; do
		[ -s "$dir/$f" ] || fail "evidence lacks $f"
	done
	[ "$(head -c 4 "$dir/failure.png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "failure.png is not a PNG"
	steps=$(jq -r '.steps[] | "\(.name) \(.target) \(.ok) \(.where)"' "$dir/steps.json")
	printf '%s\n' "$steps" | grep -q '^fill #password true .*missing_button.lua:9$' || fail "no fill step: $steps"
	printf '%s\n' "$steps" | grep -q '^click button.nope false .*missing_button.lua:18$' || fail "no failed click step: $steps"
	# the failing click waited 2000 ms of recorded time
	d=$(jq '.steps[] | select(.ok == false) | .duration' "$dir/steps.json")
	[ "$d" -ge 2000 ] && [ "$d" -lt 2500 ] || fail "failed step took $d ms"
}

t_divergent_selector_names_command_cassette_line_and_script_line() {
	sed 's/#password/#passwd/' "$ROOT/scripts/apps/acme.lua" >"$WORK/acme.lua"
	want=$(grep -n '#passwd' "$WORK/acme.lua" | head -1 | cut -d: -f1)
	replay acme-list_users "$WORK/acme.lua"
	expect_rc 3
	expect_err "replay diverged at command "
	expect_err "cassette expects: Runtime.evaluate"
	expect_err "script sent:      Runtime.evaluate"
	expect_err '#passwd'
	expect_err "acme-list_users.jsonl:"
	expect_err "at $WORK/acme.lua:$want"
	# and never the password
	printf '%s' "$OUT$ERR" | grep -q acme-admin-pw && fail "password in the output" || true
}

t_other_user_diverges_at_the_typed_email() {
	replay acme-invite --user '{"email":"bob.new@example.com","roles":["member"]}'
	expect_rc 3
	expect_err '{"value":"bob.new@example.com"})", recorded "'
	expect_err '{"value":"ada@example.com"})"'
	expect_err "error (script): replay diverged"
}

# acme.lua with LUA inserted before its final `return app`
acme_with() {
	awk -v add="$1" '/^return app/ { print add } { print }' "$ROOT/scripts/apps/acme.lua" >"$WORK/acme.lua"
}

t_changed_mapping_is_an_outcome_difference() {
	acme_with 'local list = app.list_users
app.list_users = function(page) local u = list(page); u[2].roles = { "admin" }; return u end'
	replay acme-list_users "$WORK/acme.lua"
	expect_rc 3
	expect_err 'replay: the outcome differs from the recording: users[1].roles[0]: recorded "member", replayed "admin"'
}

t_script_doing_less_than_recorded_diverges() {
	# validate, but the script's reader no longer reads the page
	acme_with 'function app.list_users(page) return { { email = "x@acme.test" } } end'
	replay acme-validate "$WORK/acme.lua"
	expect_rc 3
	expect_err "the script sent Target.disposeBrowserContext but the cassette expects Runtime.evaluate"
}

# One line per replay: its exit, its output and its evidence, without what
# differs between two runs of the same replay (the wall-clock elapsed time,
# the run folder's name) and with JSON keys sorted (a Lua table's keys come
# out in any order).
NORMALIZE='if type == "array" then map({dir: .[0:1], frame: (.[2:] | fromjson)})
	elif .kind == "result" then del(.elapsed_ms, .artifacts) else . end'

t_hundred_replays_are_identical() {
	runs=${IDLCM_REPLAY_RUNS:-100}
	for name in acme-invite acme-missing-button; do
		line=$(cassette_lines | awk -v n="$name" '$1 == n')
		s=$(echo "$line" | awk '{ print $2 }'); a=$(echo "$line" | awk '{ print $3 }')
		i=0
		while [ $i -lt "$runs" ]; do
			rm -rf "$WORK/det"
			"$BIN/idlcm-agent" replay "$s" "$a" --cassette "$CASSETTES/$name.jsonl" \
				--json --runs-dir "$WORK/det" >"$WORK/o" 2>"$WORK/e"
			rc=$?
			{
				echo "exit $rc"
				grep -v '^evidence: ' "$WORK/e"
				jq -S -c "$NORMALIZE" "$WORK/o" "$WORK"/det/*/steps.json \
					"$WORK"/det/*/cdp-frames.json 2>&1
				cat "$WORK"/det/*/error.txt 2>/dev/null
			} | md5sum >>"$WORK/sums.$name"
			i=$((i + 1))
		done
		distinct=$(sort -u "$WORK/sums.$name" | wc -l)
		[ "$distinct" = 1 ] || fail "$name: $runs replays gave $distinct different outcomes"
		[ "$(wc -l <"$WORK/sums.$name")" = "$runs" ] || fail "$name: not $runs runs"
		echo "$name: $runs replays, 1 outcome"
	done
}

t_secrets_never_in_cassettes() {
	grep -l 'acme-admin-pw\|not-the-password' "$CASSETTES"/*.jsonl && fail "a password is in a cassette"
	grep -q '"password":"{{secret:account.password}}"' "$CASSETTES/acme-invite.jsonl" || fail "no placeholder in the header"
	grep -q '"text":"{{secret:account.password}}"' "$CASSETTES/acme-invite.jsonl" || fail "typed password is not a placeholder"
}

t_screenshots_are_elided() {
	grep -q '"data":"{{elided: [0-9]* bytes of PNG}}"' "$CASSETTES/acme-missing-button.jsonl" || fail "no elided screenshot"
	big=$(awk 'length($0) > 65536 { print FILENAME ":" FNR }' "$CASSETTES"/*.jsonl)
	[ -z "$big" ] || fail "frames over 64 KiB: $big"
}

t_cassette_errors_name_the_problem() {
	agent replay "$ROOT/scripts/apps/acme.lua" list_users --runs-dir "$WORK/runs"
	expect_rc 2
	expect_err "replay needs --cassette FILE"
	agent replay "$ROOT/scripts/apps/acme.lua" list_users --cassette "$WORK/none.jsonl"
	expect_rc 2
	expect_err "cannot open cassette $WORK/none.jsonl"
	echo '{"hello":1}' >"$WORK/x.jsonl"
	agent replay "$ROOT/scripts/apps/acme.lua" list_users --cassette "$WORK/x.jsonl"
	expect_rc 2
	expect_err "x.jsonl:1: not a cassette"
	{ head -1 "$CASSETTES/acme-validate.jsonl"; echo '{"t":1,"dir":"send","method":"X"}'; } >"$WORK/y.jsonl"
	agent replay "$ROOT/scripts/apps/acme.lua" validate --cassette "$WORK/y.jsonl"
	expect_rc 2
	expect_err 'y.jsonl:2: record lacks a numeric "id"'
	agent replay "$ROOT/scripts/apps/acme.lua" update --user '{"email":"a@b.c","roles":["x"]}' \
		--cassette "$CASSETTES/acme-invite.jsonl"
	expect_rc 2
	expect_err 'was recorded for the action "invite", not "update"'
}

t_runs_without_chromium_on_path() {
	[ -n "${IDLCM_REPLAY_NESTED:-}" ] && return 0	# we are the nested run
	nochrome="$WORK/nochrome"
	mkdir -p "$nochrome"
	# every command on PATH but chromium (and chrome, google-chrome…)
	IFS=:; for d in $PATH; do
		[ -d "$d" ] || continue
		for f in "$d"/*; do
			b=${f##*/}
			case $b in *chrom*) continue ;; esac
			[ -x "$f" ] && [ ! -e "$nochrome/$b" ] && ln -s "$f" "$nochrome/$b"
		done
	done; unset IFS
	PATH="$nochrome" command -v chromium >/dev/null && fail "chromium still on PATH"
	env -u IDLCM_CHROMIUM PATH="$nochrome" IDLCM_REPLAY_NESTED=1 IDLCM_REPLAY_RUNS=5 IDLCM_BIN="$BIN" \
		sh "$ROOT/tests/replay/run.sh" >"$WORK/nested" 2>&1
	RC=$?; OUT=$(cat "$WORK/nested"); ERR=
	expect_rc 0
	expect_out "chromium on PATH: none"
	expect_out " 0 failed"
}
