#!/usr/bin/env bats
# `make install` / `make uninstall` into a DESTDIR, and the installed unit
# checked by systemd-analyze (verify, and security --offline).  Nothing here
# touches the real system: every path is under a temporary DESTDIR.

bats_require_minimum_version 1.5.0

load lib

# The exposure systemd-analyze security may report at most ("OK" or better).
MAX_EXPOSURE=2.0

# install_into DIR: make install PREFIX=/usr DESTDIR=DIR, output in DIR.log.
install_into() {
	make -s -C "$REPO" install PREFIX=/usr DESTDIR="$1" >"$1.log" 2>&1 || {
		cat "$1.log"
		return 1
	}
}

setup_file() {
	DEST=$BATS_FILE_TMPDIR/root
	export DEST
	mkdir -p "$DEST"
	install_into "$DEST"
}

# mode PATH: octal permission bits.
mode() { stat -c %a "$1"; }

@test "binaries, unit, sysusers and tmpfiles snippets land where systemd looks, with their modes" {
	[[ $(mode "$DEST/usr/sbin/replwatchd") == 755 ]]
	[[ $(mode "$DEST/usr/bin/replwatchctl") == 755 ]]
	[[ $(mode "$DEST/usr/lib/systemd/system/replwatchd.service") == 644 ]]
	[[ $(mode "$DEST/usr/lib/sysusers.d/replwatch.conf") == 644 ]]
	[[ $(mode "$DEST/usr/lib/tmpfiles.d/replwatch.conf") == 644 ]]
	cmp "$REPO/systemd/replwatch.sysusers" "$DEST/usr/lib/sysusers.d/replwatch.conf"
	cmp "$REPO/systemd/replwatch.tmpfiles" "$DEST/usr/lib/tmpfiles.d/replwatch.conf"
	# The installed programs are the built ones and run.
	cmp "$REPO/daemon/replwatchd" "$DEST/usr/sbin/replwatchd"
	run "$DEST/usr/sbin/replwatchd" -V
	[[ $status -eq 0 && $output == replwatchd\ * ]]
	# No stray temporary file from the unit's substitution.
	[[ ! -e $DEST/usr/lib/systemd/system/replwatchd.service.tmp ]]
}

@test "configuration: /etc/replwatch 0750, replwatch.conf and its example 0640, option file examples 0600" {
	[[ -f $REPO/conf/replwatch.conf ]] || skip "conf/replwatch.conf is not in the tree yet"
	[[ $(mode "$DEST/etc/replwatch") == 750 ]]
	[[ $(mode "$DEST/etc/replwatch/replwatch.conf") == 640 ]]
	[[ $(mode "$DEST/etc/replwatch/replwatch.conf.example") == 640 ]]
	cmp "$REPO/conf/replwatch.conf" "$DEST/etc/replwatch/replwatch.conf"
	n=0
	for f in "$REPO"/conf/*.cnf.example; do
		[[ -e $f ]] || continue
		[[ $(mode "$DEST/etc/replwatch/${f##*/}") == 600 ]]
		n=$((n + 1))
	done
	((n >= 1))
}

@test "the unit runs the installed daemon: ExecStart and ExecStartPre name /usr/sbin/replwatchd" {
	unit=$DEST/usr/lib/systemd/system/replwatchd.service
	grep -qx 'ExecStart=/usr/sbin/replwatchd -c /etc/replwatch/replwatch.conf' "$unit"
	grep -qx 'ExecStartPre=/usr/sbin/replwatchd -n -c /etc/replwatch/replwatch.conf' "$unit"
	run ! grep -n '@[A-Z]*@' "$unit"
	# Another prefix goes into the unit too.
	other=$BATS_TEST_TMPDIR/other
	make -s -C "$REPO" install PREFIX=/opt/rw DESTDIR="$other" >/dev/null
	grep -qx 'ExecStart=/opt/rw/sbin/replwatchd -c /etc/replwatch/replwatch.conf' \
		"$other/opt/rw/lib/systemd/system/replwatchd.service"
	[[ -x $other/opt/rw/sbin/replwatchd && -x $other/opt/rw/bin/replwatchctl ]]
}

@test "man pages are installed 0644 in their sections and render without warnings" {
	pages=("$REPO"/man/*.[578])
	[[ -e ${pages[0]} ]] || skip "no man pages in the tree yet"
	[[ -e $REPO/man/replwatchd.8 ]]
	for src in "${pages[@]}"; do
		name=${src##*/}
		dst=$DEST/usr/share/man/man${name##*.}/$name
		[[ $(mode "$dst") == 644 ]]
		run bash -c 'LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null' _ "$dst"
		[[ $status -eq 0 && -z $output ]] || {
			echo "$name: $output"
			false
		}
		# And it says something: the NAME section names the page.
		LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$dst" 2>/dev/null | grep -q "${name%.*}"
	done
}

@test "bash completion is installed as completions/replwatchctl when the tree has it" {
	[[ -f $REPO/completion/replwatchctl.bash ]] || skip "completion/replwatchctl.bash is not in the tree yet"
	f=$DEST/usr/share/bash-completion/completions/replwatchctl
	[[ $(mode "$f") == 644 ]]
	cmp "$REPO/completion/replwatchctl.bash" "$f"
}

@test "installing again keeps an edited replwatch.conf and refreshes the example" {
	[[ -f $REPO/conf/replwatch.conf ]] || skip "conf/replwatch.conf is not in the tree yet"
	d=$BATS_TEST_TMPDIR/again
	install_into "$d"
	conf=$d/etc/replwatch/replwatch.conf
	printf '# edited by the admin\n' >>"$conf"
	chmod 0600 "$conf"
	cp "$conf" "$BATS_TEST_TMPDIR/edited"
	echo stale >"$d/etc/replwatch/replwatch.conf.example"
	install_into "$d"
	cmp "$BATS_TEST_TMPDIR/edited" "$conf"
	[[ $(mode "$conf") == 600 ]]
	grep -q 'exists: kept' "$d.log"
	cmp "$REPO/conf/replwatch.conf" "$d/etc/replwatch/replwatch.conf.example"
}

@test "the on_switch hooks land in share/replwatch/hooks: the tested one executable, the examples not" {
	local h=$DEST/usr/share/replwatch/hooks
	[[ $(mode "$h/haproxy-switch") == 755 ]]
	cmp "$REPO/conf/hooks/haproxy-switch" "$h/haproxy-switch"
	for f in "$REPO"/conf/hooks/*.example; do
		[[ $(mode "$h/${f##*/}") == 644 ]]
	done
	# The config example names the installed path.
	grep -q '^#on_switch = /usr/share/replwatch/hooks/haproxy-switch ' "$REPO/conf/replwatch.conf"
}

@test "make uninstall removes every file it installed and leaves the configuration" {
	d=$BATS_TEST_TMPDIR/un
	install_into "$d"
	# An option file the admin made is configuration too.
	printf '[client]\nuser = u\npassword = p\n' >"$d/etc/replwatch/rds1.cnf"
	before=$(find "$d" -type f | wc -l)
	((before >= 6))
	make -s -C "$REPO" uninstall PREFIX=/usr DESTDIR="$d"
	run bash -c 'cd "$1" && find . -type f | sort' _ "$d"
	expected=./etc/replwatch/rds1.cnf
	[[ -f $REPO/conf/replwatch.conf ]] &&
		expected=$(printf '%s\n' ./etc/replwatch/rds1.cnf ./etc/replwatch/replwatch.conf)
	[[ $output == "$expected" ]] || {
		printf 'left behind:\n%s\n' "$output"
		false
	}
	# Uninstalling twice is harmless.
	make -s -C "$REPO" uninstall PREFIX=/usr DESTDIR="$d"
}

@test "systemd-sysusers and systemd-tmpfiles in the installed root make the user, groups and /etc/replwatch" {
	command -v systemd-sysusers >/dev/null || skip "systemd-sysusers missing: make deps"
	d=$BATS_TEST_TMPDIR/sys
	install_into "$d"
	systemd-sysusers --root="$d" replwatch.conf
	grep -q '^replwatch:x:[0-9]*:[0-9]*:replwatch daemon:/var/lib/replwatch:' "$d/etc/passwd"
	grep -q '^replwatch:x:' "$d/etc/group"
	grep -q '^replwatch-admin:x:' "$d/etc/group"
	systemd-tmpfiles --root="$d" --create replwatch.conf
	gid=$(awk -F: '$1 == "replwatch" { print $3 }' "$d/etc/group")
	[[ $(stat -c '%a %u %g' "$d/etc/replwatch") == "750 0 $gid" ]]
	if [[ -f $REPO/conf/replwatch.conf ]]; then
		[[ $(stat -c '%a %u %g' "$d/etc/replwatch/replwatch.conf") == "640 0 $gid" ]]
	fi
}

@test "systemd-analyze verify finds nothing to say about the installed unit" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze missing: make deps"
	# verify wants the ExecStart= binary to exist; with --root it would also
	# want a whole systemd tree there.  So check a copy of the installed unit
	# in which only the binary's directory points into DESTDIR.
	unit=$DEST/usr/lib/systemd/system/replwatchd.service
	mkdir -p "$BATS_TEST_TMPDIR/u"
	sed -e "s|=/usr/sbin/replwatchd |=$DEST/usr/sbin/replwatchd |" \
		-e "s|=/usr/bin/replwatchctl |=$DEST/usr/bin/replwatchctl |" "$unit" \
		>"$BATS_TEST_TMPDIR/u/replwatchd.service"
	[[ $(diff "$unit" "$BATS_TEST_TMPDIR/u/replwatchd.service" | grep -c '^>') == 3 ]]
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/u/replwatchd.service"
	[[ $status -eq 0 && -z $output ]] || {
		echo "$output"
		false
	}
	# And verify does complain about a unit whose daemon is missing.
	sed "s|=/usr/sbin/replwatchd |=$DEST/nonexistent/replwatchd |" "$unit" \
		>"$BATS_TEST_TMPDIR/u/replwatchd.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/u/replwatchd.service"
	[[ $output == *"is not executable"* ]]
}

@test "systemd-analyze security --offline: exposure at most $MAX_EXPOSURE" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze missing: make deps"
	unit=$DEST/usr/lib/systemd/system/replwatchd.service
	run env LC_ALL=C systemd-analyze security --offline=true --no-pager "$unit"
	line=$(grep -o 'Overall exposure level for replwatchd.service: [0-9.]* [A-Z]*' <<<"$output")
	[[ -n $line ]] || {
		echo "$output"
		false
	}
	level=$(awk '{ print $(NF - 1) }' <<<"$line")
	echo "# $line" >&3
	awk -v l="$level" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(l <= max) }' || {
		echo "$output"
		false
	}
	# The settings the daemon's safety rests on are really there.
	for want in 'User=/DynamicUser=' 'NoNewPrivileges=' 'ProtectSystem=' \
		'SystemCallFilter=~@mount' 'CapabilityBoundingSet=~CAP_SYS_ADMIN' \
		'MemoryDenyWriteExecute='; do
		grep -q "^+ $want" <<<"$output" || {
			echo "not passed: $want"
			false
		}
	done
}

@test "the Prometheus rules and the Grafana dashboard land in share/replwatch, 0644" {
	local s=$DEST/usr/share/replwatch
	[[ $(mode "$s/prometheus/replwatch.rules.yml") == 644 ]]
	[[ $(mode "$s/grafana/replwatch.json") == 644 ]]
	cmp "$REPO/conf/prometheus/replwatch.rules.yml" "$s/prometheus/replwatch.rules.yml"
	cmp "$REPO/conf/grafana/replwatch.json" "$s/grafana/replwatch.json"
}

# make demo on a fresh machine: the demo's application writer is a test
# tool, which only make check used to build.
@test "make demo and make bench build the tools they run, in a tree never built" {
	local tree=$BATS_TEST_TMPDIR/tree goal
	mkdir "$tree"
	git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 cp --parents -t "$tree")
	for goal in demo bench; do
		run -0 make -C "$tree" -n "$goal"
		[[ $output == *"-o tests/tools/appwriter tests/tools/appwriter.c"* ]]
	done
}
