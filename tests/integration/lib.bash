# shellcheck shell=bash
# tests/integration/lib.bash: helpers for replwatch's integration tests (bats).
#
# A sandbox is a real mariadbd master + read-only replica pair started by
# tests/sandbox/sandbox (see tests/sandbox/README.md). Use it like this:
#
#   load lib                        # from a .bats file in tests/integration
#
#   setup_file() {
#       sandbox_up --flavor rds-mysql --replicate
#       # exported for every test: SB MASTER_PORT REPLICA_PORT MASTER_PID ...
#   }
#   teardown_file() {
#       sandbox_down_all            # every sandbox this file started
#   }
#
#   @test "rows replicate" {
#       sql_master app "INSERT INTO app.items (name, qty) VALUES ('x', 1)"
#       wait_until 10 replica_has_row
#   }
#
# Nothing is left running when a test or setup_file fails, because:
#   - `sandbox up` stops whatever it started when it fails half-way;
#   - every sandbox_up registers its directory in a list in BATS_FILE_TMPDIR
#     BEFORE starting it, and sandbox_down_all stops every listed one. bats
#     runs teardown_file even when setup_file or a test failed, and also for
#     sandboxes started inside a @test (whose variables die with the test);
#   - `sandbox down` waits until the processes are really gone (SIGKILL after
#     a bound) and is idempotent.
# Always define teardown_file with sandbox_down_all in a file that starts
# sandboxes. A @test that starts its own sandbox may stop it itself
# (sandbox_down "$dir") or leave it to teardown_file.
#
# Variables:
#   REPO     the repository root
#   SANDBOX  the sandbox script
#   SB       the current sandbox directory (set and exported by sandbox_up),
#            plus everything in $SB/env (exported): SANDBOX_DIR FLAVOR
#            MASTER_PORT REPLICA_PORT MASTER_PID REPLICA_PID MASTER_SOCKET
#            REPLICA_SOCKET ... Client option files: $SB/master-root.cnf,
#            $SB/replica-admin.cnf, ... (`sandbox_cnf master admin`).
#
# Functions:
#   sandbox_up [--flavor F] [--replicate] [--master-opt O] [--replica-opt O]
#   sandbox_down [DIR]               (default $SB)
#   sandbox_down_all
#   sandbox_new_dir                  prints a new registered directory (for
#                                    starting several sandboxes in parallel)
#   sandbox_use DIR                  make DIR the current sandbox (SB + env)
#   sandbox_cnf master|replica [USER]
#   sql_master [USER] [SQL]          -N -B output; SQL from stdin if omitted
#   sql_replica [USER] [SQL]         USER: root (default), admin, app, repl
#   replica_status COLUMN            one SHOW SLAVE STATUS column (as root)
#   wait_until TIMEOUT_S CMD...      poll CMD every 0.1 s until it succeeds
#   process_gone PID                 true when PID has exited (zombies too)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SANDBOX=$REPO/tests/sandbox/sandbox
export REPO SANDBOX

# The list of sandbox directories started by this bats file (outside bats: by
# this shell).
_sb_registry() {
	if [[ -n ${BATS_FILE_TMPDIR:-} ]]; then
		printf '%s/replwatch-sandboxes.list\n' "$BATS_FILE_TMPDIR"
	else
		printf '%s/replwatch-sandboxes.%s.list\n' "${TMPDIR:-/tmp}" "$$"
	fi
}

# A new, empty, registered sandbox directory (short path: socket paths are
# limited to 107 bytes).
sandbox_new_dir() {
	local base=${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}} dir
	dir=$(mktemp -d "$base/sb.XXXXXX") || return 1
	printf '%s\n' "$dir" >>"$(_sb_registry)"
	printf '%s\n' "$dir"
}

# Make DIR the current sandbox: export SB and the variables of DIR/env.
sandbox_use() {
	local dir=$1
	[[ -f $dir/env ]] || {
		echo "sandbox_use: $dir/env does not exist" >&2
		return 1
	}
	set -a
	# shellcheck disable=SC1091
	source "$dir/env"
	set +a
	SB=$dir
	export SB
}

sandbox_up() {
	local dir out
	dir=$(sandbox_new_dir) || return 1
	if ! out=$("$SANDBOX" up "$dir" "$@" 2>&1); then
		printf 'sandbox_up %s failed:\n%s\n' "$*" "$out" >&2
		return 1
	fi
	sandbox_use "$dir"
}

sandbox_down() {
	local dir=${1:-${SB:-}}
	[[ -n $dir ]] || return 0
	"$SANDBOX" down "$dir"
}

sandbox_down_all() {
	local reg dir rc=0
	reg=$(_sb_registry)
	[[ -f $reg ]] || return 0
	while IFS= read -r dir; do
		[[ -n $dir ]] || continue
		"$SANDBOX" down "$dir" || rc=1
	done <"$reg"
	return "$rc"
}

sandbox_cnf() {
	local server=$1 user=${2:-root}
	case $user in
	repl) [[ $server == master ]] && echo "$SB/repl.cnf" || echo "$SB/repl-replica.cnf" ;;
	*) echo "$SB/$server-$user.cnf" ;;
	esac
}

_sb_sql() {
	local server=$1 user=root
	shift
	case ${1:-} in
	root | admin | app | repl)
		user=$1
		shift
		;;
	esac
	local cnf
	cnf=$(sandbox_cnf "$server" "$user")
	if (($# >= 1)); then
		mariadb --defaults-file="$cnf" -N -B -e "$1"
	else
		mariadb --defaults-file="$cnf" -N -B
	fi
}

sql_master() { _sb_sql master "$@"; }
sql_replica() { _sb_sql replica "$@"; }

# replica_status COLUMN: that column of SHOW SLAVE STATUS (root, replica);
# empty when replication is not configured.
replica_status() {
	mariadb --defaults-file="$SB/replica-root.cnf" -B -e 'SHOW SLAVE STATUS' |
		awk -F '\t' -v col="$1" '
			NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
			NR == 2 && c { print $c }'
}

# wait_until TIMEOUT_S CMD...: run CMD every 0.1 s until it succeeds (0) or
# TIMEOUT_S seconds have passed (1, with a message on stderr).
wait_until() {
	local timeout=$1
	shift
	local start=${EPOCHREALTIME/./} limit
	limit=$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000000 }')
	while :; do
		if "$@"; then
			return 0
		fi
		if ((${EPOCHREALTIME/./} - start >= limit)); then
			echo "wait_until: timed out after ${timeout}s: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# process_gone PID: the process has exited (a zombie, not yet reaped by its
# parent, counts as gone).
process_gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}
