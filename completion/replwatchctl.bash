# bash completion for replwatchctl(8)                       -*- shell-script -*-
#
# Commands, global and per-command options, and target names, which come
# from the daemon itself (`replwatchctl --json hello`) when one answers
# within a second; with no daemon there is simply nothing to offer.

# The daemon's target names, one per line.  $1: the replwatchctl to run,
# $2: the socket given on the command line, if any.
_replwatchctl_targets()
{
	local ctl=$1 sock=$2 json
	local -a argv=("$ctl")

	[[ -n $sock ]] && argv+=(-s "$sock")
	json=$("${argv[@]}" --timeout 1 --json hello 2>/dev/null) || return 0
	if type -P jq >/dev/null; then
		jq -r '.targets[]? | strings' <<<"$json" 2>/dev/null
	else
		# The reply is compact JSON; target names are plain words.
		sed -n 's/.*"targets":\[\([^]]*\)\].*/\1/p' <<<"$json" |
		    tr ',' '\n' | sed 's/^"//; s/"$//'
	fi
}

_replwatchctl()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local commands="hello status lag history events watch check wait setup start stop promote abort unfence skip-error mute unmute reload"
	local global_opts="-s --socket --json --timeout -h --help -V --version"
	local i cmd="" cmd_at=0 sock=""

	# Global options come before the command; note the socket on the way.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket)
			sock=${words[i + 1]}
			((i++))
			;;
		--socket=*) sock=${words[i]#--socket=} ;;
		--timeout) ((i++)) ;;
		-*) ;;
		*)
			cmd=${words[i]}
			cmd_at=$i
			break
			;;
		esac
	done
	# A leading ~ must reach replwatchctl expanded.
	[[ $sock == "~"* ]] && sock=$HOME${sock#"~"}

	if [[ -z $cmd ]]; then
		case $prev in
		-s | --socket)
			type _filedir >/dev/null 2>&1 && _filedir
			return
			;;
		--timeout) return ;;
		esac
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global_opts" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
	fi

	local opts="--help --json" valued="" files="" target=optional
	case $cmd in
	hello) target=none ;;
	status | lag) ;;
	history)
		opts+=" --samples"
		valued="--samples"
		target=required
		;;
	events)
		opts+=" --max"
		valued="--max"
		;;
	watch) opts+=" --samples" ;;
	check)
		opts+=" --warn --crit"
		valued="--warn --crit"
		target=required
		;;
	wait)
		opts+=" --max-lag --timeout"
		valued="--max-lag --timeout"
		target=required
		;;
	setup)
		opts+=" --master-host --master-port --repl-user"
		opts+=" --repl-password-file --repl-password-stdin"
		opts+=" --binlog-file --binlog-pos --from-dump --gtid-from-dump"
		opts+=" --gtid --ssl --start"
		valued="--master-host --master-port --repl-user --repl-password-file"
		valued+=" --binlog-file --binlog-pos --from-dump --gtid"
		files="--repl-password-file --from-dump"
		target=required
		;;
	start | stop | abort | unfence | unmute) target=required ;;
	skip-error)
		opts+=" --yes"
		target=required
		;;
	mute)
		opts+=" --for --reason"
		valued="--for --reason"
		target=required
		;;
	promote)
		opts+=" --no-freeze --max-lag --timeout --dry-run --force"
		opts+=" --resume --yes"
		valued="--max-lag --timeout"
		target=required
		;;
	reload) target=none ;;
	*) return ;;
	esac

	# A file name is expected: offer files.
	if [[ " $files " == *" $prev "* ]]; then
		type _filedir >/dev/null 2>&1 && _filedir
		return
	fi
	# A number or a name is expected: nothing sensible to offer.
	[[ " $valued " == *" $prev "* ]] && return

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi
	[[ $target == none ]] && return

	# One TARGET at most: is there one already?
	local skip=0
	for ((i = cmd_at + 1; i < cword; i++)); do
		if ((skip)); then
			skip=0
			continue
		fi
		case ${words[i]} in
		-*) [[ " $valued " == *" ${words[i]} "* ]] && skip=1 ;;
		*) return ;;
		esac
	done
	mapfile -t COMPREPLY < <(compgen -W \
	    "$(_replwatchctl_targets "${words[0]}" "$sock")" -- "$cur")
} &&
	complete -F _replwatchctl replwatchctl
