# replwatch — build, test, install.  See README.md.
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
COMPLDIR  ?= $(PREFIX)/share/bash-completion/completions

SHELL     := /bin/bash
CC        ?= cc
PKGS      := libmariadb libevent libsystemd libcjson inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
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

LIB       := lib/libreplwatch.a
DAEMON    := daemon/replwatchd
CTL       := ctl/replwatchctl

.PHONY: all deps check unit integration asan install uninstall clean demo bench fuzz

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

tests/unit/test_%: tests/unit/test_%.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# Debian packages for building, testing, the sandbox and the benchmarks.
DEB_PKGS := build-essential pkg-config libmariadb-dev libevent-dev \
            libsystemd-dev libcjson-dev libinih-dev libcmocka-dev bats jq \
            mariadb-server mariadb-client sysbench systemd openssl man-db \
            bash-completion python3 python3-prometheus-client valgrind
deps:
	@./tests/deps.sh $(DEB_PKGS)

unit: deps $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t; done

integration: deps all
	@mkdir -p .cache
	@set -o pipefail; BATS_TEST_TIMEOUT=180 bats --timing tests/integration | tee .cache/integration.tap; \
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
	rm -f $(DESTDIR)$(CONFDIR)/replwatch.conf.example $(DESTDIR)$(CONFDIR)/*.cnf.example

demo: deps all
	./tests/demo.sh

bench: deps all
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
	rm -f $(LIB_OBJ) $(DAEMON_OBJ) $(CTL_OBJ) $(LIB) $(DAEMON) $(CTL) $(UNIT_BIN) $(FUZZ_BIN)
	rm -rf .asan
