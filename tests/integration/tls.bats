#!/usr/bin/env bats
# TLS between replwatchd and the replica: each `tls` mode of replwatch.conf(5)
# against a sandbox whose servers have a certificate from a CA of ours
# (sandbox up --tls), and `required` against one without TLS.  One daemon
# watches one target per case; each test reads its target's status.
#
# What a server without TLS receives is captured by a logging TCP relay put
# in front of it (relay.py below, one per target): from `required` up it
# must receive nothing of the login, neither the user name nor the password
# scramble, only (at most) the SSL request that comes before TLS.

bats_require_minimum_version 1.5.0

load lib

# write_target NAME HOST PORT CNF TLS [CA]
write_target() {
	printf '\n[target %s]\nhost = %s\nport = %s\noption_file = %s\n' "$1" "$2" "$3" "$4"
	printf 'tls = %s\n' "$5"
	[[ -z ${6:-} ]] || printf 'tls_ca = %s\n' "$6"
	printf 'interval_ms = 500\nconnect_timeout_ms = 2000\nquery_timeout_ms = 2000\n'
}

# The relay and the capture's reader, in python3 (the system one).
#   relay.py relay UPSTREAM_PORT DIR: listen on 127.0.0.1, a free port written
#     to DIR/port; connection N's client->server bytes go to DIR/N.c2s, the
#     server's to DIR/N.s2c, and DIR/N.done appears once both ends closed.
#   relay.py classify DIR: one line per connection,
#     "N greeting_tls=0|1 sent=nothing|ssl_request|login done=0|1 BYTES".
write_relay() {
	cat >"$1" <<'EOF'
import os, socket, struct, sys, threading

def pump(src, dst, path, left):
    with open(path, "ab", buffering=0) as f:
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                b = b""
            if not b:
                break
            f.write(b)
            try:
                dst.sendall(b)
            except OSError:
                break
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    with left[1]:
        left[0] -= 1
        if left[0] == 0:
            open(left[2], "w").close()

def relay(port, d):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    n = 0
    while True:
        c, _ = ls.accept()
        n += 1
        u = socket.create_connection(("127.0.0.1", port))
        base = os.path.join(d, str(n))
        left = [2, threading.Lock(), base + ".done"]
        threading.Thread(target=pump, args=(c, u, base + ".c2s", left),
            daemon=True).start()
        threading.Thread(target=pump, args=(u, c, base + ".s2c", left),
            daemon=True).start()

CLIENT_SSL = 0x800

def greeting_tls(b):
    # Header (4), protocol 10, version NUL-terminated, thread id (4),
    # scramble (8), filler (1), then the low 16 bits of the capabilities.
    if len(b) < 5 or b[4] != 10:
        return None
    i = b.index(0, 5) + 1 + 4 + 8 + 1
    return 1 if struct.unpack_from("<H", b, i)[0] & CLIENT_SSL else 0

def sent(b):
    if not b:
        return "nothing"
    # An SSL request: a 32-byte packet, sequence 1, CLIENT_SSL set, and
    # after it nothing or a TLS record (0x16: handshake).
    n = b[0] | b[1] << 8 | b[2] << 16
    if (n == 32 and b[3] == 1 and len(b) >= 36 and
            struct.unpack_from("<I", b, 4)[0] & CLIENT_SSL and
            (len(b) == 36 or b[36] == 0x16)):
        return "ssl_request"
    return "login"

def classify(d):
    seen = sorted(int(f[:-4]) for f in os.listdir(d) if f.endswith(".s2c"))
    for n in seen:
        def rd(ext):
            try:
                with open(os.path.join(d, "%d.%s" % (n, ext)), "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return b""
        c2s, s2c = rd("c2s"), rd("s2c")
        done = os.path.exists(os.path.join(d, "%d.done" % n))
        print(n, "greeting_tls=%s" % greeting_tls(s2c), "sent=" + sent(c2s),
            "done=%d" % done, len(c2s))

if sys.argv[1] == "relay":
    relay(int(sys.argv[2]), sys.argv[3])
else:
    classify(sys.argv[2])
EOF
}

# start_relay NAME UPSTREAM_PORT: a relay capturing into $W/NAME; its port in
# $RELAY_PORT.
start_relay() {
	mkdir -p "$W/$1"
	/usr/bin/python3 "$W/relay.py" relay "$2" "$W/$1" \
		>"$W/$1.log" 2>&1 3>&- &
	echo $! >>"$W/relay.pids"
	wait_until 10 test -s "$W/$1/port" || {
		cat "$W/$1.log"
		return 1
	}
	RELAY_PORT=$(<"$W/$1/port")
}

# captured NAME: the relay's classification of its connections.
captured() {
	/usr/bin/python3 "$W/relay.py" classify "$W/$1"
}

# finished NAME N: the relay has seen N connections come and go.
finished() {
	(($(captured "$1" | grep -c ' done=1 ') >= $2))
}

# no_login NAME: at least two finished connections through the relay, every
# one to a server that offered no TLS (the greeting says so), and not one
# that sent anything but an SSL request; the user name is in no capture.
no_login() {
	local name=$1 out
	wait_until 30 finished "$name" 2
	out=$(captured "$name")
	echo "$out"
	echo "$out" | awk '$2 != "greeting_tls=0" { bad = 1 } END { exit bad }'
	echo "$out" | awk '$3 != "sent=nothing" && $3 != "sent=ssl_request" { bad = 1 }
		END { exit bad }'
	# 1: read every file, no match (2 would be an error).
	run grep -a -l -F -e "$PLAIN_USER" "$W/$name"/*.c2s
	echo "$output"
	[ "$status" -eq 1 ]
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
	PLAIN_USER=$(sed -n 's/^user *= *//p' "$PLAIN_CNF")
	[[ -n $PLAIN_USER ]]
	export W SOCK PLAIN_PORT PLAIN_USER PLAIN_CNF
	# Logging relays in front of the server without TLS.
	write_relay "$W/relay.py"
	start_relay leak_req "$PLAIN_PORT"
	local leak_req=$RELAY_PORT
	start_relay leak_vca "$PLAIN_PORT"
	local leak_vca=$RELAY_PORT
	start_relay leak_pref "$PLAIN_PORT"
	local leak_pref=$RELAY_PORT
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
		write_target leak_req 127.0.0.1 "$leak_req" "$PLAIN_CNF" required
		write_target leak_vca 127.0.0.1 "$leak_vca" "$PLAIN_CNF" verify_ca "$TLS_DIR/ca.pem"
		write_target leak_pref 127.0.0.1 "$leak_pref" "$PLAIN_CNF" preferred
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
	if [[ -f ${W:-/nonexistent}/relay.pids ]]; then
		while read -r pid; do
			kill -TERM "$pid" 2>/dev/null || true
		done <"$W/relay.pids"
	fi
	sandbox_down_all
}

all_polled() {
	"$REPO/ctl/replwatchctl" -s "$SOCK" --json status 2>/dev/null |
		jq -e '.targets | length == 13 and all(.state != "unknown")' >/dev/null
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

@test "required against a server without TLS: not one byte of the login reaches it" {
	no_login leak_req
	expect leak_req '.state == "unreachable" and .server.encrypted != true'
	expect leak_req '.reason | test("TLS|SSL"; "i")'
}

@test "verify_ca against a server without TLS: not one byte of the login reaches it" {
	no_login leak_vca
	expect leak_vca '.state == "unreachable" and .server.encrypted != true'
	expect leak_vca '.reason | test("TLS|SSL"; "i")'
}

@test "preferred against a server without TLS: logs in in clear, and the relay sees it" {
	# The capture would see a leak: here the login is meant to go in clear.
	expect leak_pref '.server.connected == true and .server.encrypted == false'
	captured leak_pref
	captured leak_pref | grep -q ' greeting_tls=0 sent=login '
	grep -a -q -F -e "$PLAIN_USER" "$W/leak_pref"/*.c2s
}

@test "an option file cannot undo tls = required: ssl-enforce=0, an empty ssl-fp and skip-ssl are refused before anything connects" {
	# libmariadb reads the option file after the daemon's TLS settings;
	# these would send the login in clear to a server without TLS.
	local line cnf=$BATS_TEST_TMPDIR/override.cnf conf=$BATS_TEST_TMPDIR/override.conf
	for line in "ssl-enforce = 0" "ssl_fp =" "skip-ssl" "loose-ssl-verify-server-cert = 0"; do
		{ cat "$PLAIN_CNF"; printf '%s\n' "$line"; } >"$cnf"
		chmod 600 "$cnf"
		{
			printf '[daemon]\nsocket = %s\nstate_dir = %s\n' "$BATS_TEST_TMPDIR/s.sock" "$BATS_TEST_TMPDIR/state"
			write_target over 127.0.0.1 "$PLAIN_PORT" "$cnf" required
		} >"$conf"
		run --separate-stderr "$REPO/daemon/replwatchd" -n -c "$conf"
		echo "$line -> $stderr"
		[[ $status == 1 && $stderr == *"$cnf: line "*": TLS is set in replwatch.conf"* ]]
	done
}
