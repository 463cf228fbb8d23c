# shellcheck shell=bash
# bench/common.bash: helpers shared by the bench/*.sh benchmarks (sourced,
# never run; bench/run.sh skips it because it does not end in .sh).
#
#   source "$(dirname "$0")/common.bash"
#   bench_init detect "$@"      # options, prerequisites, traps, header
#   bench_sandbox               # master+replica (rds-mysql, --replicate)
#   bench_conf CONF INTERVAL_MS NAME...   # one target per NAME, same replica
#   bench_daemon CONF           # start replwatchd, wait for its socket
#   bench_daemon_stop
#   ... print tables with bench_out (stdout and bench/out/NAME.txt)
#
# Cleanup (trap on EXIT, INT, TERM): SIGCONT and kill the daemons started
# here (by pid), stop the sandboxes started here, remove the scratch dir.
# Benchmarks report numbers; they never fail on a timing.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$BENCH_DIR/.." && pwd -P)
SANDBOX=$REPO/tests/sandbox/sandbox
DAEMON=$REPO/daemon/replwatchd
CTL=$REPO/ctl/replwatchctl
OUT_DIR=${BENCH_OUT_DIR:-$BENCH_DIR/out}
QUICK=0
BENCH_NAME=
BENCH_TMP=
BENCH_PIDS=()
BENCH_SANDBOXES=()
DAEMON_PID=
SOCK=

die() {
	printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
	exit 1
}

note() { printf '[%s] %s\n' "$BENCH_NAME" "$*" >&2; }

# Everything a table goes to: stdout and bench/out/NAME.txt.
bench_out() { tee -a "$OUT_DIR/$BENCH_NAME.txt"; }

bench_cleanup() {
	local rc=$? pid dir
	trap - EXIT INT TERM
	for pid in "${BENCH_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for dir in "${BENCH_SANDBOXES[@]}"; do
		"$SANDBOX" down "$dir" >/dev/null 2>&1 ||
			note "sandbox down $dir failed"
	done
	if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
		if ((rc != 0)) && [[ -n ${BENCH_KEEP:-} ]]; then
			note "kept $BENCH_TMP"
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
	exit "$rc"
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "needs '$c' (Debian: run 'make deps', or see the Makefile's DEB_PKGS)"
	done
}

# Machine and versions, for the top of every table.
bench_machine() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	printf 'machine: nproc %s; CPU %s; kernel %s %s\n' "$(nproc)" \
		"${cpu:-unknown}" "$(uname -sr)" "$(uname -m)"
	printf 'os: %s\n' "$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")"
	printf 'versions: %s; %s; mariadb-client %s; %s; %s\n' \
		"$("$DAEMON" -V 2>/dev/null)" \
		"$(mariadbd --version 2>/dev/null | awk '{ print "mariadbd " $3 }')" \
		"$(mariadb --version 2>/dev/null | sed -n 's/.*Distrib \([^ ,]*\).*/\1/p;s/.*from \([^ ,-]*\).*/\1/p' | head -1)" \
		"$(python3 --version 2>&1)" "$(cc --version 2>/dev/null | head -1)"
	printf 'date: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
	printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

bench_header() {
	local title=$1
	{
		printf '\n## %s\n\n' "$title"
		printf 'command: %s\n' "$BENCH_CMDLINE"
		bench_machine
		echo
	} | bench_out
}

# bench_init NAME "$@": parse --quick / --help, check prerequisites, build if
# needed, create the scratch dir, set the traps.
bench_init() {
	BENCH_NAME=$1
	shift
	BENCH_CMDLINE="bench/$BENCH_NAME.sh $*"
	while (($#)); do
		case $1 in
		--quick) QUICK=1 ;;
		-h | --help)
			sed -n '2,/^$/s/^# \{0,1\}//p' "$BENCH_DIR/$BENCH_NAME.sh"
			exit 0
			;;
		*) die "unknown option $1 (usage: bench/$BENCH_NAME.sh [--quick])" ;;
		esac
		shift
	done
	set -o pipefail
	[[ $(uname -s) == Linux ]] || die "Linux only (/proc, SO_PEERCRED)"
	need mariadbd mariadb mariadb-install-db python3 cc jq awk flock setsid
	[[ -x $SANDBOX ]] || die "$SANDBOX missing"
	if [[ ! -x $DAEMON || ! -x $CTL ]]; then
		note "building (make all)"
		make -C "$REPO" all >&2 || die "make all failed"
	fi
	[[ -x $DAEMON && -x $CTL ]] || die "$DAEMON or $CTL missing after make all"
	mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
	: >"$OUT_DIR/$BENCH_NAME.txt"
	# Short path: Unix socket paths are limited to 107 bytes.
	BENCH_TMP=$(mktemp -d "/tmp/rwbench.XXXXXX") || die "mktemp failed"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_sandbox [SANDBOX-UP-OPTIONS]: a replicating pair; sets SB and exports
# the sandbox's env (MASTER_PORT REPLICA_PORT REPLICA_PID ...).
bench_sandbox() {
	local dir out
	dir=$BENCH_TMP/sb$((${#BENCH_SANDBOXES[@]} + 1))
	BENCH_SANDBOXES+=("$dir")
	if ! out=$("$SANDBOX" up "$dir" --flavor rds-mysql --replicate "$@" 2>&1); then
		printf '%s\n' "$out" >&2
		die "sandbox up failed (see above)"
	fi
	note "$out"
	set -a
	# shellcheck disable=SC1091
	source "$dir/env"
	set +a
	SB=$dir
}

# bench_conf FILE INTERVAL_MS NAME...: a configuration watching the current
# sandbox's replica as the RDS master user, once per NAME.
bench_conf() {
	local file=$1 interval=$2 name
	shift 2
	{
		printf '[daemon]\nsocket = %s\nstate_dir = %s\nlog_level = info\n' \
			"$BENCH_TMP/rw.sock" "$BENCH_TMP/state"
		printf 'max_clients = 128\n'
		for name in "$@"; do
			printf '\n[target %s]\nhost = 127.0.0.1\nport = %s\n' "$name" "$REPLICA_PORT"
			printf 'option_file = %s\nflavor = rds-mysql\ninterval_ms = %s\n' \
				"$SB/replica-admin.cnf" "$interval"
		done
	} >"$file"
}

# bench_daemon CONF [WRAPPER...]: start replwatchd (optionally under a
# wrapper such as valgrind) and wait until its socket answers hello.
bench_daemon() {
	local conf=$1 i
	shift
	SOCK=$BENCH_TMP/rw.sock
	rm -f "$SOCK"
	"$@" "$DAEMON" -c "$conf" 2>>"$BENCH_TMP/replwatchd.log" &
	DAEMON_PID=$!
	BENCH_PIDS+=("$DAEMON_PID")
	for ((i = 0; i < 300; i++)); do
		if [[ -S $SOCK ]] && "$CTL" -s "$SOCK" --timeout 2 hello >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$BENCH_TMP/replwatchd.log" >&2
	die "replwatchd did not answer on $SOCK"
}

_bench_forget() {
	local keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

bench_daemon_stop() {
	[[ -n $DAEMON_PID ]] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	_bench_forget "$DAEMON_PID"
	DAEMON_PID=
}

# bench_run CMD...: run CMD as a background child and wait for it, so that a
# signal reaches the traps at once (bash runs a trap only after a foreground
# child ends) and the cleanup stops CMD too.  Returns CMD's exit status.
bench_run() {
	local pid rc
	"$@" &
	pid=$!
	BENCH_PIDS+=("$pid")
	wait "$pid"
	rc=$?
	_bench_forget "$pid"
	return "$rc"
}

bench_sleep() { bench_run sleep "$1"; }

# Sum of polls.ok over every target of the running daemon.
bench_polls_ok() {
	"$CTL" -s "$SOCK" --json status | jq '[.targets[].polls.ok] | add'
}

# wait_polls N: until every target has at least N successful polls (30 s).
bench_wait_polls() {
	local n=$1 i min
	for ((i = 0; i < 300; i++)); do
		min=$("$CTL" -s "$SOCK" --json status 2>/dev/null |
			jq '[.targets[].polls.ok] | min') && ((${min:-0} >= n)) && return 0
		sleep 0.1
	done
	die "targets did not reach $n polls (log: $(tail -3 "$BENCH_TMP/replwatchd.log"))"
}

# CPU of a process in nanoseconds: the sum of schedstat's run time over its
# threads (precise, but the time of threads that have exited is lost).
cpu_ns_schedstat() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

# Time a process's threads spent runnable but waiting for a CPU, in
# nanoseconds (schedstat's second field): how much the machine's other work
# delayed it.
wait_ns_schedstat() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%d\n", s }'
}

# CPU of a process in clock ticks: utime + stime from /proc/PID/stat
# (includes exited threads; resolution 1/CLK_TCK s).
cpu_ticks_stat() {
	sed 's/^.*) //' /proc/"$1"/stat | awk '{ print $12 + $13 }'
}

# "BUSY TOTAL" jiffies of the whole machine from /proc/stat: two samples give
# how busy it was in between (everything, other people's work included).
machine_jiffies() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t; exit }' /proc/stat
}

# Printed under every table: how loaded the machine was.
bench_footer() {
	printf 'load average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" | bench_out
}

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status; }

now_ns() { local t=$EPOCHREALTIME; echo "${t/./}000"; }
