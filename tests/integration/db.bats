#!/usr/bin/env bats
# lib/db against a real mariadbd: results, errors, timeouts and a loop that
# never stalls.  Drives it through tests/tools/dbcheck, which make builds
# from lib/db.c and its two helpers directly (not from libreplwatch.a), with
# the suite's flags: under make asan, lib/db.c runs under ASan and UBSan.

load lib

setup_file() {
	DBCHECK=$REPO/tests/tools/dbcheck
	export DBCHECK
	[[ -x $DBCHECK ]] || make -s -C "$REPO" tests/tools/dbcheck

	sandbox_up
	sql_master root <<'EOF'
CREATE DATABASE scratch;
CREATE TABLE scratch.t (id INT PRIMARY KEY, v VARCHAR(10));
INSERT INTO scratch.t VALUES (1, 'a'), (2, NULL), (3, 'c');
DELIMITER //
CREATE PROCEDURE scratch.two()
BEGIN
	SELECT 1 AS first;
	SELECT 'x' AS second, NULL AS n UNION ALL SELECT 'y', 2;
END//
CREATE PROCEDURE scratch.fails()
BEGIN
	SELECT 1 AS before_error;
	SELECT * FROM scratch.nonexistent;
END//
DELIMITER ;
EOF
}

teardown_file() {
	sandbox_down_all
}

teardown() {
	# Never leave a server stopped, whatever a test did.
	kill -CONT "$MASTER_PID" "$REPLICA_PID" 2>/dev/null || true
}

# dbcheck against the master as root, plus any options and statements.
master_check() {
	"$DBCHECK" --port "$MASTER_PORT" --option-file "$SB/master-root.cnf" "$@"
}

now_ms() {
	echo $((${EPOCHREALTIME/./} / 1000))
}

# The "max_gap_ms" of dbcheck --ticker output.
max_gap() {
	sed -n 's/^ticks: [0-9]* max_gap_ms: \([0-9]*\)$/\1/p' <<<"$1"
}

@test "a simple SELECT returns its row and the server's identity" {
	run master_check "SELECT 1 AS one, 'two' AS two"
	[ "$status" -eq 0 ]
	jq -e '.connected and (.version | test("MariaDB")) and .thread_id > 0 and
	    .encrypted == false' <<<"${lines[0]}"
	jq -e '.sets == [{"columns": ["one", "two"], "rows": [["1", "two"]]}]' \
	    <<<"${lines[1]}"
}

@test "a CALL returning two result sets is drained completely" {
	run master_check "CALL scratch.two()" "SELECT 'after' AS next"
	[ "$status" -eq 0 ]
	jq -e '.sets | length == 2' <<<"${lines[1]}"
	jq -e '.sets[0] == {"columns": ["first"], "rows": [["1"]]}' <<<"${lines[1]}"
	jq -e '.sets[1] == {"columns": ["second", "n"],
	    "rows": [["x", null], ["y", "2"]]}' <<<"${lines[1]}"
	# The link was left clean: the next statement gets its own answer.
	jq -e '.sets[0].rows == [["after"]]' <<<"${lines[2]}"
}

@test "rows with NULLs keep NULL apart from the empty string" {
	run master_check "SELECT id, v, '' AS empty FROM scratch.t ORDER BY id"
	[ "$status" -eq 0 ]
	jq -e '.sets[0].columns == ["id", "v", "empty"]' <<<"${lines[1]}"
	jq -e '.sets[0].rows == [["1", "a", ""], ["2", null, ""], ["3", "c", ""]]' \
	    <<<"${lines[1]}"
}

@test "a syntax error surfaces as 1064 and the connection stays usable" {
	run master_check "SELEC 1" "SELECT 2 AS two"
	[ "$status" -eq 2 ]
	[[ ${lines[1]} == "error: server 1064 "* ]]
	jq -e '.sets[0].rows == [["2"]]' <<<"${lines[2]}"
}

@test "a privilege error surfaces as 1227 and the connection stays usable" {
	run "$DBCHECK" --port "$REPLICA_PORT" \
	    --option-file "$SB/replica-admin.cnf" \
	    "CHANGE MASTER TO MASTER_HOST='203.0.113.1'" "SELECT CURRENT_USER() AS u"
	[ "$status" -eq 2 ]
	[[ ${lines[1]} == "error: server 1227 "* ]]
	jq -e '.sets[0].rows[0][0] | startswith("admin@")' <<<"${lines[2]}"
}

@test "an error in a procedure's second statement is reported after its first result" {
	run master_check "CALL scratch.fails()" "SELECT 3 AS three"
	[ "$status" -eq 2 ]
	[[ ${lines[1]} == "error: server 1146 "* ]]
	jq -e '.sets[0].rows == [["3"]]' <<<"${lines[2]}"
}

@test "a wrong password is a connect error that does not show the password" {
	local pw=WrongPw-5f2c9e1a
	printf '[client]\nuser=root\npassword=%s\n' "$pw" >"$BATS_TEST_TMPDIR/bad.cnf"
	run "$DBCHECK" --port "$MASTER_PORT" --option-file "$BATS_TEST_TMPDIR/bad.cnf" \
	    "SELECT 1"
	[ "$status" -eq 3 ]
	[[ $output == "error: connect 1045 connect to 127.0.0.1:$MASTER_PORT: Access denied"* ]]
	[[ $output != *"$pw"* ]]
}

@test "nothing listening is a connect error, at once" {
	local t0
	t0=$(now_ms)
	run "$DBCHECK" --port 1 --option-file "$SB/master-root.cnf" \
	    --connect-timeout 5000 "SELECT 1"
	[ "$status" -eq 3 ]
	[[ $output == "error: connect 2002 connect to 127.0.0.1:1: "* ]]
	(($(now_ms) - t0 < 1000))
}

@test "a query to a server that stops answering times out at the deadline, the loop ticking on" {
	local out=$BATS_TEST_TMPDIR/out t0 elapsed gap
	t0=$(now_ms)
	# SLEEP(0.5) would finish well inside the 1000 ms deadline: only the
	# stopped server can make it time out.
	"$DBCHECK" --port "$MASTER_PORT" --option-file "$SB/master-root.cnf" \
	    --query-timeout 1000 --ticker "SELECT SLEEP(0.5)" >"$out" &
	local pid=$! rc=0
	wait_until 5 grep -q '"connected"' "$out"
	kill -STOP "$MASTER_PID"
	wait "$pid" || rc=$?
	elapsed=$(($(now_ms) - t0))
	kill -CONT "$MASTER_PID"
	cat "$out"
	[ "$rc" -eq 4 ]
	grep -q "^error: timeout 0 query on 127.0.0.1:$MASTER_PORT: timed out after 1000 ms$" "$out"
	((elapsed >= 900 && elapsed < 3000))
	gap=$(max_gap "$(cat "$out")")
	[ -n "$gap" ]
	((gap < 250))
}

@test "connecting to a stopped server times out at the deadline, the loop ticking on" {
	local t0 elapsed gap
	kill -STOP "$MASTER_PID"
	t0=$(now_ms)
	run master_check --connect-timeout 500 --ticker "SELECT 1"
	elapsed=$(($(now_ms) - t0))
	kill -CONT "$MASTER_PID"
	[ "$status" -eq 4 ]
	[[ ${lines[0]} == "error: timeout 0 connect to 127.0.0.1:$MASTER_PORT: timed out after 500 ms" ]]
	((elapsed >= 450 && elapsed < 2500))
	gap=$(max_gap "$output")
	[ -n "$gap" ]
	((gap < 250))
	# And the server answers again once it runs.
	run master_check "SELECT 1"
	[ "$status" -eq 0 ]
}

@test "localhost means TCP to 127.0.0.1, not the Unix socket" {
	run "$DBCHECK" --host localhost --port "$MASTER_PORT" \
	    --option-file "$SB/master-root.cnf" \
	    "SELECT host FROM information_schema.processlist WHERE id = CONNECTION_ID()"
	[ "$status" -eq 0 ]
	jq -e '.sets[0].rows[0][0] | startswith("127.0.0.1:")' <<<"${lines[1]}"
}

@test "a host name resolves through evdns" {
	printf '127.0.0.1 db.replwatch.test\n' >"$BATS_TEST_TMPDIR/hosts"
	run "$DBCHECK" --hosts-file "$BATS_TEST_TMPDIR/hosts" \
	    --host db.replwatch.test --port "$MASTER_PORT" \
	    --option-file "$SB/master-root.cnf" "SELECT 1"
	[ "$status" -eq 0 ]
	jq -e '.connected' <<<"${lines[0]}"
	# An unknown name is a connect error that names the host.
	run "$DBCHECK" --hosts-file "$BATS_TEST_TMPDIR/hosts" \
	    --host nosuchhost.invalid --port "$MASTER_PORT" \
	    --option-file "$SB/master-root.cnf" --connect-timeout 3000 "SELECT 1"
	[ "$status" -eq 3 ] || [ "$status" -eq 4 ]
	[[ ${lines[0]} == "error: "*" connect to nosuchhost.invalid:$MASTER_PORT: "* ]]
}

@test "MYSQL_PWD in the environment is ignored" {
	local pw
	pw=$(sed -n 's/^password=//p' "$SB/master-root.cnf")
	[ -n "$pw" ]
	printf '[client]\nuser=root\n' >"$BATS_TEST_TMPDIR/nopw.cnf"
	MYSQL_PWD=$pw run "$DBCHECK" --port "$MASTER_PORT" \
	    --option-file "$BATS_TEST_TMPDIR/nopw.cnf" "SELECT 1"
	[ "$status" -eq 3 ]
	[[ $output == *"(using password: NO)"* ]]
}

@test "TLS required against a server without TLS is refused; disabled is plain" {
	run master_check --tls required "SELECT 1"
	[ "$status" -eq 3 ]
	# 2026 CR_SSL_CONNECTION_ERROR: refused by libmariadb before the login.
	[[ ${lines[0]} == "error: connect 2026 connect to 127.0.0.1:$MASTER_PORT: "*"SSL is required, but the server does not support it"* ]]
	run master_check --tls disabled "SELECT 1"
	[ "$status" -eq 0 ]
	jq -e '.encrypted == false and .cipher == null' <<<"${lines[0]}"
}

@test "no leaks or invalid accesses under valgrind (or ASan, in make asan)" {
	local checker=()
	# An ASan build checks itself (and cannot run under valgrind).
	if ! ldd "$DBCHECK" | grep -q libasan; then
		command -v valgrind >/dev/null || skip "valgrind is not installed"
		checker=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99)
	fi
	run "${checker[@]}" "$DBCHECK" --port "$MASTER_PORT" \
	    --option-file "$SB/master-root.cnf" \
	    "CALL scratch.two()" "CALL scratch.fails()" "SELECT * FROM scratch.t"
	echo "$output"
	[ "$status" -eq 2 ]
}
