# Issue 8 points 8 and 9 on the replay tier (no browser): a replay has no
# side effects, and its machine output is byte-identical run to run.

tj_replay() {	# NAME [ARGS…]: replay a listed cassette from the current dir
	name=$1; shift
	line=$(grep -v '^#' "$CASSETTES/cassettes.list" | awk -v n="$name" '$1 == n')
	[ -n "$line" ] || fail "no cassette $name in the list"
	s=$(echo "$line" | awk '{ print $2 }'); a=$(echo "$line" | awk '{ print $3 }')
	agent replay "$ROOT/$s" "$a" --cassette "$CASSETTES/$name.jsonl" "$@"
}

t_trust_replay_json_is_byte_identical() {
	for c in acme-invite globex-list_users acme-update-absent; do
		tj_replay "$c" --json --runs-dir "$WORK/r1"
		first=$OUT; rc1=$RC
		tj_replay "$c" --json --runs-dir "$WORK/r1"
		expect_eq "$RC" "$rc1" "$c: exit"
		[ "$OUT" = "$first" ] || fail "$c: two replays differ: $(printf '%s\n' "$first" >"$WORK/a";
			printf '%s\n' "$OUT" >"$WORK/b"; diff "$WORK/a" "$WORK/b" | head -5)"
	done
	# the recording's elapsed time, not 0
	last=$(grep '"dir":"end"' "$CASSETTES/acme-invite.jsonl" | jq .t)
	tj_replay acme-invite --json --runs-dir "$WORK/r1"
	el=$(printf '%s\n' "$OUT" | tail -1 | jq .elapsed_ms)
	[ "$el" -gt 0 ] && [ "$el" -le "$last" ] || fail "elapsed_ms $el, the recording took $last ms"
	# keys in a fixed order: kind first, then sorted
	printf '%s\n' "$OUT" | while IFS= read -r l; do
		keys=$(printf '%s' "$l" | jq -c 'keys_unsorted')
		want=$(printf '%s' "$l" | jq -c 'keys_unsorted | (map(select(. == "kind")) + (map(select(. != "kind")) | sort))')
		[ "$keys" = "$want" ] || { echo "keys out of order: $keys"; exit 1; }
	done || fail "keys out of order"
	tj_replay acme-invite --runs-dir "$WORK/r1"
	secs=$(awk -v t="$last" 'BEGIN { printf "%.1f", t / 1000 }')
	printf '%s' "$OUT" | grep -qE '^ok \(([0-9]+\.[0-9]) s\)$' || fail "no ok line"
	if printf '%s' "$OUT" | grep -q '^ok (0.0 s)$' && [ "$secs" != 0.0 ]; then fail "replay says 0.0 s"; fi
}

# A replay of an invite that captured a password, with a vault key set and
# IDLCM_VAULT pointing at a copy of a real vault: the vault is unchanged,
# and nothing but the runs dir appears in the working directory.
t_trust_replay_has_no_side_effects() {
	IDLCM_VAULT_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$WORK/vaults" "$WORK/cwd"
	IDLCM_VAULT="$WORK/vaults/vault.db"
	export IDLCM_VAULT IDLCM_VAULT_KEY
	unset IDLCM_VAULT_KEY_FILE
	"$BIN/idlcm-agent" vault set globex/pia@example.com --value "the-real-password-1" >/dev/null 2>&1 ||
		fail "cannot make a vault"
	before=$(sha256sum "$IDLCM_VAULT" | cut -d' ' -f1)
	cd "$WORK/cwd" || fail "no cwd"
	tj_replay globex-invite-password --runs-dir runs --json
	expect_rc 0
	expect_eq "$(sha256sum "$IDLCM_VAULT" | cut -d' ' -f1)" "$before" "vault checksum"
	expect_eq "$("$BIN/idlcm-agent" vault get globex/pia@example.com 2>&1)" "the-real-password-1" "the real password"
	expect_eq "$(ls -A "$WORK/cwd" | grep -v '^runs$')" "" "new files besides runs/"
	expect_eq "$(ls -A "$WORK/vaults")" "vault.db" "files next to the vault"
	r=$(printf '%s\n' "$OUT" | tail -1)
	expect_eq "$(printf '%s' "$r" | jq -c '.credentials | [.stored, .password]')" '[false,null]' "credentials"
	# and no default vault either, with IDLCM_VAULT unset
	unset IDLCM_VAULT
	tj_replay globex-invite-password --runs-dir runs
	expect_rc 0
	expect_eq "$(ls -A "$WORK/cwd" | grep -v '^runs$')" "" "new files besides runs/ (default vault path)"
	if printf '%s' "$OUT" | grep -q "stored in the vault"; then fail "claims a vault write"; fi
}
