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
            bash-completion
deps:
	@./tests/deps.sh $(DEB_PKGS)

unit: deps $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t; done

integration: deps all
	bats --timing tests/integration

check: unit integration

# The whole suite again under AddressSanitizer + UBSan, in a separate tree.
asan: deps
	rm -rf .asan && mkdir .asan && git ls-files -z | xargs -0 cp --parents -t .asan
	$(MAKE) -C .asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 check

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/replwatchd
	install -m 0755 $(CTL) $(DESTDIR)$(BINDIR)/replwatchctl
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/replwatch.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/replwatchd.8 man/replwatchctl.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/replwatchd $(DESTDIR)$(BINDIR)/replwatchctl
	rm -f $(DESTDIR)$(MANDIR)/man5/replwatch.conf.5
	rm -f $(DESTDIR)$(MANDIR)/man8/replwatchd.8 $(DESTDIR)$(MANDIR)/man8/replwatchctl.8

demo: deps all
	./tests/demo.sh

bench: deps all
	./bench/run.sh

clean:
	rm -f $(LIB_OBJ) $(DAEMON_OBJ) $(CTL_OBJ) $(LIB) $(DAEMON) $(CTL) $(UNIT_BIN)
	rm -rf .asan
