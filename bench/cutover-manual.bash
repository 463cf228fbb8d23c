#!/usr/bin/env bash
# bench/cutover-manual.bash SANDBOX_DIR POLL_S: the seed's manual cut-over
# (REFERENCE §4), scripted with the mariadb client the way an operator
# would, for bench/cutover.sh to compare replwatch with.  Not a benchmark
# of its own (bench/run.sh runs only *.sh).
#
#   1. old master, as root:  SET GLOBAL read_only = ON
#   2. old master, as root:  SHOW MASTER STATUS        -> final file/pos
#   3. replica, as admin:    SHOW SLAVE STATUS every POLL_S seconds until
#                            Relay_Master_Log_File/Exec_Master_Log_Pos is
#                            the final file/pos
#   4. replica, as admin:    CALL mysql.rds_stop_replication();
#                            CALL mysql.rds_reset_external_master();
#
# One client run per step, nothing bounded but the catch-up (60 s), as in
# the runbook: the read_only statement runs with the server's default
# lock_wait_timeout.  Prints one line per event on stdout:
#   EPOCH_US LABEL [DATA...]
# with LABEL freeze_start, frozen, final FILE POS, poll FILE POS, caught,
# stopped, reset (the end of the write freeze); exits non-zero on a failure
# (the line "error WHAT" says which).
set -u
dir=$1 poll=$2
mdb() { mariadb --defaults-file="$dir/$1.cnf" -B "${@:2}"; }
ev() { local t=$EPOCHREALTIME; printf '%s %s\n' "${t/./}" "$*"; }

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
