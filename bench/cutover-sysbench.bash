#!/usr/bin/env bash
# bench/cutover-sysbench.bash LOG SYSBENCH-ARG...: `sysbench SYSBENCH-ARG...`
# (a `run` with --time=0), started again at once whenever it exits, until
# SIGTERM or SIGINT; for bench/cutover.sh (not a benchmark: no .sh).
#
# Why: sysbench 1.0.20 (Debian 12, with libmariadb) handles an ignored
# "lost connection" (2013, after the freeze's KILL or HAProxy's `shutdown
# sessions`) by reconnecting inside its MySQL driver, and segfaults there
# (exit 139 right after "DEBUG: Reconnecting" with --verbosity=5).  Left
# alone, the sysbench load would end at the first killed session, i.e. at
# the freeze.  A restarted sysbench connects through HAProxy again, so it
# lands on whichever server HAProxy sends new connections to, which is what
# an application's supervisor or pool does; while no server is usable (the
# switch's instant) its connect fails, it exits 1 and is started again
# after 10 ms.
#
# LOG gets one line per start and per exit (CLOCK_REALTIME microseconds):
#   start N T_US
#   exit N T_US RC
# and sysbench's own output goes to LOG.out.  Core dumps are off.
set -u
log=$1
shift
stop=0
child=
trap 'stop=1; [[ -n $child ]] && kill -TERM "$child" 2>/dev/null' TERM INT
ulimit -c 0
n=0
while ((!stop)); do
	n=$((n + 1))
	t=$EPOCHREALTIME
	printf 'start %d %s\n' "$n" "${t/./}" >>"$log"
	sysbench "$@" >>"$log.out" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	# A trapped signal ends `wait` early: wait for the child itself.
	if ((stop)); then
		wait "$child" 2>/dev/null
		rc=$?
	fi
	child=
	t=$EPOCHREALTIME
	printf 'exit %d %s %d\n' "$n" "${t/./}" "$rc" >>"$log"
	((stop)) || sleep 0.01
done
exit 0
