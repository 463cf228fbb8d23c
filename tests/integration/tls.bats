#!/usr/bin/env bats
# TLS between replwatchd and the replica: each `tls` mode of replwatch.conf(5)
# against a sandbox whose servers have a certificate from a CA of ours
# (sandbox up --tls), and `required` against one without TLS.  One daemon
# watches one target per case; each test reads its target's status.

load lib

# write_target NAME HOST PORT CNF TLS [CA]
write_target() {
	printf '\n[target %s]\nhost = %s\nport = %s\noption_file = %s\n' "$1" "$2" "$3" "$4"
	printf 'tls = %s\n' "$5"
	[[ -z ${6:-} ]] || printf 'tls_ca = %s\n' "$6"
	printf 'interval_ms = 500\nconnect_timeout_ms = 2000\nquery_timeout_ms = 2000\n'
}

setup_file() {
	[[ -x $REPO/daemon/replwatchd && -x $REPO/ctl/replwatchctl ]] ||
		skip "daemon and client are not built (make all)"
	command -v openssl >/dev/null || skip "openssl missing: make deps"
	# A sandbox without TLS first, for `required` against a server that
	# offers none; then the TLS one, which stays current ($SB).
	sandbox_up
	PLAIN_PORT=$REPLICA_PORT
	PLAIN_CNF=$SB/replica-admin.cnf
	sandbox_up --tls
	[[ -n $TLS_DIR && -f $TLS_DIR/ca.pem && -f $TLS_DIR/wrong-ca.pem ]]

	W=$BATS_FILE_TMPDIR/rw
	mkdir -p "$W"
	SOCK=$W/run/replwatch.sock
	export W SOCK PLAIN_PORT
	local cnf=$SB/replica-admin.cnf
	{
		printf '[daemon]\nsocket = %s\nstate_dir = %s\nlog_level = debug\n' "$SOCK" "$W/state"
		write_target vid 127.0.0.1 "$REPLICA_PORT" "$cnf" verify_identity "$TLS_DIR/ca.pem"
		write_target vid_name localhost "$REPLICA_PORT" "$cnf" verify_identity "$TLS_DIR/ca.pem"
		write_target vca 127.0.0.1 "$REPLICA_PORT" "$cnf" verify_ca "$TLS_DIR/ca.pem"
		write_target wrong_ca 127.0.0.1 "$REPLICA_PORT" "$cnf" verify_ca "$TLS_DIR/wrong-ca.pem"
		write_target wrong_id 127.0.0.1 "$REPLICA_PORT" "$cnf" verify_identity "$TLS_DIR/wrong-ca.pem"
		write_target req 127.0.0.1 "$REPLICA_PORT" "$cnf" required
		write_target pref 127.0.0.1 "$REPLICA_PORT" "$cnf" preferred
		write_target off 127.0.0.1 "$REPLICA_PORT" "$cnf" disabled
		write_target req_plain 127.0.0.1 "$PLAIN_PORT" "$PLAIN_CNF" required
		write_target vid_plain 127.0.0.1 "$PLAIN_PORT" "$PLAIN_CNF" verify_identity "$TLS_DIR/ca.pem"
	} >"$W/replwatch.conf"
	env -u JOURNAL_STREAM -u NOTIFY_SOCKET "$REPO/daemon/replwatchd" -c "$W/replwatch.conf" \
		>"$W/stdout" 2>"$W/stderr" 3>&- &
	echo $! >"$W/pid"
	wait_until 10 test -S "$SOCK" || {
		cat "$W/stderr"
		return 1
	}
	# Every target has been polled at least once.
	wait_until 20 all_polled || {
		"$REPO/ctl/replwatchctl" -s "$SOCK" --json status || true
		cat "$W/stderr"
		return 1
	}
}

teardown_file() {
	local pid
	if [[ -f ${W:-/nonexistent}/pid ]]; then
		pid=$(<"$W/pid")
		kill -TERM "$pid" 2>/dev/null || true
		wait_until 10 process_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	sandbox_down_all
}

all_polled() {
	"$REPO/ctl/replwatchctl" -s "$SOCK" --json status 2>/dev/null |
		jq -e '.targets | length == 10 and all(.state != "unknown")' >/dev/null
}

# target_status NAME: the target object, in $output.
target_status() {
	run "$REPO/ctl/replwatchctl" -s "$SOCK" --json status "$1"
	[[ -n $output ]] || {
		echo "no status for $1 (exit $status)"
		return 1
	}
	echo "$output" | jq -e . >/dev/null
}

# expect NAME JQ-EXPRESSION: the target's status satisfies it.
expect() {
	target_status "$1"
	echo "$output" | jq -e "$2" >/dev/null || {
		echo "$1: not ($2):"
		echo "$output" | jq '{state, reason, server}'
		echo "--- daemon log about $1:"
		grep "\[$1\]" "$W/stderr" | tail -5
		return 1
	}
}

ENCRYPTED='.server.connected == true and .server.encrypted == true
	and (.server.cipher | type == "string" and length > 0)
	and .state != "unreachable" and .state != "unresponsive"'

@test "verify_identity with our CA, host 127.0.0.1: connected, encrypted, a cipher" {
	expect vid "$ENCRYPTED"
}

@test "verify_identity with our CA, host localhost: the certificate's names are accepted" {
	expect vid_name "$ENCRYPTED"
}

@test "verify_ca with our CA: encrypted" {
	expect vca "$ENCRYPTED"
}

@test "verify_ca with the wrong CA: unreachable, and the reason says it is the certificate" {
	expect wrong_ca '.state == "unreachable" and .server.encrypted != true'
	expect wrong_ca '.reason | test("certificate|SSL|TLS"; "i")'
}

@test "verify_identity with the wrong CA: unreachable with a certificate error" {
	expect wrong_id '.state == "unreachable"'
	expect wrong_id '.reason | test("certificate|SSL|TLS"; "i")'
}

@test "required with no CA: encrypted, certificate not checked" {
	expect req "$ENCRYPTED"
}

@test "preferred against a TLS server: encrypted" {
	expect pref "$ENCRYPTED"
}

@test "disabled: plain text, no cipher" {
	expect off '.server.connected == true and .server.encrypted == false and .server.cipher == null'
}

@test "required against a server without TLS: refused, not silently plain text" {
	expect req_plain '.state == "unreachable" and .server.encrypted != true'
	expect req_plain '.reason | test("TLS|SSL"; "i")'
}

@test "verify_identity against a server without TLS: refused" {
	expect vid_plain '.state == "unreachable" and .server.encrypted != true'
	expect vid_plain '.reason | test("TLS|SSL"; "i")'
}
