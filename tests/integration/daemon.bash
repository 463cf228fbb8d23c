# shellcheck shell=bash
# tests/integration/daemon.bash: run the real replwatchd from bats tests.
#
#   load lib                 # sandboxes (optional: see --offline)
#   load daemon
#
#   setup_file() {
#       sandbox_up --flavor rds-mysql --replicate
#       daemon_start --master 'lag_warn_s = 1' 'hysteresis = 2'
#       # exported: DAEMON_DIR CONF SOCK DAEMON_LOG DAEMON_PID
#   }
#   teardown_file() {
#       daemon_stop_all          # every daemon this file started (before
#       sandbox_down_all         # the sandboxes, so no error noise)
#   }
#   @test "healthy" {
#       wait_state main ok 10
#       run ctl --json status main
#       jq -e '.lag.ms == 0' <<<"$output"
#   }
#
# daemon_conf  [OPTIONS] [LINE...]   write a configuration (no daemon) into a
#                                    new DAEMON_DIR; sets CONF SOCK DAEMON_DIR
# daemon_start [OPTIONS] [LINE...]   daemon_conf, then start replwatchd -c CONF
#                                    in the background (stderr to DAEMON_LOG,
#                                    log_level debug unless overridden) and
#                                    wait until `replwatchctl hello` answers
#   OPTIONS:
#     --master     give target main the sandbox's master (DIR/master-root.cnf)
#     --offline    target main is 127.0.0.1:1 (nothing listens) even when a
#                  sandbox is current: for protocol tests
#     --no-main    no target main (then give a [target NAME] yourself)
#     --no-wait    (daemon_start) do not wait for the socket
#   LINE: a configuration line.  "key = value" (or key=value) sets the key in
#   the current section, replacing a default there; "-key" removes a default;
#   "[daemon]" or "[target NAME]" switches section (a new target starts
#   empty; daemon_target_lines prints a sandbox's lines for one).  Lines
#   before any section header go to [target main].
#   Defaults: [daemon] socket state_dir log_level=debug metrics_listen=
#   (none); [target main] host port option_file (replica-admin.cnf),
#   interval_ms=250, connect_timeout_ms=1000, query_timeout_ms=1000; with
#   --master also master_host master_port master_option_file.
# daemon_launch [--no-wait]         start replwatchd on the current CONF and
#                                    DAEMON_DIR again (after daemon_stop, a
#                                    kill, or a daemon_conf you edited); the
#                                    log is appended to
# daemon_target_lines DIR [--master]  "key = value" lines for a target that
#                                    watches the sandbox in DIR
# daemon_stop                        SIGTERM the current daemon, wait (10 s),
#                                    fail unless it exited with status 0 and
#                                    removed its socket; idempotent
# daemon_stop_all                    clean-up for teardown_file: TERM (then
#                                    KILL) every daemon this file started and
#                                    remove their directories (kept with
#                                    REPLWATCH_KEEP_DAEMON_DIRS=1); fails
#                                    only when one had crashed (SIGSEGV,
#                                    SIGABRT, ...: its log tail is printed)
# daemon_alive                       the current daemon still runs
# daemon_reload                      SIGHUP, then wait until the log says
#                                    "reloaded" or "reload refused"
# ctl ARGS...                        replwatchctl -s $SOCK ARGS...
# state_of TARGET                    the target's state (replwatchctl --json)
# status_json [TARGET]               replwatchctl --json status [TARGET]
# wait_state TARGET STATE TIMEOUT_S  poll state_of every 0.1 s; on time-out
#                                    print the last status to stderr, fail
# wait_log TIMEOUT_S REGEX           until DAEMON_LOG matches (grep -E)
# rw_raw [-u USER] [-t S] LINE...    raw client: send each LINE (a request)
#                                    on one connection, print every reply
#                                    line until each request has its final
#                                    line (or EOF / S seconds, default 5)
#
# REPLWATCH_DAEMON_BIN / REPLWATCH_CTL_BIN run other builds (ASan, an old
# commit) instead of daemon/replwatchd and ctl/replwatchctl.
#
# A daemon started inside a @test is the test's to stop (call daemon_stop
# in teardown); daemon_stop_all catches what is left.  Variables set by one
# daemon_start replace the previous ones: save them to juggle two daemons.

DAEMON_BIN=${REPLWATCH_DAEMON_BIN:-$REPO/daemon/replwatchd}
CTL_BIN=${REPLWATCH_CTL_BIN:-$REPO/ctl/replwatchctl}
export DAEMON_BIN CTL_BIN

_daemon_registry() {
	printf '%s/replwatch-daemons.list\n' "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}"
}

# Emit section NAME from the key/value store (in insertion order).
_daemon_emit() {
	local sect=$1 k
	printf '[%s]\n' "$sect"
	for k in ${_DC_ORDER[$sect]:-}; do
		[[ -v "_DC_KV[$sect|$k]" ]] || continue
		printf '%s = %s\n' "$k" "${_DC_KV[$sect|$k]}"
	done
	printf '\n'
}

_daemon_set() { # SECTION KEY VALUE
	if [[ ! -v "_DC_KV[$1|$2]" ]]; then
		_DC_ORDER[$1]+=" $2"
	fi
	_DC_KV[$1|$2]=$3
}

daemon_target_lines() {
	local dir=$1 port
	port=$(. "$dir/env" && echo "$REPLICA_PORT")
	printf 'host = 127.0.0.1\nport = %s\noption_file = %s\n' "$port" "$dir/replica-admin.cnf"
	if [[ ${2:-} == --master ]]; then
		port=$(. "$dir/env" && echo "$MASTER_PORT")
		printf 'master_host = 127.0.0.1\nmaster_port = %s\nmaster_option_file = %s\n' \
			"$port" "$dir/master-root.cnf"
	fi
}

daemon_conf() {
	local master=0 offline=0 main=1 line sect k v
	DAEMON_NOWAIT=0
	while (($#)); do
		case $1 in
		--master) master=1 ;;
		--offline) offline=1 ;;
		--no-main) main=0 ;;
		--no-wait) DAEMON_NOWAIT=1 ;;
		*) break ;;
		esac
		shift
	done
	# Short path: a Unix socket path is limited to 107 bytes.
	DAEMON_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rwd.XXXXXX") || return 1
	CONF=$DAEMON_DIR/replwatch.conf
	SOCK=$DAEMON_DIR/replwatch.sock
	DAEMON_LOG=$DAEMON_DIR/replwatchd.log
	DAEMON_PID=""
	export DAEMON_DIR CONF SOCK DAEMON_LOG DAEMON_PID

	declare -gA _DC_KV=() _DC_ORDER=()
	declare -ga _DC_SECTS=(daemon)
	_daemon_set daemon socket "$SOCK"
	_daemon_set daemon state_dir "$DAEMON_DIR/state"
	_daemon_set daemon log_level debug
	_daemon_set daemon metrics_listen ""
	if ((main)); then
		_DC_SECTS+=("target main")
		if ((offline)) || [[ -z ${SB:-} ]]; then
			printf '[client]\nuser=nobody\n' >"$DAEMON_DIR/offline.cnf"
			_daemon_set "target main" host 127.0.0.1
			_daemon_set "target main" port 1
			_daemon_set "target main" option_file "$DAEMON_DIR/offline.cnf"
		else
			while IFS= read -r line; do
				_daemon_set "target main" "${line%% = *}" "${line#* = }"
			done < <(daemon_target_lines "$SB" "$( ((master)) && echo --master)")
		fi
		_daemon_set "target main" interval_ms 250
		_daemon_set "target main" connect_timeout_ms 1000
		_daemon_set "target main" query_timeout_ms 1000
	fi
	sect="target main"
	for line in "$@"; do
		if [[ $line =~ ^\[(.*)\]$ ]]; then
			sect=${BASH_REMATCH[1]}
			[[ " ${_DC_SECTS[*]} " == *" $sect "* ]] || _DC_SECTS+=("$sect")
			continue
		fi
		if [[ $line == -* ]]; then
			unset "_DC_KV[$sect|${line#-}]"
			continue
		fi
		if [[ $line != *=* ]]; then
			echo "daemon_conf: not key = value: '$line'" >&2
			return 1
		fi
		k=${line%%=*} v=${line#*=}
		k=${k%"${k##*[! ]}"} v=${v#"${v%%[! ]*}"}
		[[ " ${_DC_SECTS[*]} " == *" $sect "* ]] || _DC_SECTS+=("$sect")
		_daemon_set "$sect" "$k" "$v"
	done
	{
		printf '# written by tests/integration/daemon.bash\n'
		for sect in "${_DC_SECTS[@]}"; do
			_daemon_emit "$sect"
		done
	} >"$CONF"
}

daemon_start() {
	daemon_conf "$@" || return 1
	if ((DAEMON_NOWAIT)); then
		daemon_launch --no-wait
	else
		daemon_launch
	fi
}

daemon_launch() {
	local i nowait=0
	[[ ${1:-} == --no-wait ]] && nowait=1
	rm -f "$DAEMON_DIR/pid" "$DAEMON_DIR/rc" "$DAEMON_DIR/stopped"
	touch "$DAEMON_LOG"
	# Logs on stderr, never to the journal; no inherited bats descriptors
	# (fd 3 would keep bats waiting); exit status into DAEMON_DIR/rc.
	(
		unset JOURNAL_STREAM NOTIFY_SOCKET LISTEN_FDS WATCHDOG_USEC
		"$DAEMON_BIN" -c "$CONF" 2>>"$DAEMON_LOG" </dev/null >/dev/null 3>&- 4>&- &
		echo $! >"$DAEMON_DIR/pid"
		rc=0
		wait $! || rc=$?    # (bats runs tests under set -e)
		echo "$rc" >"$DAEMON_DIR/rc"
	) 3>&- 4>&- &
	for ((i = 0; i < 100; i++)); do
		[[ -s $DAEMON_DIR/pid ]] && break
		sleep 0.01
	done
	DAEMON_PID=$(<"$DAEMON_DIR/pid")
	export DAEMON_PID
	printf '%s %s\n' "$DAEMON_PID" "$DAEMON_DIR" >>"$(_daemon_registry)"
	((nowait)) && return 0
	for ((i = 0; i < 200; i++)); do
		if [[ -S $SOCK ]] && "$CTL_BIN" -s "$SOCK" --timeout 2 hello >/dev/null 2>&1; then
			return 0
		fi
		if [[ -s $DAEMON_DIR/rc ]]; then
			echo "daemon_start: replwatchd exited with status $(<"$DAEMON_DIR/rc"); log:" >&2
			touch "$DAEMON_DIR/stopped"
			tail -n 30 "$DAEMON_LOG" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "daemon_start: replwatchd (pid $DAEMON_PID) did not answer on $SOCK in 10 s; log:" >&2
	tail -n 30 "$DAEMON_LOG" >&2
	return 1
}

daemon_alive() {
	[[ -n ${DAEMON_PID:-} ]] && ! process_gone "$DAEMON_PID"
}

daemon_stop() {
	local pid=${DAEMON_PID:-} dir=${DAEMON_DIR:-}
	[[ -n $pid && -n $dir ]] || return 0
	if [[ -s $dir/rc && ! -e $dir/stopped ]]; then
		echo "daemon_stop: replwatchd $pid had already exited with status $(<"$dir/rc")" >&2
		touch "$dir/stopped"
		return 1
	fi
	[[ -e $dir/stopped ]] && return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until 10 test -s "$dir/rc"; then
		echo "daemon_stop: replwatchd $pid still running 10 s after SIGTERM; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
		touch "$dir/stopped"
		return 1
	fi
	touch "$dir/stopped"
	if [[ $(<"$dir/rc") != 0 ]]; then
		echo "daemon_stop: replwatchd exited with status $(<"$dir/rc"); log:" >&2
		tail -n 20 "$dir/replwatchd.log" >&2
		return 1
	fi
	if [[ -e $dir/replwatch.sock ]]; then
		echo "daemon_stop: the socket $dir/replwatch.sock is still there" >&2
		return 1
	fi
}

daemon_stop_all() {
	local reg pid dir i rc=0
	reg=$(_daemon_registry)
	[[ -f $reg ]] || return 0
	while read -r pid dir; do
		[[ -n $pid ]] || continue
		[[ -e $dir/stopped ]] && continue
		if [[ -s $dir/rc ]]; then
			# A crash fails the clean-up; a SIGKILL a test sent, or a
			# refusal to start, does not.
			case $(<"$dir/rc") in
			132 | 134 | 135 | 136 | 139)
				echo "daemon_stop_all: replwatchd $pid ($dir) crashed, status $(<"$dir/rc"); log:" >&2
				tail -n 20 "$dir/replwatchd.log" >&2
				rc=1
				;;
			esac
			touch "$dir/stopped"
			continue
		fi
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 100; i++)); do
			process_gone "$pid" && break
			sleep 0.05
		done
		process_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
		touch "$dir/stopped"
	done <"$reg"
	if [[ ${REPLWATCH_KEEP_DAEMON_DIRS:-0} != 1 ]]; then
		while read -r pid dir; do
			if [[ $dir == */rwd.* ]]; then rm -rf "$dir"; fi
		done <"$reg"
	fi
	return "$rc"
}

daemon_reload() {
	local before
	before=$(grep -cE 'reloaded|reload refused' "$DAEMON_LOG" || true)
	kill -HUP "$DAEMON_PID"
	wait_until 10 _daemon_reload_logged "$before"
}

_daemon_reload_logged() {
	local n
	n=$(grep -cE 'reloaded|reload refused' "$DAEMON_LOG" || true)
	((n > $1))
}

ctl() {
	"$CTL_BIN" -s "$SOCK" "$@"
}

status_json() {
	"$CTL_BIN" -s "$SOCK" --json status "$@"
}

state_of() {
	"$CTL_BIN" -s "$SOCK" --json status "$1" | jq -r .state
}

wait_state() {
	local target=$1 want=$2 timeout=$3
	if wait_until "$timeout" _state_is "$target" "$want" 2>/dev/null; then
		return 0
	fi
	echo "wait_state: $target not $want after ${timeout}s; now:" >&2
	"$CTL_BIN" -s "$SOCK" --json status "$target" |
		jq -c '{state, reason, lag, io: .replication.io_running, sql: .replication.sql_running}' >&2
	return 1
}

_state_is() {
	[[ $(state_of "$1" 2>/dev/null) == "$2" ]]
}

wait_log() {
	local timeout=$1 re=$2
	wait_until "$timeout" grep -qE -- "$re" "$DAEMON_LOG"
}

# The raw client: python3 from the system (runs as any user).
RW_RAW_PY='
import json, socket, sys, time
path, timeout, reqs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.sendall(b"".join(r.encode() + b"\n" for r in reqs))
want, buf, deadline = len(reqs), b"", time.time() + timeout
while want > 0:
    left = deadline - time.time()
    if left <= 0:
        print("rw_raw: timed out", file=sys.stderr); sys.exit(3)
    s.settimeout(left)
    try:
        data = s.recv(65536)
    except socket.timeout:
        continue
    if not data:
        print("rw_raw: connection closed", file=sys.stderr); sys.exit(4)
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        print(line.decode())
        if "event" not in json.loads(line):
            want -= 1
'

rw_raw() {
	local user="" timeout=5
	while (($#)); do
		case $1 in
		-u) user=$2; shift 2 ;;
		-t) timeout=$2; shift 2 ;;
		*) break ;;
		esac
	done
	if [[ -n $user ]]; then
		setpriv --reuid="$user" --regid="$(id -gn "$user")" --clear-groups \
			/usr/bin/python3 -c "$RW_RAW_PY" "$SOCK" "$timeout" "$@"
	else
		/usr/bin/python3 -c "$RW_RAW_PY" "$SOCK" "$timeout" "$@"
	fi
}
