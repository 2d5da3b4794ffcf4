# url, text and csv helpers (issue 12 points 3 and 6) in a real job:
# tests/e2e/scripts/helpers12.lua reads its users from a CSV export on a
# data: page and builds a link with url.build; `check` accepts the globals.

t_helpers12_csv_users_and_url_build() {
	h12="$ROOT/tests/e2e/scripts/helpers12.lua"
	agent check "$h12"
	expect_rc 0
	agent run "$h12" list_users --json --browser "$CHROME_HTTP" --runs-dir "$WORK/runs"
	expect_rc 0
	expect_eq "$(printf '%s\n' "$OUT" | tail -1 | jq -c '[.users[] | [.email, .display_name, .roles]]')" \
		'[["ann@h12.test","Lee, Ann",["admin","billing"]],["bob@h12.test","Bob \"The Builder\"",["viewer"]],["carol@h12.test","Carol\nSmith",[]]]' \
		"users from the CSV"
	expect_err "next page: https://h12.test/users?sort=email&page=2&q=a%20b%26c&role=admin&role=viewer#list"
	expect_err "columns: email|name|roles"
}
