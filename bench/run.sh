#!/usr/bin/env bash
# bench/run.sh [--quick] [NAME...]: run replwatch's benchmarks and print their
# tables (`make bench` runs it).
#
# Runs every bench/*.sh except this one, in name order (or only the NAMEs
# given, e.g. `bench/run.sh detect socket`), passing --quick on.  Helpers
# that are not benchmarks do not end in .sh (common.bash, *.py, *.c).  Each
# benchmark writes its own tables to bench/out/NAME.txt; this script also
# writes them all, in order, to bench/out/all.txt.  Benchmarks report
# numbers and never fail on a timing; this exits non-zero only when a
# benchmark could not run.  detect + footprint + socket: about 4.5 minutes
# (--quick: about 2); cutover.sh adds its own.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd -P)
OUT_DIR=${BENCH_OUT_DIR:-$BENCH_DIR/out}
opts=()
names=()
for a in "$@"; do
	case $a in
	--quick) opts+=(--quick) ;;
	-h | --help)
		sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*)
		echo "usage: bench/run.sh [--quick] [NAME...]" >&2
		exit 64
		;;
	*) names+=("$a") ;;
	esac
done

scripts=()
if ((${#names[@]})); then
	for n in "${names[@]}"; do
		n=${n%.sh}
		n=${n##*/}
		[[ -x $BENCH_DIR/$n.sh && $n != run ]] || {
			echo "bench/run.sh: no benchmark bench/$n.sh" >&2
			exit 64
		}
		scripts+=("$BENCH_DIR/$n.sh")
	done
else
	for s in "$BENCH_DIR"/*.sh; do
		[[ ${s##*/} == run.sh ]] && continue
		scripts+=("$s")
	done
fi

mkdir -p "$OUT_DIR" || exit 1
child=
# Pass a stop on to the running benchmark, whose traps clean up.
stop() {
	trap - INT TERM
	if [[ -n $child ]]; then
		kill -"$1" "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	rm -f "$OUT_DIR/all.txt.tmp"
	echo "[run] stopped by SIG$1" >&2
	exit $((128 + $(kill -l "$1")))
}
trap 'stop INT' INT
trap 'stop TERM' TERM
start=$EPOCHSECONDS
failed=()
{
	printf '# replwatch benchmarks\n\n'
	printf 'command: bench/run.sh %s\n' "${*:-}"
	printf 'benchmarks: %s\n' "$(for s in "${scripts[@]}"; do printf '%s ' "${s##*/}"; done)"
	printf 'started: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
} | tee "$OUT_DIR/all.txt.tmp"
for s in "${scripts[@]}"; do
	name=${s##*/}
	name=${name%.sh}
	t0=$EPOCHSECONDS
	echo "[run] $name ${opts[*]}" >&2
	# In the background, so a signal to this script reaches it at once.
	"$s" "${opts[@]}" &
	child=$!
	if ! wait "$child"; then
		failed+=("$name")
		echo "[run] $name FAILED (exit status above)" >&2
	fi
	echo "[run] $name took $((EPOCHSECONDS - t0)) s" >&2
	[[ -f $OUT_DIR/$name.txt ]] && cat "$OUT_DIR/$name.txt" >>"$OUT_DIR/all.txt.tmp"
done
{
	printf '\nall benchmarks: %d s' "$((EPOCHSECONDS - start))"
	((${#failed[@]})) && printf '; could not run: %s' "${failed[*]}"
	printf '\n'
} | tee -a "$OUT_DIR/all.txt.tmp"
mv -f "$OUT_DIR/all.txt.tmp" "$OUT_DIR/all.txt"
echo "[run] tables written to ${OUT_DIR#"$PWD"/}/" >&2
((${#failed[@]} == 0))
