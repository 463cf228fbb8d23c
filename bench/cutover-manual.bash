#!/usr/bin/env bash
# bench/cutover-manual.bash SANDBOX_DIR POLL_S: the manual cut-over in the
# order of AWS's runbook for promoting an RDS read replica of an external
# master, scripted with the mariadb client the way an operator would, for
# bench/cutover.sh to compare replwatch with.  Not a benchmark of its own
# (bench/run.sh runs only *.sh).
#
#   1. old master, as root:  SET GLOBAL read_only = ON   (stop the writes)
#   2. old master, as root:  SHOW MASTER STATUS          -> final file/pos
#   3. replica, as admin:    SHOW SLAVE STATUS every POLL_S seconds until
#                            Relay_Master_Log_File/Exec_Master_Log_Pos is
#                            the final file/pos
#   4. replica, as admin:    CALL mysql.rds_stop_replication();   (>= 3 s)
#   5. replica, as admin:    CALL mysql.rds_reset_external_master();
#   6. the application moved: conf/hooks/haproxy-switch SOCKET BACKEND OLD
#                            NEW, forward (the same hook, the same socat as
#                            replwatchd's on_switch), with the HAProxy names
#                            from SANDBOX_DIR/env (sandbox up --proxy);
#                            CUTOVER_HOOK names another copy of the hook
#
# The replica's read_only must already be OFF (on RDS: its parameter group,
# changed before the window; bench/cutover.sh does it with root's SET
# GLOBAL).  No session on the old master is killed: read_only refuses the
# application's writes (1290), its open transactions may go on until they
# write.  One client run per step, nothing bounded but the catch-up (60 s),
# as in the runbook: the read_only statement runs with the server's default
# lock_wait_timeout.  Prints one line per event on stdout:
#   EPOCH_US LABEL [DATA...]
# with LABEL freeze_start, frozen, final FILE POS, poll FILE POS, caught,
# stopped, reset, switch_start, switched (the application can write again);
# exits non-zero on a failure (the line "error WHAT" says which).
set -u
dir=$1 poll=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mdb() { mariadb --defaults-file="$dir/$1.cnf" -B "${@:2}"; }
ev() { local t=$EPOCHREALTIME; printf '%s %s\n' "${t/./}" "$*"; }

# shellcheck disable=SC1091
source "$dir/env" || { ev error env; exit 1; }
[[ -n ${HAPROXY_SOCKET:-} ]] || { ev error no_proxy; exit 1; }

ev freeze_start
mdb master-root -e "SET GLOBAL read_only = ON" || { ev error read_only; exit 1; }
ev frozen
read -r file pos _ < <(mdb master-root -N -e "SHOW MASTER STATUS")
[[ -n ${file:-} && -n ${pos:-} ]] || { ev error show_master_status; exit 1; }
ev final "$file" "$pos"
deadline=$((EPOCHSECONDS + 60))
while :; do
	st=$(mdb replica-admin -e "SHOW SLAVE STATUS\G") || { ev error show_slave_status; exit 1; }
	rfile=$(awk '$1 == "Relay_Master_Log_File:" { print $2 }' <<<"$st")
	rpos=$(awk '$1 == "Exec_Master_Log_Pos:" { print $2 }' <<<"$st")
	ev poll "$rfile" "$rpos"
	[[ $rfile == "$file" && $rpos == "$pos" ]] && break
	((EPOCHSECONDS < deadline)) || { ev error catchup_timeout; exit 1; }
	sleep "$poll"
done
ev caught
mdb replica-admin -e "CALL mysql.rds_stop_replication()" >/dev/null || { ev error stop; exit 1; }
ev stopped
mdb replica-admin -e "CALL mysql.rds_reset_external_master()" >/dev/null || { ev error reset; exit 1; }
ev reset
ev switch_start
REPLWATCH_SWITCH_DIRECTION=forward "${CUTOVER_HOOK:-$repo/conf/hooks/haproxy-switch}" "$HAPROXY_SOCKET" \
	"$HAPROXY_BACKEND" "$HAPROXY_OLD_SERVER" "$HAPROXY_NEW_SERVER" >&2 || { ev error switch; exit 1; }
ev switched
