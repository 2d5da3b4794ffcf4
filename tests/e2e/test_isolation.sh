# Every page of a job is guarded (issue 9 leftovers): a second page a script
# opens with Target.createTarget and a popup of window.open get the same
# guard as the job's first page before they load anything, and server
# redirects to what a job may not reach are refused.  Hostile scripts under
# tests/e2e/scripts/hostile_pages.lua try it as an attacker would.
HS="$ROOT/tests/e2e/scripts"

iso_port() { printf '%s' "$CHROME_HTTP" | sed 's/.*://'; }

# iso_hostile MODE [EXTRA-JSON-FIELDS]: run hostile_pages.lua's list_users
iso_hostile() {
	agent run "$HS/hostile_pages.lua" list_users --browser "$CHROME_HTTP" --runs-dir "$WORK/runs" \
		--timeout 30000 --account "{\"base_url\":\"$FX_URL/acme\",\"mode\":\"$1\",\"devtools_port\":$(iso_port)${2:-}}"
}
iso_no_loot() {
	printf '%s%s' "$OUT" "$ERR" | grep -qF -- "$1" && fail "the attack got through: $1"
	true
}
iso_stopped() { # the job failed, naming what its page tried to load
	expect_rc 1
	expect_out "status: failed — the job is stopped: a page of the job tried to load http://127.0.0.1:$(iso_port)/json/list, which a job may not reach"
}

t_isolation_second_page_guarded() {
	iso_hostile second_page_fetch
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
}

t_isolation_popup_guarded() {
	iso_hostile popup_fetch
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
	# a popup opened on the endpoint itself: refused at its first load
	iso_hostile popup_direct
	iso_no_loot webSocketDebuggerUrl
	iso_stopped
}

t_isolation_new_pages_cannot_read_files() {
	secret="vault-key-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$secret" >"$WORK/iso-token.txt"
	for mode in second_page_file popup_file; do
		iso_hostile $mode ",\"path\":\"$WORK/iso-token.txt\""
		iso_no_loot "$secret"
		expect_err "loot:"
	done
}
