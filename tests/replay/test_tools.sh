# The script author's tools that need no browser: new, check, report.
SCRIPTS="$ROOT/tests/replay/scripts"

t_new_writes_a_skeleton_that_checks_clean() {
	mkdir -p "$WORK/proj/scripts/apps" && cd "$WORK/proj" || fail "no project dir"
	agent new widgets
	expect_rc 0
	expect_out "scripts/apps/widgets.lua"
	expect_err "idlcm-agent check scripts/apps/widgets.lua"
	grep -q 'name = "Widgets"' scripts/apps/widgets.lua || fail "no app name in the skeleton"
	for fn in login list_users find_user invite update remove; do
		grep -q "^function app.$fn(page" scripts/apps/widgets.lua || fail "skeleton lacks app.$fn"
	done
	agent check scripts/apps/widgets.lua
	expect_rc 0
	expect_out "ok: scripts/apps/widgets.lua (login, list_users, invite, update, remove, find_user)"
}

t_new_refuses_to_overwrite() {
	mkdir -p "$WORK/proj/scripts/apps" && cd "$WORK/proj" || fail "no project dir"
	echo "-- mine" >scripts/apps/widgets.lua
	agent new widgets
	expect_rc 2
	expect_err "scripts/apps/widgets.lua already exists; not overwriting it"
	[ "$(cat scripts/apps/widgets.lua)" = "-- mine" ] || fail "the file changed"
	agent new widgets --out "$WORK/other.lua"
	expect_rc 0
	[ -s "$WORK/other.lua" ] || fail "--out wrote nothing"
	agent new 'Bad Name'
	expect_rc 2
	expect_err 'the app name "Bad Name" must be'
	agent new
	expect_rc 2
	expect_err "usage: idlcm-agent new <app>"
}

t_check_passes_acme() {
	agent check "$ROOT/scripts/apps/acme.lua"
	expect_rc 0
	expect_out "ok: $ROOT/scripts/apps/acme.lua (login, list_users, invite, update, remove"
}

t_check_reports_unknown_methods_with_lines() {
	s="$SCRIPTS/check_bad_methods.lua"
	agent check "$s"
	expect_rc 1
	expect_out "$s: missing contract function app.remove(page, user)"
	expect_out "$s:6: p:fil() — Page has no method \"fil\" (did you mean \"fill\"?)"
	expect_out "$s:7: p:nth() — Page has no method \"nth\" (it is a Locator method: page:locator(sel):nth(…))"
	expect_out "$s:8: p.click(…) calls a method with a dot: write p:click(…)"
	expect_out "$s:9: io is not available to scripts"
	expect_out "$s:12: modal:clik() — Locator has no method \"clik\" (did you mean \"click\"?)"
	expect_out "$s:13: locator:get_atribute() — Locator has no method \"get_atribute\" (did you mean \"get_attribute\"?)"
	expect_out "$s:21: page:wait_for_selector() — Page has no method \"wait_for_selector\" (did you mean \"wait_for\"?)"
	expect_out "check: 8 problems in $s"
	printf '%s' "$OUT" | grep -q bogus && fail "flagged a comment or a string"
	printf '%s' "$OUT" | grep -q ':11:' && fail "flagged a valid locator chain"
	true
}

t_check_method_list_comes_from_the_prelude() {
	# every method page.lua defines passes; a Page method on a Page passes
	methods=$(sed -n 's/^function \(Page\|Locator\):\([a-z_]*\)(.*/\1 \2/p' "$ROOT/agent/lua/page.lua" |
		grep -v ' _')
	{
		echo 'local app = {}'
		echo 'function app.login(page, account)'
		echo '  local loc = page:locator("x")'
		printf '%s\n' "$methods" | while read -r cls m; do
			if [ "$cls" = Page ]; then echo "  page:$m()"; else echo "  loc:$m()"; fi
		done
		echo 'end'
		echo 'function app.list_users(page) end'
		echo 'function app.invite(page, user) end'
		echo 'function app.update(page, user) end'
		echo 'function app.remove(page, user) end'
		echo 'return app'
	} >"$WORK/all.lua"
	agent check "$WORK/all.lua"
	expect_rc 0
	[ "$(printf '%s\n' "$methods" | wc -l)" -gt 30 ] || fail "found only $(printf '%s\n' "$methods" | wc -l) methods"
}

t_check_reports_syntax_errors_with_line() {
	agent check "$SCRIPTS/check_syntax.lua"
	expect_rc 1
	expect_out "$SCRIPTS/check_syntax.lua:5: syntax error: ')' expected (to close '(' at line 4) near 'end'"
}

t_check_usage() {
	agent check
	expect_rc 2
	expect_err "usage: idlcm-agent check <script>"
	agent check "$WORK/none.lua"
	expect_rc 2
	expect_err "cannot read script $WORK/none.lua"
}

t_report_from_replayed_failure() {
	agent replay "$ROOT/tests/replay/scripts/missing_button.lua" invite \
		--cassette "$ROOT/tests/fixtures/cassettes/acme-missing-button.jsonl" --runs-dir "$WORK/runs"
	expect_rc 1
	id=$(printf '%s' "$ERR" | sed -n 's|^evidence: .*/\([^/]*\)/$|\1|p')
	agent report "$id" --runs-dir "$WORK/runs"
	expect_rc 0
	expect_out "$WORK/runs/$id/report.html"
	r="$WORK/runs/$id/report.html"
	grep -q '<img class="screenshot" id="screenshot" alt="[^"]*" src="data:image/png;base64,iVBORw0KGgo' "$r" || fail "no inlined screenshot"
	grep -q 'timeout 2000 ms waiting for &quot;button.nope&quot; to be visible' "$r" || fail "no escaped error"
	grep -q '<code>button.nope</code>' "$r" || fail "no failed step"
	grep -q 'missing_button.lua:18' "$r" || fail "no script line"
	grep -q '&lt;html' "$r" || fail "page HTML not escaped"
	grep -q '<script' "$r" && fail "a <script> tag made it into the report"
	grep -q 'acme-admin-pw' "$r" && fail "the password is in the report"
	# by directory too, and errors name the problem
	agent report "$WORK/runs/$id/"
	expect_rc 0
	agent report nosuchrun --runs-dir "$WORK/runs"
	expect_rc 2
	expect_err "no run \"nosuchrun\""
	mkdir -p "$WORK/empty"
	agent report "$WORK/empty"
	expect_rc 1
	expect_err "holds no failure evidence"
}
