# bash completion for replwatchctl(8)                       -*- shell-script -*-
#
# Commands, global and per-command options, and target names, which come
# from the daemon itself (`replwatchctl --json hello`) when one answers
# within a second; with no daemon there is simply nothing to offer.
#
# The commands and their options below the BEGIN line are made from
# replwatchctl's own command table: `make completion` rewrites them, and
# tests/integration/ctl.bats fails when they are out of date.

# The daemon's target names, one per line.  $1: the replwatchctl to run,
# $2: the socket given on the command line, if any.
_replwatchctl_targets()
{
	local ctl=$1 sock=$2 json
	local -a argv=("$ctl")

	[[ -n $sock ]] && argv+=(-s "$sock")
	json=$("${argv[@]}" --reply-timeout 1 --json hello 2>/dev/null) || return 0
	if type -P jq >/dev/null; then
		jq -r '.targets[]? | strings' <<<"$json" 2>/dev/null
	else
		# The reply is compact JSON; target names are plain words.
		sed -n 's/.*"targets":\[\([^]]*\)\].*/\1/p' <<<"$json" |
		    tr ',' '\n' | sed 's/^"//; s/"$//'
	fi
}

# BEGIN replwatchctl --complete-table
# Made from replwatchctl's command table by `make completion`
# (replwatchctl --complete-table): do not edit by hand.
_replwatchctl_commands="hello status lag history events watch check wait setup start stop promote abort unfence skip-error mute unmute reload"
_replwatchctl_global_opts="-s --socket --json --format --reply-timeout --timeout -h --help -V --version"
_replwatchctl_global_valued="-s --socket --format --reply-timeout --timeout"
_replwatchctl_global_files="-s --socket"

# _replwatchctl_command NAME: opts, valued (options that take a value),
# files (a file name) and target (none, optional, required) of NAME.
_replwatchctl_command()
{
	case $1 in
	hello)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=none
		;;
	status)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=optional
		;;
	lag)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=optional
		;;
	history)
		opts="--help --json --format --samples"
		valued="--format --samples"
		files=""
		target=required
		;;
	events)
		opts="--help --json --format --max"
		valued="--format --max"
		files=""
		target=optional
		;;
	watch)
		opts="--help --json --format --samples"
		valued="--format"
		files=""
		target=optional
		;;
	check)
		opts="--help --json --format --hostname --warning --critical --warn --crit --timeout --verbose --version"
		valued="--format --hostname -H --warning -w --critical -c --warn --crit --timeout -t"
		files=""
		target=optional
		;;
	wait)
		opts="--help --json --format --max-lag --timeout"
		valued="--format --max-lag --timeout"
		files=""
		target=required
		;;
	setup)
		opts="--help --json --format --master-host --master-port --repl-user --repl-password-file --repl-password-stdin --binlog-file --binlog-pos --from-dump --gtid-from-dump --gtid --ssl --start"
		valued="--format --master-host --master-port --repl-user --repl-password-file --binlog-file --binlog-pos --from-dump --gtid"
		files="--repl-password-file --from-dump"
		target=required
		;;
	start)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=required
		;;
	stop)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=required
		;;
	promote)
		opts="--help --json --format --no-freeze --freeze-master --max-lag --timeout --dry-run --force --resume --yes"
		valued="--format --max-lag --timeout"
		files=""
		target=required
		;;
	abort)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=required
		;;
	unfence)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=required
		;;
	skip-error)
		opts="--help --json --format --yes"
		valued="--format"
		files=""
		target=required
		;;
	mute)
		opts="--help --json --format --for --reason"
		valued="--format --for --reason"
		files=""
		target=required
		;;
	unmute)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=required
		;;
	reload)
		opts="--help --json --format"
		valued="--format"
		files=""
		target=none
		;;
	*) return 1 ;;
	esac
}

# _replwatchctl_choices CMD OPTION: the values OPTION takes, when a list.
_replwatchctl_choices()
{
	case $2 in
	--format) echo text json tsv ;;
	esac
	case $1 in
	esac
}
# END replwatchctl --complete-table

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

	local i cmd="" cmd_at=0 sock=""

	# Global options come before the command; note the socket on the way.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket)
			sock=${words[i + 1]}
			((i++))
			;;
		--socket=*) sock=${words[i]#--socket=} ;;
		-*)
			[[ " $_replwatchctl_global_valued " == *" ${words[i]} "* ]] &&
			    ((i++))
			;;
		*)
			cmd=${words[i]}
			cmd_at=$i
			break
			;;
		esac
	done
	# A leading ~ must reach replwatchctl expanded.
	[[ $sock == "~"* ]] && sock=$HOME${sock#"~"}

	local choices
	if [[ -z $cmd ]]; then
		if [[ " $_replwatchctl_global_files " == *" $prev "* ]]; then
			type _filedir >/dev/null 2>&1 && _filedir
			return
		fi
		if [[ " $_replwatchctl_global_valued " == *" $prev "* ]]; then
			choices=$(_replwatchctl_choices "" "$prev")
			[[ -n $choices ]] &&
			    mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
			return
		fi
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W \
			    "$_replwatchctl_global_opts" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W \
			    "$_replwatchctl_commands" -- "$cur")
		fi
		return
	fi

	local opts valued files target
	_replwatchctl_command "$cmd" || return

	# A file name is expected: offer files.
	if [[ " $files " == *" $prev "* ]]; then
		type _filedir >/dev/null 2>&1 && _filedir
		return
	fi
	# A value is expected: its choices, or nothing sensible to offer.
	if [[ " $valued " == *" $prev "* ]]; then
		choices=$(_replwatchctl_choices "$cmd" "$prev")
		[[ -n $choices ]] &&
		    mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
		return
	fi

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
