#!/usr/bin/env bats
# The promotion journal's home (issue 14, item 1): a promotion changes
# nothing it cannot journal.  state_dir is checked where a mistake is
# cheapest (replwatchd -n, startup, reload), again before a promotion, and
# at every change during one.  "Full" and "read-only" are real: a small
# tmpfs filled with dd, remounted read-only.

bats_require_minimum_version 1.5.0

load lib
load daemon

setup_file() {
	[[ -x $DAEMON_BIN && -x $CTL_BIN ]] || skip "build replwatchd and replwatchctl first"
}

teardown() {
	[[ -n ${LOCKER_PID:-} ]] && { kill "$LOCKER_PID" 2>/dev/null; wait "$LOCKER_PID" 2>/dev/null; }
	[[ -n ${PROMOTE_PID:-} ]] && { kill "$PROMOTE_PID" 2>/dev/null; wait "$PROMOTE_PID" 2>/dev/null; }
	daemon_stop_all
	[[ -n ${SB:-} ]] && sandbox_down "$SB"
	[[ -n ${TMPFS:-} ]] && mountpoint -q "$TMPFS" && umount "$TMPFS"
	return 0
}

teardown_file() {
	daemon_stop_all
	sandbox_down_all
}

# small_tmpfs: a 256 KiB tmpfs at TMPFS (unmounted by teardown)
small_tmpfs() {
	TMPFS=$BATS_TEST_TMPDIR/tmpfs
	mkdir -p "$TMPFS"
	mount -t tmpfs -o size=256k,mode=0750 replwatch-test "$TMPFS"
}
# fill: no block left on TMPFS (dd stops at ENOSPC)
fill() { dd if=/dev/zero of="$TMPFS/fill" bs=4k 2>/dev/null || true; }
# check_conf: replwatchd -n on CONF
check_conf() { run --separate-stderr "$DAEMON_BIN" -n -c "$CONF"; echo "$stderr"; }
# start_fails: replwatchd (not -n) exits 1 at once, saying why on stderr
start_fails() {
	run --separate-stderr timeout 10 "$DAEMON_BIN" -c "$CONF"
	echo "$stderr"
	[[ $status == 1 && $stderr == *"$CONF: state_dir $1"* && ! -e $SOCK ]]
}

@test "-n and startup refuse a state_dir that is full, read-only, a file, or missing with no parent" {
	small_tmpfs
	daemon_conf --offline '[daemon]' "state_dir = $TMPFS"
	check_conf
	[[ $status == 0 && $output == *"configuration OK"* ]]

	fill
	check_conf
	[[ $status == 1 && $stderr == "$CONF: state_dir $TMPFS: cannot write a journal there: write: No space left on device"* ]]
	start_fails "$TMPFS: cannot write a journal there: write: No space left on device"
	rm "$TMPFS/fill"

	mount -o remount,ro "$TMPFS"
	check_conf
	[[ $status == 1 && $stderr == *"$TMPFS: cannot write a journal there: create: Read-only file system"* ]]
	start_fails "$TMPFS: cannot write a journal there: create: Read-only file system"
	mount -o remount,rw "$TMPFS"
	# The probe leaves nothing behind.
	[[ -z $(ls -A "$TMPFS") ]]

	: >"$BATS_TEST_TMPDIR/file"
	daemon_conf --offline '[daemon]' "state_dir = $BATS_TEST_TMPDIR/file"
	check_conf
	[[ $status == 1 && $stderr == *"state_dir $BATS_TEST_TMPDIR/file: not a directory"* ]]

	daemon_conf --offline '[daemon]' "state_dir = $BATS_TEST_TMPDIR/no/such"
	check_conf
	[[ $status == 1 && $stderr == *"state_dir $BATS_TEST_TMPDIR/no/such: does not exist and cannot be created"* ]]
	start_fails "$BATS_TEST_TMPDIR/no/such: does not exist"
}

@test "a missing state_dir under a writable parent passes -n (not created) and is created (0750) at startup" {
	daemon_conf --offline '[daemon]' "state_dir = $BATS_TEST_TMPDIR/state"
	check_conf
	[[ $status == 0 && ! -e $BATS_TEST_TMPDIR/state ]]
	daemon_launch
	[[ -d $BATS_TEST_TMPDIR/state && $(stat -c %a "$BATS_TEST_TMPDIR/state") == 750 ]]
	daemon_stop
}

@test "reload to a state_dir that cannot be written is refused; the old one is kept" {
	daemon_start --offline
	local good=$DAEMON_DIR/state
	sed -i "s#^state_dir = .*#state_dir = $BATS_TEST_TMPDIR/no/such#" "$CONF"
	run --separate-stderr ctl reload
	echo "$stderr"
	[[ $status != 0 && $stderr == *"state_dir $BATS_TEST_TMPDIR/no/such: does not exist"* ]]
	grep -q "reload refused, old configuration kept" "$DAEMON_LOG"
	[[ -d $good ]]
	run -0 ctl hello
}

@test "a state_dir that fills up while the daemon runs refuses the promotion before anything changes" {
	small_tmpfs
	sandbox_up --flavor mariadb --replicate
	daemon_start --master '[daemon]' "state_dir = $TMPFS"
	wait_state main ok 15
	fill
	run --separate-stderr ctl promote main --yes
	echo "$output"
	echo "$stderr"
	[[ $status == 1 && $stderr == *precondition_failed*journal*cannot\ be\ written*"No space left on device"* ]]
	[[ $(sql_master "SELECT @@global.read_only") == 0 ]]
	[[ $(replica_status Slave_SQL_Running) == Yes ]]
	[[ $(state_of main) == ok ]] || wait_state main ok 5

	# Read-only instead of full: the same.
	rm "$TMPFS/fill"
	mount -o remount,ro "$TMPFS"
	run --separate-stderr ctl promote main --yes
	echo "$stderr"
	[[ $status == 1 && $stderr == *precondition_failed*journal*"Read-only file system"* ]]
	[[ $(sql_master "SELECT @@global.read_only") == 0 ]]
	[[ $(replica_status Slave_SQL_Running) == Yes ]]
}

# journal_step: the step the journal on TMPFS records ("" while none)
journal_step() { jq -r '.step // ""' "$TMPFS/promotion-main.json" 2>/dev/null; }

@test "the journal fills up during the catch-up: the switch is not made, the freeze is rolled back, the report says why" {
	small_tmpfs
	sandbox_up --flavor mariadb --replicate
	daemon_start --master '[daemon]' "state_dir = $TMPFS"
	wait_state main ok 15
	# Hold the replica's SQL thread: a global read lock there (as root)
	# keeps the catch-up waiting for the row below.
	mariadb --defaults-file="$SB/replica-root.cnf" -N -B \
		-e "FLUSH TABLES WITH READ LOCK; SELECT SLEEP(120)" >/dev/null 2>&1 3>&- &
	LOCKER_PID=$!
	wait_until 10 eval '[[ $(sql_replica "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE \"SELECT SLEEP(120)%\"") == 1 ]]'
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('held', 1)"

	ctl --json promote main --yes --timeout 60 >"$BATS_TEST_TMPDIR/report" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	PROMOTE_PID=$!
	wait_until 20 eval '[[ $(journal_step) == catchup ]]'
	[[ $(sql_master "SELECT @@global.read_only") == 1 ]]
	fill
	# Release the replica: the catch-up completes; the switch must be
	# journaled first, and cannot be.
	sql_replica "KILL $(sql_replica "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(120)%'")"
	local rc=0
	wait "$PROMOTE_PID" || rc=$?
	PROMOTE_PID=
	cat "$BATS_TEST_TMPDIR/report" "$BATS_TEST_TMPDIR/err"
	[[ $rc != 0 ]]
	local report
	report=$(tail -n 1 "$BATS_TEST_TMPDIR/report")
	jq -e '.outcome != "promoted" and .switched == false and (.reason | test("journal cannot be written"))' <<<"$report"
	grep -q "No space left on device" <<<"$report"
	# Rolled back: the old master takes writes again, the replica still
	# replicates (and applied the held row), nothing was switched.
	[[ $(sql_master "SELECT @@global.read_only") == 0 ]]
	sql_master app "INSERT INTO app.items (name, qty) VALUES ('after', 1)"
	wait_until 10 eval '[[ $(sql_replica "SELECT COUNT(*) FROM app.items WHERE name IN (\"held\", \"after\")") == 2 ]]'
	[[ $(replica_status Slave_SQL_Running) == Yes && $(replica_status Slave_IO_Running) == Yes ]]
	[[ $(sql_replica "SELECT @@global.read_only") == 1 ]]
	wait_state main ok 10
}
