# idlcm — build, test, demo.  `make help` lists the targets.
#
# Objects go to build/<mode>/, binaries to bin/.  Every library comes from
# pkg-config; `make deps` installs what Debian lacks (as root) and the test
# and demo targets run it first, so a fresh Debian 12 machine needs nothing
# but `make test` / `make demo`.

PKGS     := libwebsockets libcurl libcjson sqlite3 lua5.4 libcrypto libpq
DEB_PKGS := chromium libwebsockets-dev libcjson-dev liblua5.4-dev jq curl sqlite3 procps \
            libcurl4-openssl-dev libsqlite3-dev libssl-dev pkg-config \
            libpq-dev postgresql groff-base systemd

CC       ?= cc
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wformat=2 -Wno-unused-parameter
ifeq ($(CI),true)
WARN     += -Werror
endif
CFLAGS   ?= -O2 -g
MODE     ?= release
ifeq ($(MODE),asan)
CFLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is loaded on first use (lib/curl_lazy.c), not linked: only its headers.
PKG_LIBS   = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
# The agent never speaks to PostgreSQL: without libpq its job processes map
# none of libpq's Kerberos/LDAP/GnuTLS chain (--as-needed is not a given:
# the ASan link keeps every library it is told).
AGENT_LIBS = $(shell pkg-config --libs $(filter-out libcurl libpq,$(PKGS)) 2>/dev/null)
# The version every binary prints (include/version.h has the fallback).
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null)
VERSION_DEF := $(if $(VERSION),-DIDLCM_VERSION='"$(VERSION)"')
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -Itests -I$(B) \
             $(PKG_CFLAGS) -MMD -MP

B        := build/$(MODE)
BIN      := bin
ifeq ($(MODE),asan)
BIN      := build/asan/bin
endif

LIB_SRC   := $(wildcard lib/*.c)
AGENT_SRC := $(wildcard agent/*.c)
FIX_SRC   := $(wildcard fixtures/*.c)
COORD_SRC := $(wildcard coordinator/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

# Lua prelude and injected JavaScript are compiled into the agent.
EMBED_IN  := $(sort $(wildcard agent/lua/*.lua agent/js/*.js))
EMBED_C   := $(B)/embedded.c

# The admin pages' CSS and JavaScript are compiled into the coordinator.
COORD_ASSETS := $(sort $(wildcard coordinator/assets/*))
COORD_EMBED  := $(B)/coord_assets.c

LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
AGENT_OBJ := $(filter-out $(B)/agent/main.o,$(AGENT_SRC:%.c=$(B)/%.o)) \
             $(B)/embedded.o
FIX_OBJ   := $(FIX_SRC:%.c=$(B)/%.o)
COORD_OBJ := $(COORD_SRC:%.c=$(B)/%.o) $(B)/coord_assets.o
# The coordinator's modules without main, for unit tests of its parsers.
COORD_LIB_OBJ := $(filter-out $(B)/coordinator/main.o,$(COORD_OBJ))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Saved fuzz inputs replay as ordinary unit tests (no libFuzzer needed).
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(B)/tests/replay_%)

TARGETS   := $(BIN)/idlcm-agent $(BIN)/idlcm-fixtures $(BIN)/idlcm-cdp-floor
ifneq ($(COORD_SRC),)
TARGETS   += $(BIN)/idlcm-coordinator
endif

.PHONY: all deps test unit replay e2e asan demo bench clean help cassettes fuzz install uninstall
all: $(TARGETS)

help:
	@echo "make            build bin/idlcm-agent and bin/idlcm-fixtures"
	@echo "make deps       install missing Debian packages (root)"
	@echo "make demo       run the main job end to end on real Chromium"
	@echo "make test       unit tests, the replay tier (no browser), end-to-end tests on real Chromium"
	@echo "make replay     only the replay tier: recorded cassettes, no Chromium needed"
	@echo "make cassettes  re-record every cassette against the fixture apps"
	@echo "make asan       the same tests under ASan + UBSan"
	@echo "make bench      benchmarks (medians; SCIM p99 under 50 clients)"
	@echo "make fuzz       libFuzzer on every parser of outside input (clang); fuzz-<target>: one"
	@echo "make install    binaries, app scripts, man pages, systemd units (PREFIX, DESTDIR)"
	@echo "make uninstall  remove exactly what make install put there"
	@echo "make clean      remove build/ and bin/"

deps:
	@sh tools/deps.sh $(DEB_PKGS)

$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $<

$(EMBED_C): $(B)/tools/embed $(EMBED_IN)
	@mkdir -p $(dir $@)
	$(B)/tools/embed $@ $(EMBED_IN)

# Only the mains print the version; they rebuild when `git describe` changes.
VERSION_MAINS := $(B)/agent/main.o $(B)/coordinator/main.o $(B)/fixtures/main.o
$(VERSION_MAINS): ALL_CFLAGS += $(VERSION_DEF)
$(VERSION_MAINS): $(B)/version.txt
$(B)/version.txt: version-stamp
	@mkdir -p $(@D); echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
.PHONY: version-stamp
version-stamp:

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/embedded.o: $(EMBED_C)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(COORD_EMBED): $(B)/tools/embed $(COORD_ASSETS)
	@mkdir -p $(dir $@)
	$(B)/tools/embed -n admin_assets $@ $(COORD_ASSETS)

$(B)/coord_assets.o: $(COORD_EMBED)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN)/idlcm-agent: $(B)/agent/main.o $(AGENT_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) -lm

$(BIN)/idlcm-fixtures: $(FIX_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# A bare libwebsockets CDP client: make bench's floor, the tests' probe.
$(BIN)/idlcm-cdp-floor: bench/cdp_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

# make bench: our CDP layer's round trip, from C.
$(B)/bench/cdp_rtt: bench/cdp_rtt.c $(AGENT_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(AGENT_OBJ) $(LIB_OBJ) $(PKG_LIBS) -lm

$(BIN)/idlcm-coordinator: $(COORD_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# Each unit test links the agent's and the coordinator's modules (not
# their mains) and lib/.
$(B)/tests/%: tests/unit/%.c $(AGENT_OBJ) $(COORD_LIB_OBJ) $(LIB_OBJ) tests/test.h $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icoordinator $(LDFLAGS) -o $@ $< $(AGENT_OBJ) $(COORD_LIB_OBJ) \
	  $(LIB_OBJ) $(PKG_LIBS) -lm

$(B)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(AGENT_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/$*"' $(LDFLAGS) -o $@ $< \
	  tests/fuzz/replay.c $(AGENT_OBJ) $(LIB_OBJ) $(PKG_LIBS) -lm

# The coordinator's target also links the coordinator (not its main).
$(B)/tests/replay_coordinator: tests/fuzz/fuzz_coordinator.c tests/fuzz/replay.c \
		$(filter-out $(B)/coordinator/main.o,$(COORD_OBJ)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icoordinator -DFUZZ_CORPUS='"tests/fuzz/corpus/coordinator"' \
	  $(LDFLAGS) -o $@ $< tests/fuzz/replay.c \
	  $(filter-out $(B)/coordinator/main.o,$(COORD_OBJ)) $(LIB_OBJ) $(PKG_LIBS) -lm

# The claim target includes agent/worker.c itself (its static functions).
# The SCIM parsers live in the coordinator: only their module is linked.
$(B)/tests/replay_scim: tests/fuzz/fuzz_scim.c tests/fuzz/replay.c $(B)/coordinator/scim_filter.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/scim"' $(LDFLAGS) -o $@ $< \
	  tests/fuzz/replay.c $(B)/coordinator/scim_filter.o $(PKG_LIBS) -lm

$(B)/tests/replay_claim: tests/fuzz/fuzz_claim.c tests/fuzz/replay.c $(AGENT_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_CORPUS='"tests/fuzz/corpus/claim"' $(LDFLAGS) -o $@ $< \
	  tests/fuzz/replay.c $(filter-out $(B)/agent/worker.o,$(AGENT_OBJ)) $(LIB_OBJ) \
	  $(PKG_LIBS) -lm

unit: $(UNIT_BIN) $(REPLAY_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN) $(REPLAY_BIN)

# Coverage-guided fuzzing with clang's libFuzzer: FUZZ_SECONDS per target,
# seeded from tests/fuzz/corpus/<target>; copy crashers found into that
# folder so that `make unit` keeps replaying them.
FUZZ_SECONDS ?= 60
FUZZ_DEPS_cdp_frames := agent/cdp.c agent/cdp_scrub.c lib/log.c
FUZZ_DEPS_luajson := agent/luajson.c
FUZZ_DEPS_cassette := agent/cdp.c agent/cdp_scrub.c agent/cdp_record.c agent/cdp_replay.c lib/log.c
FUZZ_DEPS_base64 := lib/base64.c
FUZZ_DEPS_base32 := lib/totp.c
FUZZ_DEPS_ws_frames := agent/cdp.c agent/cdp_scrub.c lib/log.c
FUZZ_DEPS_httpd := lib/httpd.c
FUZZ_DEPS_coordinator := $(filter-out coordinator/main.c,$(COORD_SRC)) $(LIB_SRC)
FUZZ_CFLAGS_coordinator := -Icoordinator
FUZZ_DEPS_claim := $(filter-out agent/main.c agent/worker.c,$(AGENT_SRC)) $(EMBED_C) \
  $(LIB_SRC)
fuzz-claim: $(EMBED_C)
FUZZ_FLAGS_claim := -close_fd_mask=2	# the worker logs every rejected job
FUZZ_DEPS_cli := agent/cli.c lib/log.c
FUZZ_DEPS_vault := agent/vault.c lib/base64.c lib/log.c lib/privfile.c lib/sqldb.c
FUZZ_DEPS_scim := coordinator/scim_filter.c
FUZZ_DEPS_browser := agent/browser.c agent/cdp.c agent/cdp_scrub.c agent/confine.c lib/envscrub.c lib/curlbuf.c lib/curl_lazy.c lib/plainhttp.c lib/log.c
fuzz: $(FUZZ_SRC:tests/fuzz/fuzz_%.c=fuzz-%)
fuzz-%: tests/fuzz/fuzz_%.c
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@mkdir -p build/fuzz/corpus-$*
	@echo "== fuzz $* ($(FUZZ_SECONDS) s)"
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude \
	  $(FUZZ_CFLAGS_$*) $(PKG_CFLAGS) \
	  -o build/fuzz/fuzz_$* $< $(FUZZ_DEPS_$*) $(PKG_LIBS) -lm
	cp tests/fuzz/corpus/$*/* build/fuzz/corpus-$*/
	build/fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=20 $(FUZZ_FLAGS_$*) -artifact_prefix=build/fuzz/$*- build/fuzz/corpus-$*

e2e: $(TARGETS)
	@IDLCM_BIN=$(BIN) sh tests/e2e/run.sh

# The browserless tier: recorded cassettes replayed with no Chromium.
replay: $(TARGETS)
	@IDLCM_BIN=$(BIN) sh tests/replay/run.sh

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory replay
	@$(MAKE) --no-print-directory e2e

asan: deps
	@$(MAKE) --no-print-directory MODE=asan all unit
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  $(MAKE) --no-print-directory MODE=asan replay e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh
	@sh tools/demo-worker.sh

# Re-record every cassette in tests/fixtures/cassettes (real Chromium).
cassettes: deps
	@$(MAKE) --no-print-directory all
	@IDLCM_BIN=$(BIN) sh tools/record-cassettes.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tools/bench.sh
	@IDLCM_BIN=$(BIN) sh tools/bench-scim.sh

clean:
	rm -rf build bin

# make install: what an operator runs (README "Operating idlcm").  It
# installs the binaries already built (`make` first; it never builds, so
# `sudo make install` leaves no root-owned objects behind), with the
# usual directory variables; DESTDIR stages the tree for a package.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
APPSDIR     ?= $(DATADIR)/idlcm/apps
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/idlcm
# the units read their settings and credentials from here; install
# writes nothing into it (the operator's files)
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL     ?= install
INSTALL_PROGS := idlcm-agent idlcm-coordinator
INSTALL_APPS  := $(notdir $(wildcard scripts/apps/*.lua))
INSTALL_MAN   := man1/idlcm-agent.1 man7/idlcm-scripts.7 man8/idlcm-coordinator.8
INSTALL_UNITS := idlcm-worker.service idlcm-coordinator.service
INSTALL_DOCS  := worker.env coordinator.env
# @VAR@ in the man pages, units and examples: where things really are
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@APPSDIR@|$(APPSDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@UNITDIR@|$(UNITDIR)|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@VERSION@|$(or $(VERSION),0.1.0)|g' \
	-e 's|@DATE@|$(shell date -u +%Y-%m-%d)|g'

install:
	@for p in $(INSTALL_PROGS); do test -x $(BIN)/$$p || \
	  { echo "make install: $(BIN)/$$p is not built; run make first"; exit 1; }; done
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(APPSDIR) $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(INSTALL) -m 755 $(addprefix $(BIN)/,$(INSTALL_PROGS)) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 644 $(addprefix scripts/apps/,$(INSTALL_APPS)) $(DESTDIR)$(APPSDIR)
	@set -e; for m in $(INSTALL_MAN); do \
	  echo "install $(DESTDIR)$(MANDIR)/$$m"; \
	  $(SUBST) dist/man/$${m#*/} >$(DESTDIR)$(MANDIR)/$$m; chmod 644 $(DESTDIR)$(MANDIR)/$$m; done
	@set -e; for u in $(INSTALL_UNITS); do \
	  echo "install $(DESTDIR)$(UNITDIR)/$$u"; \
	  $(SUBST) dist/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u; chmod 644 $(DESTDIR)$(UNITDIR)/$$u; done
	@set -e; for d in $(INSTALL_DOCS); do \
	  $(SUBST) dist/systemd/$$d >$(DESTDIR)$(DOCDIR)/$$d; chmod 644 $(DESTDIR)$(DOCDIR)/$$d; done
	$(INSTALL) -m 644 dist/systemd/idlcm.sysusers $(DESTDIR)$(SYSUSERSDIR)/idlcm.conf
	@echo "installed; next: systemd-sysusers, then README \"Operating idlcm\""

# Exactly the files install wrote, then the directories that are ours
# (left alone when someone put files of their own there).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_PROGS)) \
	  $(addprefix $(DESTDIR)$(APPSDIR)/,$(INSTALL_APPS)) \
	  $(addprefix $(DESTDIR)$(MANDIR)/,$(INSTALL_MAN)) \
	  $(addprefix $(DESTDIR)$(UNITDIR)/,$(INSTALL_UNITS)) \
	  $(addprefix $(DESTDIR)$(DOCDIR)/,$(INSTALL_DOCS)) \
	  $(DESTDIR)$(SYSUSERSDIR)/idlcm.conf
	-rmdir $(DESTDIR)$(APPSDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null
	-rmdir $(dir $(DESTDIR)$(APPSDIR)) 2>/dev/null

-include $(shell find build -name '*.d' 2>/dev/null)
