# make install / uninstall into a DESTDIR: the installed coordinator and
# worker (their secrets as systemd credentials, the worker's scripts found
# in the install tree) run a job end to end against the fixture app; the
# man pages render and cover every option --help prints; the units say
# what an operator relies on and pass systemd-analyze verify; uninstall
# leaves nothing.  It installs the binaries under test ($BIN), no build.

IN_WD=; IN_CO=; IN_WK=

in_teardown() {
	[ -n "$IN_WK" ] && kill -TERM "$IN_WK" 2>/dev/null && wait "$IN_WK" 2>/dev/null
	[ -n "$IN_CO" ] && kill "$IN_CO" 2>/dev/null && wait "$IN_CO" 2>/dev/null
	IN_WK=; IN_CO=
	if [ -n "$IN_WD" ] && grep -l "Sanitizer" "$IN_WD"/*.err 2>/dev/null; then
		grep -h -A20 "Sanitizer" "$IN_WD"/*.err | head -60
		exit 1
	fi
}

# in_make TARGET: make TARGET into $IN_WD/root with PREFIX=/usr
in_make() {
	make -s --no-print-directory -C "$ROOT" "$1" DESTDIR="$IN_WD/root" PREFIX=/usr \
		BIN="$BIN" >"$IN_WD/make.out" 2>&1 || { RC=$?; fail "make $1: $(cat "$IN_WD/make.out")"; }
}

in_setup() {
	IN_WD=$(mktemp -d "$WORK/install-XXXXXX")
	trap in_teardown EXIT
	in_make install
	R=$IN_WD/root
}

t_install_runs_a_job_from_the_install_tree() {
	in_setup
	for f in usr/bin/idlcm-agent usr/bin/idlcm-coordinator usr/share/idlcm/apps/acme.lua \
		usr/share/man/man1/idlcm-agent.1 usr/share/man/man8/idlcm-coordinator.8 \
		usr/share/man/man7/idlcm-scripts.7 usr/lib/systemd/system/idlcm-worker.service \
		usr/lib/systemd/system/idlcm-coordinator.service usr/lib/sysusers.d/idlcm.conf; do
		[ -f "$R/$f" ] || fail "make install did not install /$f"
	done
	# test tools are not products
	[ ! -e "$R/usr/bin/idlcm-fixtures" ] && [ ! -e "$R/usr/bin/idlcm-cdp-floor" ] ||
		fail "a test tool was installed"
	fx acme reset >/dev/null
	# secrets the way systemd's LoadCredential= hands them over: a directory
	# in $CREDENTIALS_DIRECTORY, no option naming them
	mkdir -m 700 "$IN_WD/creds"
	( umask 077; printf 'install-test-token-0123456789\n' >"$IN_WD/creds/token" )
	chmod 400 "$IN_WD/creds/token"
	mkdir "$IN_WD/state"
	cd "$IN_WD/state" || fail "no state dir"	# no scripts/apps here
	: >"$IN_WD/co.out"
	CREDENTIALS_DIRECTORY=$IN_WD/creds "$R/usr/bin/idlcm-coordinator" --listen 127.0.0.1:0 \
		--db "$IN_WD/state/coordinator.db" --claim-wait-s 1 >"$IN_WD/co.out" 2>"$IN_WD/co.err" &
	IN_CO=$!
	for _ in $(seq 1 100); do
		url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$IN_WD/co.out")
		[ -n "$url" ] && break
		sleep 0.05
	done
	[ -n "$url" ] || fail "the installed coordinator did not start: $(cat "$IN_WD/co.err")"
	auth="authorization: Bearer install-test-token-0123456789"
	code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/jobs")
	expect_eq "$code" 401 "the coordinator took its token from the credential"
	CREDENTIALS_DIRECTORY=$IN_WD/creds "$R/usr/bin/idlcm-agent" worker --coordinator "$url" \
		--browser "$CHROME_HTTP" --db "$IN_WD/state/worker.db" --runs-dir "$IN_WD/state/runs" \
		--poll-s 1 >"$IN_WD/wk.out" 2>"$IN_WD/wk.err" &
	IN_WK=$!
	body=$(printf '{"integration":"inst","app":"acme","action":"invite","user":{"email":"installed@example.com","roles":["member"]},"account":{"base_url":"%s/acme","username":"admin@acme.test","password":"acme-admin-pw"}}' "$FX_URL")
	id=$(curl -fsS -H "$auth" -d "$body" "$url/v1/jobs" | jq -r .id)
	[ -n "$id" ] && [ "$id" != null ] || fail "enqueue failed"
	for _ in $(seq 1 300); do
		st=$(curl -fsS -H "$auth" "$url/v1/jobs/$id" | jq -r .status)
		case $st in completed|failed) break;; esac
		sleep 0.2
	done
	expect_eq "$st" completed "the job (worker log: $(tail -3 "$IN_WD/wk.err"))"
	expect_eq "$(curl -fsS -H "$auth" "$url/v1/integrations/inst/users" |
		jq -r '.users[] | select(.user == "installed@example.com") | .state')" \
		pending_user_claim "the user's state in the coordinator"
	fx acme state | jq -e '.users[] | select(.email == "installed@example.com")' >/dev/null ||
		fail "the fixture app has no installed@example.com"
	in_teardown
	# the vault key as the credential "vault-key"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$IN_WD/creds/vault-key"
	chmod 400 "$IN_WD/creds/vault-key"
	export IDLCM_VAULT="$IN_WD/state/vault.db"
	printf 'vault-pw-0987\n' | CREDENTIALS_DIRECTORY=$IN_WD/creds "$R/usr/bin/idlcm-agent" \
		vault set acme/admin >/dev/null 2>"$IN_WD/vault.err" || fail "vault set: $(cat "$IN_WD/vault.err")"
	got=$(CREDENTIALS_DIRECTORY=$IN_WD/creds "$R/usr/bin/idlcm-agent" vault get acme/admin 2>&1)
	expect_eq "$got" vault-pw-0987 "vault get with the credential's key"
	"$R/usr/bin/idlcm-agent" vault get acme/admin >/dev/null 2>&1 &&
		fail "the vault opened with no key at all"
	unset IDLCM_VAULT
}

# Every option --help prints is in the man page (rendered), and the pages
# render with no groff warning.
t_install_man_pages() {
	in_setup
	M=$R/usr/share/man
	for p in man1/idlcm-agent.1 man7/idlcm-scripts.7 man8/idlcm-coordinator.8; do
		groff -man -Tutf8 -ww -z "$M/$p" 2>"$IN_WD/groff.err" || fail "groff failed on $p"
		[ ! -s "$IN_WD/groff.err" ] || fail "$p: $(head -5 "$IN_WD/groff.err")"
		! grep -q '@[A-Z]*@' "$M/$p" || fail "$p has an unsubstituted @VAR@"
	done
	grep -q '/usr/share/idlcm/apps' "$M/man1/idlcm-agent.1" || fail "no installed scripts path"
	for b in agent coordinator; do
		page=$(ls "$M"/man*/idlcm-$b.*)
		# one long line per paragraph: no hyphenation splits an option
		groff -man -Tascii -rLL=5000n -P-cbou "$page" 2>/dev/null >"$IN_WD/$b.txt"
		if [ $b = agent ]; then
			"$R/usr/bin/idlcm-agent" help >"$IN_WD/$b.help"
			for c in run record replay new check report vault worker; do
				"$R/usr/bin/idlcm-agent" $c --help >>"$IN_WD/$b.help" || fail "$c --help"
			done
		else
			"$R/usr/bin/idlcm-coordinator" --help >"$IN_WD/$b.help"
			"$R/usr/bin/idlcm-coordinator" integration --help >>"$IN_WD/$b.help"
		fi
		for o in $(grep -o -- '--[a-z][a-z-]*' "$IN_WD/$b.help" | sort -u); do
			grep -q -- "$o" "$IN_WD/$b.txt" || fail "idlcm-$b's man page lacks $o (in --help)"
		done
	done
	echo "# man pages: $(wc -l <"$IN_WD/agent.txt") + $(wc -l <"$IN_WD/coordinator.txt") lines rendered"
}

t_install_units_and_uninstall() {
	in_setup
	U=$R/usr/lib/systemd/system
	for u in idlcm-worker idlcm-coordinator; do
		for d in 'User=idlcm' 'StateDirectory=idlcm/' 'ProtectSystem=strict' \
			'NoNewPrivileges=yes' 'PrivateTmp=yes' 'LoadCredential=token:/etc/idlcm/' \
			'EnvironmentFile=-/etc/idlcm/' 'CapabilityBoundingSet=$' 'ProtectHome=yes'; do
			grep -q "^$d" "$U/$u.service" || fail "$u.service lacks $d"
		done
		bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$U/$u.service")
		[ -x "$R$bin" ] || fail "$u.service runs $bin, which install did not put there"
	done
	grep -q -- '--scripts /usr/share/idlcm/apps' "$U/idlcm-worker.service" ||
		fail "the worker unit does not use the installed scripts"
	# what would break Chromium must stay out of the worker's unit
	for d in MemoryDenyWriteExecute=yes RestrictNamespaces=yes PrivateUsers=yes; do
		! grep -q "^$d" "$U/idlcm-worker.service" || fail "idlcm-worker.service has $d"
	done
	grep -q '^u idlcm ' "$R/usr/lib/sysusers.d/idlcm.conf" || fail "no sysusers entry"
	# systemd's own check, the binaries at their DESTDIR place
	mkdir "$IN_WD/verify"
	for u in idlcm-worker idlcm-coordinator; do
		sed "s|^ExecStart=/usr/bin/|ExecStart=$R/usr/bin/|" "$U/$u.service" >"$IN_WD/verify/$u.service"
	done
	systemd-analyze verify --man=no "$IN_WD"/verify/*.service >"$IN_WD/verify.out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$IN_WD/verify.out")"
	[ ! -s "$IN_WD/verify.out" ] || fail "systemd-analyze verify: $(cat "$IN_WD/verify.out")"
	for u in idlcm-worker idlcm-coordinator; do
		echo "# $(systemd-analyze security --offline=true "$IN_WD/verify/$u.service" 2>/dev/null |
			sed -n 's/.*Overall exposure level for \(.*\)/\1/p')"
	done

	in_make uninstall
	left=$(find "$R" ! -type d)
	[ -z "$left" ] || fail "uninstall left files: $left"
	left=$(find "$R" -name '*idlcm*')
	[ -z "$left" ] || fail "uninstall left directories: $left"
	# a file of the operator's own in our directory stays, and so does the directory
	in_make install
	printf 'return {}\n' >"$R/usr/share/idlcm/apps/mine.lua"
	in_make uninstall
	[ -f "$R/usr/share/idlcm/apps/mine.lua" ] || fail "uninstall removed a file it did not install"
	[ "$(find "$R" ! -type d)" = "$R/usr/share/idlcm/apps/mine.lua" ] || fail "uninstall left more"
}

# in_unit_start UNIT LOG: start what an installed unit's ExecStart= runs,
# the way systemd would, minus the sandbox (PID 1 here is not systemd):
# StateDirectory= made, Environment= then EnvironmentFile= (later wins),
# LoadCredential= files in $CREDENTIALS_DIRECTORY, %S/%C, ${VAR} as one
# word and $VAR split into words.  The unit's paths into the install tree
# (/usr/…, /etc/idlcm/…) are read under its DESTDIR.  Sets IN_PID.
in_unit_start() {
	unit=$R/usr/lib/systemd/system/$1
	[ -f "$unit" ] || fail "no installed unit $1"
	# one logical line per directive
	sed -e ':a' -e '/\\$/N; s/\\\n[ 	]*/ /; ta' "$unit" >"$IN_WD/$1.flat"
	env_sh=$IN_WD/$1.env.sh; : >"$env_sh"
	creds=$IN_WD/creds-$1; rm -rf "$creds"; mkdir -m 700 "$creds"
	while IFS= read -r line; do
		case $line in
		StateDirectory=*) mkdir -p "$IN_WD/state/${line#StateDirectory=}" ;;
		Environment=*)
			for kv in ${line#Environment=}; do
				printf "export %s='%s'\n" "${kv%%=*}" "${kv#*=}" >>"$env_sh"
			done ;;
		EnvironmentFile=*)
			f=${line#EnvironmentFile=}; f=${f#-}
			[ -f "$R$f" ] && sed -n "s/^\([A-Z_][A-Z0-9_]*\)=\(.*\)$/export \1='\2'/p" "$R$f" >>"$env_sh" ;;
		LoadCredential=*)
			c=${line#LoadCredential=}
			cp "$R${c#*:}" "$creds/${c%%:*}" || fail "credential ${c#*:} is not installed" ;;
		esac
	done <"$IN_WD/$1.flat"
	exec_line=$(sed -n 's/^ExecStart=//p' "$IN_WD/$1.flat")
	[ -n "$exec_line" ] || fail "$1 has no ExecStart="
	exec_line=$(printf '%s' "$exec_line" | sed -e "s|%S|$IN_WD/state|g" -e "s|%C|$IN_WD/cache|g")
	(
		cd "$IN_WD/state" || exit 1
		. "$env_sh"
		export CREDENTIALS_DIRECTORY=$creds
		# ${VAR}: one word; $VAR: split on blanks (systemd.service(5))
		set -f
		set -- $(printf '%s' "$exec_line" | sed -e 's/\${\([A-Z_][A-Z0-9_]*\)}/@{\1}/g')
		n=$#
		i=0
		for w; do
			i=$((i + 1))
			case $w in
			@{*}) v=${w#@\{}; v=${v%\}}; eval "set -- \"\$@\" \"\${$v}\"" ;;
			\$*) v=${w#\$}; eval "set -- \"\$@\" \$$v" ;;
			/usr/*|/etc/*) set -- "$@" "$R$w" ;;	# the install tree
			*) set -- "$@" "$w" ;;
			esac
		done
		shift "$n"
		exec "$@"
	) >"$IN_WD/$2.out" 2>"$IN_WD/$2.err" &
	IN_PID=$!
}

# Issue 13: "the installed units start and answer" — the coordinator's and
# the worker's units, started from their own ExecStart=, Environment= and
# LoadCredential= lines, serve a job end to end.
t_install_units_start_and_answer() {
	in_setup
	fx acme reset >/dev/null
	mkdir -p "$R/etc/idlcm"
	( umask 077; printf 'unit-test-token-0123456789abcdef\n' >"$R/etc/idlcm/coordinator.token" )
	cp "$R/etc/idlcm/coordinator.token" "$R/etc/idlcm/worker.token"
	port=$((20000 + $$ % 20000))
	printf 'IDLCM_LISTEN=127.0.0.1:%s\nIDLCM_COORDINATOR_OPTS=--claim-wait-s 1\n' "$port" \
		>"$R/etc/idlcm/coordinator.env"
	printf 'IDLCM_COORDINATOR=http://127.0.0.1:%s\nIDLCM_WORKER_OPTS=--browser %s --poll-s 1\n' \
		"$port" "$CHROME_HTTP" >"$R/etc/idlcm/worker.env"
	in_unit_start idlcm-coordinator.service co
	IN_CO=$IN_PID
	url=
	for _ in $(seq 1 100); do
		url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$IN_WD/co.out")
		[ -n "$url" ] && break
		sleep 0.05
	done
	[ -n "$url" ] || fail "the coordinator's unit did not start: $(cat "$IN_WD/co.err")"
	expect_eq "$url" "http://127.0.0.1:$port" "the unit's listen address from its environment file"
	[ -f "$IN_WD/state/idlcm/coordinator/coordinator.db" ] ||
		fail "the coordinator's database is not in its StateDirectory"
	auth="authorization: Bearer unit-test-token-0123456789abcdef"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/jobs")" 401 "no token"
	expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url/metrics")" 200 \
		"/metrics with the credential's token"
	in_unit_start idlcm-worker.service wk
	IN_WK=$IN_PID
	body=$(printf '{"integration":"unit","app":"acme","action":"invite","user":{"email":"unit@example.com","roles":["member"]},"account":{"base_url":"%s/acme","username":"admin@acme.test","password":"acme-admin-pw"}}' "$FX_URL")
	id=$(curl -fsS -H "$auth" -d "$body" "$url/v1/jobs" | jq -r .id)
	[ -n "$id" ] && [ "$id" != null ] || fail "enqueue failed"
	for _ in $(seq 1 300); do
		st=$(curl -fsS -H "$auth" "$url/v1/jobs/$id" | jq -r .status)
		case $st in completed|failed) break;; esac
		sleep 0.2
	done
	expect_eq "$st" completed "the job through the worker's unit (log: $(tail -3 "$IN_WD/wk.err"))"
	[ -f "$IN_WD/state/idlcm/worker/worker.db" ] || fail "the worker's store is not in its StateDirectory"
	expect_eq "$(fx acme state | jq -r '.users[] | select(.email == "unit@example.com") | .roles | join(",")')" \
		member "the user in the app"
}
