# replwatch — build, test, install.  See README.md.
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
HOOKDIR   ?= $(PREFIX)/share/replwatch/hooks
# Prometheus rules and the Grafana dashboard, for the admin to load.
MONDIR    ?= $(PREFIX)/share/replwatch
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLDIR  ?= $(PREFIX)/share/bash-completion/completions

SHELL     := /bin/bash
CC        ?= cc
PKGS      := libmariadb libevent libsystemd libcjson inih

# Debian packages for building (BUILD_DEB_PKGS), and for testing, the sandbox
# and the benchmarks (DEB_PKGS: all of them).
BUILD_DEB_PKGS := build-essential pkg-config libmariadb-dev libevent-dev \
            libsystemd-dev libcjson-dev libinih-dev
DEB_PKGS := $(BUILD_DEB_PKGS) libcmocka-dev bats jq \
            mariadb-server mariadb-client sysbench systemd openssl man-db \
            bash-completion python3 python3-prometheus-client python3-yaml \
            prometheus valgrind \
            percona-toolkit haproxy socat prometheus-mysqld-exporter parallel

# PKG_CFLAGS and PKG_LIBS come from .cache/build.mk, which is written by
# pkg-config only after tests/deps.sh has installed the -dev packages (as root;
# otherwise it names the apt-get command).  make remakes the included file and
# restarts, so the first run on a fresh machine installs, then builds.  Goals
# that build nothing do not read it (and so never install anything).
BUILD_MK  := .cache/build.mk
NOBUILD_GOALS := clean uninstall deps
# Goals that need the test packages too get them all in one apt-get run.
FULL_DEPS_GOALS := deps unit integration check asan demo bench fuzz tests/unit/%
ifneq ($(filter-out $(NOBUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(BUILD_MK)
endif

WARN      := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
             -Wstrict-prototypes -Wno-unused-parameter
WERROR    ?= -Werror
OPT       ?= -O2 -g
CFLAGS    ?= $(OPT)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Ilib $(WARN) $(WERROR) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS    += $(PKG_LIBS) -lm

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:.c=.o)
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
DAEMON_OBJ := $(DAEMON_SRC:.c=.o)
CTL_SRC   := $(sort $(wildcard ctl/*.c))
CTL_OBJ   := $(CTL_SRC:.c=.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:.c=)

# Test tools, built with the suite's flags (make asan: under the sanitizers).
TOOLS     := tests/tools/appwriter tests/tools/dbcheck

LIB       := lib/libreplwatch.a
DAEMON    := daemon/replwatchd
# The daemon with the promotion's crash points compiled in (-DRW_FAULTS), for
# the crash tests only: the daemon that is installed has none.
FAULTS    := tests/replwatchd-faults
CTL       := ctl/replwatchctl

.PHONY: all deps check unit integration asan install uninstall clean demo bench fuzz completion

all: $(LIB) $(DAEMON) $(CTL)

%.o: %.c $(wildcard lib/*.h daemon/*.h ctl/*.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(DAEMON): $(DAEMON_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(LIB) $(LDLIBS)

$(CTL): $(CTL_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJ) $(LIB) $(LDLIBS)

# The bash completion's commands and options come from the client's command
# table; this rewrites them in place (ctl.bats checks they are up to date).
completion: $(CTL)
	@set -e; f=completion/replwatchctl.bash; \
	awk -v table="$$(./$(CTL) --complete-table)" \
	    '/^# BEGIN replwatchctl --complete-table$$/ { print; print table; skip = 1; next } \
	     /^# END replwatchctl --complete-table$$/ { skip = 0 } !skip' $$f >$$f.tmp; \
	if cmp -s $$f $$f.tmp; then rm -f $$f.tmp; else mv -f $$f.tmp $$f; echo "updated $$f"; fi

tests/promote-faults.o: daemon/promote.c $(wildcard lib/*.h daemon/*.h)
	$(CC) $(ALL_CFLAGS) -Idaemon -DRW_FAULTS -c -o $@ $<

$(FAULTS): $(filter-out daemon/promote.o,$(DAEMON_OBJ)) tests/promote-faults.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Uses libmariadb only: no object of the library.
tests/tools/appwriter: tests/tools/appwriter.c
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# lib/db.c on its own, from its sources: db.bats tests the module, not the
# archive; built here so make asan runs it under ASan too.
tests/tools/dbcheck: tests/tools/dbcheck.c lib/db.c lib/xmalloc.c lib/log.c lib/clock.c lib/timefmt.c $(wildcard lib/*.h)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

tests/unit/test_%: tests/unit/test_%.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# test_promote compiles daemon/promote.c into itself, with fakes of the rest.
tests/unit/test_promote: daemon/promote.c $(wildcard daemon/*.h)
# test_ctlargs compiles the client's option parser and output helpers in.
tests/unit/test_ctlargs: ctl/args.c ctl/output.c $(wildcard ctl/*.h)

deps:
	@./tests/deps.sh $(DEB_PKGS)

# Regenerated when the Makefile or deps.sh change, or a Debian package is
# installed or removed.  Written only when pkg-config succeeds.
$(BUILD_MK): Makefile tests/deps.sh $(wildcard /var/lib/dpkg/status)
	@if command -v dpkg-query >/dev/null; then \
	    ./tests/deps.sh $(if $(filter $(FULL_DEPS_GOALS),$(MAKECMDGOALS)),$(DEB_PKGS),$(BUILD_DEB_PKGS)); \
	fi
	@mkdir -p $(@D)
	@cflags=$$(pkg-config --cflags $(PKGS)) && libs=$$(pkg-config --libs $(PKGS)) || { \
	    echo "replwatch: pkg-config --cflags --libs $(PKGS) failed; not building without them" >&2; exit 1; }; \
	printf '# Generated by make from pkg-config; deleted by make clean.\nPKG_CFLAGS := %s\nPKG_LIBS := %s\n' \
	    "$$cflags" "$$libs" >$@.tmp && mv -f $@.tmp $@

unit: deps $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t; done

# Two files at a time (GNU parallel), the tests of a file in order: most of
# a test's time is spent waiting on servers (RDS's procedures take 3 s), and
# each file keeps its own sandboxes, daemons and ports.  BATS_JOBS= runs
# one file at a time.
BATS_JOBS ?= --jobs 2 --no-parallelize-within-files
# The longest files first, so that the run does not end on two of them.
BATS_SLOW := $(addprefix tests/integration/,promote.bats setup.bats \
            sandbox.bats exhaustion.bats ops.bats primary.bats)
BATS_FILES := $(BATS_SLOW) $(filter-out $(BATS_SLOW),$(sort $(wildcard tests/integration/*.bats)))

integration: deps all $(TOOLS) $(FAULTS)
	@mkdir -p .cache
	@set -o pipefail; BATS_TEST_TIMEOUT=180 bats --timing $(BATS_JOBS) $(BATS_FILES) | tee .cache/integration.tap; \
	rc=$$?; t=.cache/integration.tap; \
	s=$$(grep -c '^ok .* # skip' $$t); p=$$(grep -c '^ok ' $$t); f=$$(grep -c '^not ok ' $$t); \
	echo "integration: $$((p - s)) passed, $$f failed, $$s skipped"; exit $$rc

check: unit integration

# The whole suite again under AddressSanitizer + UBSan, in a separate tree.
asan: deps
	rm -rf .asan && mkdir .asan && git ls-files -z | xargs -0 cp --parents -t .asan
	$(MAKE) -C .asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 check

# What install puts where.  Man pages and the completion are installed when
# they exist in the tree; uninstall removes every name it may have installed.
MAN_SRC   := $(wildcard man/*.5 man/*.7 man/*.8)
MAN_NAMES := replwatchd.8 replwatchctl.8 replwatch.conf.5 replwatch-protocol.7
CNF_SRC   := $(wildcard conf/*.cnf.example)
CONFDIR    = $(SYSCONFDIR)/replwatch

# The configuration is the admin's: replwatch.conf is installed only when there
# is none, replwatch.conf.example always.  On a real install (no DESTDIR, as
# root) systemd-sysusers and systemd-tmpfiles then create the replwatch user
# and groups and give /etc/replwatch to group replwatch.
install: all
	install -D -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/replwatchd
	install -D -m 0755 $(CTL) $(DESTDIR)$(BINDIR)/replwatchctl
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
	    systemd/replwatchd.service >$(DESTDIR)$(UNITDIR)/replwatchd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/replwatchd.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/replwatchd.service.tmp $(DESTDIR)$(UNITDIR)/replwatchd.service
	install -D -m 0644 systemd/replwatch.sysusers $(DESTDIR)$(SYSUSERSDIR)/replwatch.conf
	install -D -m 0644 systemd/replwatch.tmpfiles $(DESTDIR)$(TMPFILESDIR)/replwatch.conf
	@set -e; for f in $(MAN_SRC); do \
		sec=$${f##*.}; \
		echo "install -D -m 0644 $$f $(DESTDIR)$(MANDIR)/man$$sec/$${f##*/}"; \
		install -D -m 0644 "$$f" "$(DESTDIR)$(MANDIR)/man$$sec/$${f##*/}"; \
	done
	@set -e; if [ -f completion/replwatchctl.bash ]; then \
		echo "install -D -m 0644 completion/replwatchctl.bash $(DESTDIR)$(COMPLDIR)/replwatchctl"; \
		install -D -m 0644 completion/replwatchctl.bash $(DESTDIR)$(COMPLDIR)/replwatchctl; \
	fi
	@set -e; for f in conf/hooks/*; do \
		[ -x "$$f" ] && m=0755 || m=0644; \
		echo "install -D -m $$m $$f $(DESTDIR)$(HOOKDIR)/$${f##*/}"; \
		install -D -m $$m "$$f" "$(DESTDIR)$(HOOKDIR)/$${f##*/}"; \
	done
	install -D -m 0644 conf/prometheus/replwatch.rules.yml $(DESTDIR)$(MONDIR)/prometheus/replwatch.rules.yml
	install -D -m 0644 conf/grafana/replwatch.json $(DESTDIR)$(MONDIR)/grafana/replwatch.json
	install -d -m 0750 $(DESTDIR)$(CONFDIR)
	@set -e; if [ -f conf/replwatch.conf ]; then \
		install -m 0640 conf/replwatch.conf $(DESTDIR)$(CONFDIR)/replwatch.conf.example; \
		if [ -e $(DESTDIR)$(CONFDIR)/replwatch.conf ]; then \
			echo "$(DESTDIR)$(CONFDIR)/replwatch.conf exists: kept (new example: replwatch.conf.example)"; \
		else \
			echo "install -m 0640 conf/replwatch.conf $(DESTDIR)$(CONFDIR)/replwatch.conf"; \
			install -m 0640 conf/replwatch.conf $(DESTDIR)$(CONFDIR)/replwatch.conf; \
		fi; \
	fi
	@set -e; for f in $(CNF_SRC); do \
		install -m 0600 "$$f" "$(DESTDIR)$(CONFDIR)/$${f##*/}"; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v systemd-sysusers >/dev/null; then \
		echo "systemd-sysusers $(SYSUSERSDIR)/replwatch.conf"; \
		systemd-sysusers $(SYSUSERSDIR)/replwatch.conf && \
		systemd-tmpfiles --create $(TMPFILESDIR)/replwatch.conf || \
		echo "replwatch: creating the user or /etc/replwatch failed; see replwatchd(8)" >&2; \
	fi

# Leaves the configuration (replwatch.conf and the admin's option files).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/replwatchd $(DESTDIR)$(BINDIR)/replwatchctl
	rm -f $(DESTDIR)$(UNITDIR)/replwatchd.service
	rm -f $(DESTDIR)$(SYSUSERSDIR)/replwatch.conf $(DESTDIR)$(TMPFILESDIR)/replwatch.conf
	@set -e; for m in $(MAN_NAMES); do \
		echo "rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m"; \
		rm -f "$(DESTDIR)$(MANDIR)/man$${m##*.}/$$m"; \
	done
	rm -f $(DESTDIR)$(COMPLDIR)/replwatchctl
	rm -rf $(DESTDIR)$(HOOKDIR)
	rm -rf $(DESTDIR)$(MONDIR)/prometheus $(DESTDIR)$(MONDIR)/grafana
	rm -f $(DESTDIR)$(CONFDIR)/replwatch.conf.example $(DESTDIR)$(CONFDIR)/*.cnf.example

demo: deps all $(TOOLS)
	./tests/demo.sh

bench: deps all $(TOOLS)
	./bench/run.sh

# libFuzzer harnesses (clang), each run for FUZZ_SECONDS on a corpus in .cache.
FUZZ_SECONDS ?= 30
FUZZ_BIN := $(patsubst %.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
fuzz: deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@set -e; for f in $(FUZZ_BIN); do \
	    clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	        -Ilib $(PKG_CFLAGS) -o $$f $$f.c $(LIB_SRC) $(PKG_LIBS) -lm; \
	    mkdir -p .cache/corpus/$$(basename $$f); \
	    echo "== $$f ($(FUZZ_SECONDS) s)"; \
	    ./$$f -max_total_time=$(FUZZ_SECONDS) -max_len=70000 .cache/corpus/$$(basename $$f) 2>&1 | tail -3; \
	done

clean:
	rm -f $(LIB_OBJ) $(DAEMON_OBJ) $(CTL_OBJ) $(LIB) $(DAEMON) $(CTL) $(UNIT_BIN) $(FUZZ_BIN) $(TOOLS) $(FAULTS) tests/promote-faults.o
	rm -rf .asan $(BUILD_MK) $(BUILD_MK).tmp
