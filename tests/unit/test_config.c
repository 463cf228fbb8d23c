/*
 * config: every test writes a replwatch.conf (and option files) into a
 * fresh temporary directory and checks what config_load makes of it,
 * down to the exact file:line: key: why of each error.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define SECRET		"s3cr3t-Pa55"
/* A minimal valid target: host and credentials. */
#define TARGET_A	"[target a]\nhost = db1\noption_file = ok.cnf\n"

/* Small on purpose: mkdtemp names are short, and -Wformat-truncation
 * reasons from the declared sizes. */
static char dir[64];
static char conf[96];
static char err[1024];

static void
write_file(const char *name, mode_t mode, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *fp;

	if (name[0] == '/')
		snprintf(path, sizeof path, "%s", name);
	else
		snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_config.XXXXXX";
	int fd;

	assert_non_null(mkdtemp(tmpl));
	snprintf(dir, sizeof dir, "%s", tmpl);
	/* The configuration file itself: a mkstemp name in that directory. */
	snprintf(conf, sizeof conf, "%s/replwatch.XXXXXX", dir);
	assert_int_not_equal(fd = mkstemp(conf), -1);
	close(fd);
	write_file("ok.cnf", 0600, "[client]\nuser = rw\npassword = " SECRET "\n");
	unsetenv("CREDENTIALS_DIRECTORY");
	err[0] = '\0';
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	unsetenv("CREDENTIALS_DIRECTORY");
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct rw_config *
load(const char *text)
{
	write_file(conf, 0644, text);
	return config_load(conf, err, sizeof err);
}

/* The load must fail with exactly "CONF:LINE: rest". */
static void
expect_error(const char *text, int line, const char *rest)
{
	struct rw_config *cf = load(text);
	char *want;

	if (cf != NULL)
		config_free(cf);
	assert_null(cf);
	assert_int_not_equal(asprintf(&want, "%s:%d: %s", conf, line, rest), -1);
	assert_string_equal(err, want);
	free(want);
}

static void
test_defaults(void **state)
{
	struct rw_config *cf = load(TARGET_A);
	const struct rw_target_config *t;
	char path[PATH_MAX + 64];

	assert_non_null(cf);
	assert_string_equal(err, "");
	assert_string_equal(cf->path, conf);
	assert_string_equal(cf->socket, "/run/replwatch/replwatch.sock");
	assert_null(cf->socket_group);
	assert_null(cf->admin_group);
	assert_string_equal(cf->state_dir, "/var/lib/replwatch");
	assert_int_equal(cf->log_level, LOG_LVL_INFO);
	assert_null(cf->metrics_listen);
	assert_int_equal(cf->max_clients, 64);
	assert_int_equal(cf->client_idle_timeout_s, 300);
	assert_int_equal(cf->ntargets, 1);

	t = &cf->targets[0];
	assert_string_equal(t->name, "a");
	assert_int_equal(t->line, 1);
	assert_string_equal(t->replica.host, "db1");
	assert_int_equal(t->replica.port, 3306);
	snprintf(path, sizeof path, "%s/ok.cnf", dir);
	assert_string_equal(t->replica.option_file, path);
	assert_int_equal(t->replica.tls, TLS_PREFERRED);
	assert_null(t->replica.tls_ca);
	assert_null(t->replica.tls_cert);
	assert_null(t->replica.tls_key);
	assert_null(t->master.host);
	assert_int_equal(t->master.port, 3306);
	assert_null(t->master.option_file);
	assert_int_equal(t->master.tls, TLS_PREFERRED);
	assert_int_equal(t->flavor, FLAVOR_AUTO);
	assert_int_equal(t->interval_ms, 1000);
	assert_int_equal(t->connect_timeout_ms, 2000);
	assert_int_equal(t->query_timeout_ms, 2000);
	/* RDS's procedures take 3 s and more: their own, longer deadline. */
	assert_int_equal(t->procedure_timeout_ms, 30000);
	assert_int_equal(t->lag_warn_ms, 30000);
	assert_int_equal(t->lag_crit_ms, 300000);
	assert_int_equal(t->hysteresis, 3);
	assert_int_equal(t->heartbeat, HEARTBEAT_OFF);
	assert_string_equal(t->heartbeat_table, "replwatch.heartbeat");
	assert_int_equal(t->heartbeat_server_id, 0);
	/* pt-heartbeat --utc, as its documentation recommends */
	assert_int_equal(t->heartbeat_local_time, 0);
	/* What pt-heartbeat and mysqld_exporter read. */
	assert_int_equal(t->heartbeat_layout, HB_LAYOUT_PT_HEARTBEAT);
	assert_null(t->on_state_change);
	assert_null(t->on_promoted);
	assert_null(t->on_promote_failed);
	assert_int_equal(t->hook_timeout_ms, 10000);
	config_free(cf);
}

static void
test_every_key(void **state)
{
	struct rw_config *cf;
	const struct rw_target_config *t;
	char text[4096], path[PATH_MAX + 64];

	write_file("ca.pem", 0644, "ca\n");
	write_file("cert.pem", 0644, "cert\n");
	write_file("key.pem", 0600, "key\n");
	write_file("master.cnf", 0400, "[client]\npass = " SECRET "\n");
	snprintf(text, sizeof text,
	    "; leading comment\n"
	    "# another\n"
	    "[daemon]\n"
	    "socket = /tmp/rw/ctl.sock\n"
	    "socket_group = replwatch\n"
	    "admin_group = replwatch-admin ; inline comment\n"
	    "state_dir = /srv/rw\n"
	    "log_level = debug\n"
	    "metrics_listen = [::1]:9505\n"
	    "max_clients = 4096\n"
	    "client_idle_timeout_s = 86400\n"
	    "\n"
	    "[target rds-1.eu_west]\n"
	    "host = mydb.abc123.eu-west-1.rds.amazonaws.com\n"
	    "port = 3307\n"
	    "option_file = %s/ok.cnf\n"
	    "flavor = rds-mariadb\n"
	    "interval_ms = 3600000\n"
	    "connect_timeout_ms = 100\n"
	    "query_timeout_ms = 600000\n"
	    "procedure_timeout_ms = 3600000\n"
	    "lag_warn_s = 0.5\n"
	    "lag_crit_s = 1.25\n"
	    "hysteresis = 100\n"
	    "heartbeat = write\n"
	    "heartbeat_table = hb_$1.beat\n"
	    "heartbeat_server_id = 4294967295\n"
	    "heartbeat_time_zone = local\n"
	    "heartbeat_layout = replwatch\n"
	    "tls = verify_identity\n"
	    "tls_ca = ca.pem\n"
	    "tls_cert = cert.pem\n"
	    "tls_key = key.pem\n"
	    "master_host = 10.0.0.5\n"
	    "master_port = 3308\n"
	    "master_option_file = master.cnf\n"
	    "master_tls = verify_ca\n"
	    "master_tls_ca = ca.pem\n"
	    "master_tls_cert = cert.pem\n"
	    "master_tls_key = key.pem\n"
	    "on_state_change = /bin/true --state\n"
	    "on_promoted = /bin/true\n"
	    "on_promote_failed = /bin/sh -c 'exit 0'\n"
	    "hook_timeout_ms = 600000\n"
	    "[target b]\n"
	    "host = 127.0.0.1\n"
	    "option_file = ok.cnf\n"
	    "flavor = mysql\n"
	    "tls = disabled\n"
	    "heartbeat = read\n"
	    "lag_warn_s = 1.001\n"
	    "lag_crit_s = 1.001\n", dir);
	cf = load(text);
	assert_string_equal(err, "");
	assert_non_null(cf);
	assert_string_equal(cf->socket, "/tmp/rw/ctl.sock");
	assert_string_equal(cf->socket_group, "replwatch");
	assert_string_equal(cf->admin_group, "replwatch-admin");
	assert_string_equal(cf->state_dir, "/srv/rw");
	assert_int_equal(cf->log_level, LOG_LVL_DEBUG);
	assert_string_equal(cf->metrics_listen, "[::1]:9505");
	assert_int_equal(cf->max_clients, 4096);
	assert_int_equal(cf->client_idle_timeout_s, 86400);
	assert_int_equal(cf->ntargets, 2);

	t = config_target(cf, "rds-1.eu_west");
	assert_ptr_equal(t, &cf->targets[0]);
	assert_int_equal(t->line, 13);
	assert_string_equal(t->replica.host,
	    "mydb.abc123.eu-west-1.rds.amazonaws.com");
	assert_int_equal(t->replica.port, 3307);
	snprintf(path, sizeof path, "%s/ok.cnf", dir);
	assert_string_equal(t->replica.option_file, path);
	assert_int_equal(t->flavor, FLAVOR_RDS_MARIADB);
	assert_int_equal(t->interval_ms, 3600000);
	assert_int_equal(t->connect_timeout_ms, 100);
	assert_int_equal(t->query_timeout_ms, 600000);
	assert_int_equal(t->procedure_timeout_ms, 3600000);
	assert_int_equal(t->lag_warn_ms, 500);
	assert_int_equal(t->lag_crit_ms, 1250);
	assert_int_equal(t->hysteresis, 100);
	assert_int_equal(t->heartbeat, HEARTBEAT_WRITE);
	assert_string_equal(t->heartbeat_table, "hb_$1.beat");
	assert_int_equal(t->heartbeat_server_id, 4294967295u);
	assert_int_equal(t->heartbeat_local_time, 1);
	assert_int_equal(t->heartbeat_layout, HB_LAYOUT_REPLWATCH);
	assert_int_equal(t->replica.tls, TLS_VERIFY_IDENTITY);
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	assert_string_equal(t->replica.tls_ca, path);
	assert_string_equal(t->master.tls_ca, path);
	snprintf(path, sizeof path, "%s/cert.pem", dir);
	assert_string_equal(t->replica.tls_cert, path);
	assert_string_equal(t->master.tls_cert, path);
	snprintf(path, sizeof path, "%s/key.pem", dir);
	assert_string_equal(t->replica.tls_key, path);
	assert_string_equal(t->master.tls_key, path);
	assert_string_equal(t->master.host, "10.0.0.5");
	assert_int_equal(t->master.port, 3308);
	snprintf(path, sizeof path, "%s/master.cnf", dir);
	assert_string_equal(t->master.option_file, path);
	assert_int_equal(t->master.tls, TLS_VERIFY_CA);
	assert_string_equal(t->on_state_change, "/bin/true --state");
	assert_string_equal(t->on_promoted, "/bin/true");
	assert_string_equal(t->on_promote_failed, "/bin/sh -c 'exit 0'");
	assert_int_equal(t->hook_timeout_ms, 600000);

	t = config_target(cf, "b");
	assert_ptr_equal(t, &cf->targets[1]);
	assert_int_equal(t->flavor, FLAVOR_MYSQL);
	assert_int_equal(t->replica.tls, TLS_DISABLED);
	assert_int_equal(t->heartbeat, HEARTBEAT_READ);
	assert_int_equal(t->lag_warn_ms, 1001);
	assert_int_equal(t->lag_crit_ms, 1001);
	assert_null(config_target(cf, "c"));
	assert_null(config_target(cf, "B"));
	config_free(cf);
}

static void
test_syntax_accepted(void **state)
{
	struct rw_config *cf;

	/* BOM, CRLF, blank lines with blanks, indented comments, "key: value",
	 * ';' glued to a value is part of it, empty optional values. */
	cf = load("\xEF\xBB\xBF[daemon]\r\n"
	    "   \r\n"
	    "\t; indented comment\r\n"
	    "    # another\n"
	    "log_level: warning\n"
	    "socket_group =\n"
	    "metrics_listen =   ; none\n"
	    "[target\tx]   ; comment after a header\n"
	    "host=db1;x\n"
	    "option_file=ok.cnf\n"
	    "master_host =\n"
	    "on_promoted =\n");
	assert_string_equal(err, "");
	assert_non_null(cf);
	assert_int_equal(cf->log_level, LOG_LVL_WARN);
	assert_null(cf->socket_group);
	assert_null(cf->metrics_listen);
	assert_string_equal(cf->targets[0].name, "x");
	assert_string_equal(cf->targets[0].replica.host, "db1;x");
	assert_null(cf->targets[0].master.host);
	assert_null(cf->targets[0].on_promoted);
	config_free(cf);
}

static void
test_unknown_key(void **state)
{
	expect_error(TARGET_A "colour = blue\n", 4,
	    "colour: unknown key in [target a]");
	expect_error("[daemon]\nhost = x\n" TARGET_A, 2,
	    "host: unknown key in [daemon]");
	/* A credential in the wrong file is refused without echoing it. */
	expect_error(TARGET_A "password = " SECRET "\n", 4,
	    "password: unknown key in [target a]");
	expect_error("host = x\n" TARGET_A, 1,
	    "host: outside of any section ([daemon] or [target NAME] first)");
}

static void
test_out_of_range(void **state)
{
	expect_error(TARGET_A "interval_ms = 50\n", 4,
	    "interval_ms: 50 is out of range (100..3600000)");
	expect_error(TARGET_A "port = 0\n", 4,
	    "port: 0 is out of range (1..65535)");
	expect_error(TARGET_A "port = 65536\n", 4,
	    "port: 65536 is out of range (1..65535)");
	/* Below RDS's 3 s floor a start or stop would always time out. */
	expect_error(TARGET_A "procedure_timeout_ms = 2000\n", 4,
	    "procedure_timeout_ms: 2000 is out of range (5000..3600000)");
	expect_error(TARGET_A "hysteresis = 101\n", 4,
	    "hysteresis: 101 is out of range (1..100)");
	expect_error(TARGET_A "heartbeat_server_id = 4294967296\n", 4,
	    "heartbeat_server_id: 4294967296 is out of range (0..4294967295)");
	expect_error(TARGET_A "interval_ms = 99999999999999999999999\n", 4,
	    "interval_ms: 99999999999999999999999 is out of range "
	    "(100..3600000)");
	expect_error("[daemon]\nmax_clients = 0\n" TARGET_A, 2,
	    "max_clients: 0 is out of range (1..4096)");
	expect_error("[daemon]\nclient_idle_timeout_s = 86401\n" TARGET_A, 2,
	    "client_idle_timeout_s: 86401 is out of range (1..86400)");
	expect_error(TARGET_A "hook_timeout_ms = 99\n", 4,
	    "hook_timeout_ms: 99 is out of range (100..600000)");
	expect_error(TARGET_A "lag_warn_s = 0\n", 4,
	    "lag_warn_s: 0 is out of range (0.001..2592000)");
	expect_error(TARGET_A "lag_crit_s = 2592000.001\n", 4,
	    "lag_crit_s: 2592000.001 is out of range (0.001..2592000)");
}

static void
test_bad_numbers(void **state)
{
	expect_error(TARGET_A "interval_ms = 1000ms\n", 4,
	    "interval_ms: \"1000ms\" is not a whole number");
	expect_error(TARGET_A "port = -1\n", 4,
	    "port: \"-1\" is not a whole number");
	expect_error(TARGET_A "port = +3306\n", 4,
	    "port: \"+3306\" is not a whole number");
	expect_error(TARGET_A "port = 0x10\n", 4,
	    "port: \"0x10\" is not a whole number");
	expect_error(TARGET_A "port = 33 06\n", 4,
	    "port: \"33 06\" is not a whole number");
	expect_error(TARGET_A "port =\n", 4, "port: empty value");
	/* '#' after a value is not a comment. */
	expect_error(TARGET_A "port = 3306 # mysql\n", 4,
	    "port: \"3306 # mysql\" is not a whole number");
	expect_error(TARGET_A "lag_warn_s = 1.2345\n", 4,
	    "lag_warn_s: 1.2345: at most 3 decimals (milliseconds)");
	expect_error(TARGET_A "lag_warn_s = .5\n", 4,
	    "lag_warn_s: \".5\" is not a number of seconds");
	expect_error(TARGET_A "lag_warn_s = 5.\n", 4,
	    "lag_warn_s: \"5.\" is not a number of seconds");
	expect_error(TARGET_A "lag_warn_s = 30s\n", 4,
	    "lag_warn_s: \"30s\" is not a number of seconds");
}

static void
test_bad_enum(void **state)
{
	expect_error(TARGET_A "flavor = oracle\n", 4,
	    "flavor: \"oracle\" is not one of auto | rds-mysql | rds-mariadb"
	    " | mysql | mariadb");
	expect_error(TARGET_A "flavor = MySQL\n", 4,
	    "flavor: \"MySQL\" is not one of auto | rds-mysql | rds-mariadb"
	    " | mysql | mariadb");
	expect_error(TARGET_A "tls = on\n", 4,
	    "tls: \"on\" is not one of disabled | preferred | required | "
	    "verify_ca | verify_identity");
	expect_error(TARGET_A "heartbeat = yes\n", 4,
	    "heartbeat: \"yes\" is not one of off | write | read");
	expect_error(TARGET_A "heartbeat_layout = percona\n", 4,
	    "heartbeat_layout: \"percona\" is not one of pt-heartbeat | "
	    "replwatch");
	expect_error("[daemon]\nlog_level = loud\n" TARGET_A, 2,
	    "log_level: \"loud\" is not one of error | warning | info | debug");
	expect_error(TARGET_A "heartbeat =\n", 4,
	    "heartbeat: empty value (one of off | write | read)");
}

static void
test_bad_strings(void **state)
{
	struct rw_config *cf;

	expect_error("[daemon]\nsocket = run/rw.sock\n" TARGET_A, 2,
	    "socket: \"run/rw.sock\" is not an absolute path");
	{
		char text[256], sock[128];

		/* sun_path holds 108 bytes with the NUL. */
		memset(sock, 's', sizeof sock);
		sock[0] = '/';
		sock[107] = '\0';
		snprintf(text, sizeof text, "[daemon]\nsocket = %s\n" TARGET_A,
		    sock);
		cf = load(text);
		assert_string_equal(err, "");
		assert_non_null(cf);
		assert_string_equal(cf->socket, sock);
		config_free(cf);
		sock[107] = 's';
		sock[108] = '\0';
		snprintf(text, sizeof text, "[daemon]\nsocket = %s\n" TARGET_A,
		    sock);
		expect_error(text, 2,
		    "socket: path is 108 bytes long, the limit is 107");
	}
	expect_error("[daemon]\nstate_dir = var/lib\n" TARGET_A, 2,
	    "state_dir: \"var/lib\" is not an absolute path");
	expect_error("[daemon]\nmetrics_listen = 9505\n" TARGET_A, 2,
	    "metrics_listen: \"9505\" is not host:port");
	expect_error("[daemon]\nmetrics_listen = ::1:9505\n" TARGET_A, 2,
	    "metrics_listen: \"::1:9505\": write an IPv6 address in brackets, "
	    "[::1]:9505");
	expect_error("[daemon]\nmetrics_listen = localhost:http\n" TARGET_A, 2,
	    "metrics_listen: \"http\" is not a whole number");
	expect_error("[daemon]\nadmin_group = wheel # admins\n" TARGET_A, 2,
	    "admin_group: \"wheel # admins\" contains blanks (a '#' after a "
	    "value is not a comment; use ';')");
	expect_error("[target a]\nhost =\noption_file = ok.cnf\n", 2,
	    "host: empty value");
	expect_error(TARGET_A "heartbeat_table = heartbeat\n", 4,
	    "heartbeat_table: \"heartbeat\" is not schema.table (letters, "
	    "digits, _ and $, at most 64 each)");
	expect_error(TARGET_A "heartbeat_table = a.b.c\n", 4,
	    "heartbeat_table: \"a.b.c\" is not schema.table (letters, "
	    "digits, _ and $, at most 64 each)");
	expect_error(TARGET_A "heartbeat_table = `a`.b\n", 4,
	    "heartbeat_table: \"`a`.b\" is not schema.table (letters, "
	    "digits, _ and $, at most 64 each)");
	expect_error(TARGET_A "on_promoted = switch-dns --now\n", 4,
	    "on_promoted: \"switch-dns\" is not an absolute path");
	expect_error(TARGET_A "on_state_change = /nonexistent/page\n", 4,
	    "on_state_change: /nonexistent/page: No such file or directory");
	write_file("hook", 0644, "#!/bin/sh\n");
	{
		char text[PATH_MAX + 128], want[PATH_MAX + 128];

		snprintf(text, sizeof text, TARGET_A "on_promote_failed = %s/hook"
		    " x\n", dir);
		snprintf(want, sizeof want, "on_promote_failed: %s/hook: not "
		    "executable: Permission denied", dir);
		expect_error(text, 4, want);
		snprintf(text, sizeof text, TARGET_A "on_promoted = %s\n", dir);
		snprintf(want, sizeof want, "on_promoted: %s: not a regular "
		    "file", dir);
		expect_error(text, 4, want);
	}
}

static void
test_duplicates(void **state)
{
	expect_error(TARGET_A "port = 1\nport = 2\n", 5,
	    "port: duplicate key (first on line 4)");
	expect_error(TARGET_A "host = db2\n", 4,
	    "host: duplicate key (first on line 2)");
	expect_error(TARGET_A "\n" TARGET_A, 5,
	    "duplicate target \"a\" (first on line 1)");
	expect_error("[daemon]\n[daemon]\n" TARGET_A, 2,
	    "duplicate [daemon] section (first on line 1)");
	/* The same key in two targets is no duplicate. */
	{
		struct rw_config *cf = load(TARGET_A "[target b]\nhost = db1\n"
		    "option_file = ok.cnf\n");

		assert_string_equal(err, "");
		assert_non_null(cf);
		assert_int_equal(cf->ntargets, 2);
		assert_int_equal(cf->targets[1].line, 4);
		config_free(cf);
	}
}

static void
test_sections(void **state)
{
	expect_error("[deamon]\n" TARGET_A, 1,
	    "unknown section [deamon] (expected [daemon] or [target NAME])");
	expect_error("[targets a]\n", 1,
	    "unknown section [targets a] (expected [daemon] or [target NAME])");
	expect_error("[ daemon ]\n", 1,
	    "unknown section [ daemon ] (expected [daemon] or [target NAME])");
	expect_error("[target]\n", 1, "a target needs a name: [target NAME]");
	expect_error("[target a b]\n", 1,
	    "invalid target name \"a b\" (1 to 63 of A-Z a-z 0-9 _ . -)");
	expect_error("[target a/b]\n", 1,
	    "invalid target name \"a/b\" (1 to 63 of A-Z a-z 0-9 _ . -)");
	expect_error("[target a\n", 1, "section header without ']'");
	expect_error("[target a] x\n", 1, "text after the section header");
	expect_error(TARGET_A "just words\n", 4,
	    "expected KEY = VALUE, [daemon] or [target NAME]");
	expect_error(TARGET_A "= 5\n", 4, "missing key name before '='");
	/* 63 characters is the longest name: libinih would cut it at 49. */
	{
		char name[65], text[512], want[256];
		struct rw_config *cf;

		memset(name, 'n', 63);
		name[63] = '\0';
		snprintf(text, sizeof text, "[target %s]\nhost = h\n"
		    "option_file = ok.cnf\n", name);
		cf = load(text);
		assert_non_null(cf);
		assert_non_null(config_target(cf, name));
		config_free(cf);
		strcat(name, "x");
		snprintf(text, sizeof text, "[target %s]\n", name);
		snprintf(want, sizeof want, "invalid target name \"%s\" (1 to 63 "
		    "of A-Z a-z 0-9 _ . -)", name);
		expect_error(text, 1, want);
	}
}

static void
test_file_errors(void **state)
{
	char want[PATH_MAX + 128];
	struct rw_config *cf;

	/* No target. */
	cf = load("[daemon]\nlog_level = info\n");
	assert_null(cf);
	snprintf(want, sizeof want, "%s: no target defined ([target NAME])",
	    conf);
	assert_string_equal(err, want);
	cf = load("");
	assert_null(cf);
	assert_string_equal(err, want);

	/* Cannot open. */
	snprintf(want, sizeof want, "%s/nope.conf", dir);
	assert_null(config_load(want, err, sizeof err));
	strcat(want, ": No such file or directory");
	assert_string_equal(err, want);
	assert_null(config_load(dir, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a regular file (a directory)",
	    dir);
	assert_string_equal(err, want);

	/* A NULL or tiny error buffer is fine. */
	assert_null(config_load(dir, NULL, 0));
	assert_null(config_load(dir, err, 4));
	assert_string_equal(err, "/tm");
}

static void
test_required(void **state)
{
	expect_error("[target a]\noption_file = ok.cnf\n", 1,
	    "host: required in [target a]");
	expect_error("[target a]\nhost = db1\n[target b]\n", 1,
	    "option_file: required in [target a] (the credentials)");
	expect_error(TARGET_A "[target b]\nhost = db1\n", 4,
	    "option_file: required in [target b] (the credentials)");
	expect_error(TARGET_A "master_host = old\n", 4,
	    "master_option_file: required when master_host is set");
	expect_error(TARGET_A "master_port = 3307\n", 4,
	    "master_port: set, but master_host is not");
	expect_error(TARGET_A "master_option_file = ok.cnf\n", 4,
	    "master_option_file: set, but master_host is not");
	expect_error(TARGET_A "master_host =\nmaster_tls = required\n", 5,
	    "master_tls: set, but master_host is not");
}

static void
test_lag_order(void **state)
{
	expect_error(TARGET_A "lag_warn_s = 30\nlag_crit_s = 10\n", 5,
	    "lag_crit_s: 10 is below lag_warn_s (30)");
	expect_error(TARGET_A "lag_crit_s = 0.25\n", 4,
	    "lag_crit_s: 0.25 is below lag_warn_s (30)");
	expect_error(TARGET_A "lag_warn_s = 301.5\n", 4,
	    "lag_warn_s: 301.5 is above lag_crit_s (300)");
}

static void
test_tls_rules(void **state)
{
	write_file("ca.pem", 0644, "ca\n");
	write_file("cert.pem", 0644, "cert\n");
	expect_error(TARGET_A "tls = verify_ca\n", 4,
	    "tls: verify_ca needs tls_ca");
	expect_error(TARGET_A "tls = verify_identity\n", 4,
	    "tls: verify_identity needs tls_ca");
	expect_error(TARGET_A "tls_cert = cert.pem\n", 4,
	    "tls_cert: needs tls_key");
	expect_error(TARGET_A "tls_key = cert.pem\n", 4,
	    "tls_key: needs tls_cert");
	expect_error(TARGET_A "master_host = m\nmaster_option_file = ok.cnf\n"
	    "master_tls = verify_ca\n", 6,
	    "master_tls: verify_ca needs master_tls_ca");
	{
		char want[PATH_MAX + 64];

		snprintf(want, sizeof want, "tls_ca: %s/nope.pem: No such file "
		    "or directory", dir);
		expect_error(TARGET_A "tls_ca = nope.pem\n", 4, want);
	}
}

static void
test_heartbeat_write_needs_master(void **state)
{
	struct rw_config *cf;

	expect_error(TARGET_A "heartbeat = write\n", 4,
	    "heartbeat: write needs master_host (the heartbeat is written on "
	    "the master)");
	cf = load(TARGET_A "heartbeat = read\n");
	assert_non_null(cf);
	config_free(cf);
	cf = load(TARGET_A "heartbeat = write\nmaster_host = m\n"
	    "master_option_file = ok.cnf\n");
	assert_non_null(cf);
	assert_int_equal(cf->targets[0].heartbeat, HEARTBEAT_WRITE);
	config_free(cf);
}

static void
test_long_line(void **state)
{
	static char text[32768], cmd[8192];
	char path[PATH_MAX + 64];
	struct rw_config *cf;
	size_t n;

	/*
	 * A hook command far over libinih's 200-byte buffer: the whole value
	 * arrives, an inline comment is cut as on a short line, and the
	 * lines around it are read as they are.
	 */
	snprintf(path, sizeof path, "%s/hook.sh", dir);
	write_file(path, 0755, "#!/bin/sh\nexit 0\n");
	n = (size_t)snprintf(cmd, sizeof cmd, "%s", path);
	while (n < 3000)
		n += (size_t)snprintf(cmd + n, sizeof cmd - n, " --arg=%zu", n);
	snprintf(text, sizeof text, TARGET_A "on_promoted = %s   ; why\n"
	    "on_switch = %s\nport = 3307\n", cmd, cmd);
	cf = load(text);
	assert_string_equal(err, "");
	assert_non_null(cf);
	assert_string_equal(cf->targets[0].on_promoted, cmd);
	assert_string_equal(cf->targets[0].on_switch, cmd);
	assert_int_equal(cf->targets[0].replica.port, 3307);
	config_free(cf);

	/* A long value is checked as any: the error names its line. */
	snprintf(text, sizeof text, TARGET_A "on_promoted = /nonexistent %s\n",
	    cmd);
	expect_error(text, 4, "on_promoted: /nonexistent: No such file or "
	    "directory");
	/* A long comment is a comment. */
	memset(cmd, 'x', 3000);
	cmd[3000] = '\0';
	snprintf(text, sizeof text, TARGET_A "# %s\nport = 3307\n", cmd);
	cf = load(text);
	assert_string_equal(err, "");
	assert_non_null(cf);
	assert_int_equal(cf->targets[0].replica.port, 3307);
	config_free(cf);

	/* 4096 bytes is fine (CRLF too), 4097 is not. */
	memset(cmd, 'h', sizeof cmd);
	cmd[4096 - strlen("host = ")] = '\0';
	snprintf(text, sizeof text, "[target a]\nhost = %s\r\n"
	    "option_file = ok.cnf\n", cmd);
	cf = load(text);
	assert_string_equal(err, "");
	assert_non_null(cf);
	assert_int_equal(strlen(cf->targets[0].replica.host), 4089);
	config_free(cf);
	memset(cmd, 'h', sizeof cmd);
	cmd[4097 - strlen("host = ")] = '\0';
	snprintf(text, sizeof text, "[target a]\nhost = %s\n"
	    "option_file = ok.cnf\n", cmd);
	expect_error(text, 2, "line too long (max 4096 bytes)");

	/* Far over it, in a comment: still refused, and the line after it
	 * is not taken for a line of its own. */
	memset(cmd, 'x', sizeof cmd);
	cmd[sizeof cmd - 1] = '\0';
	snprintf(text, sizeof text, TARGET_A "# %s\n", cmd);
	expect_error(text, 4, "line too long (max 4096 bytes)");
}

static void
test_continuation_line(void **state)
{
	expect_error(TARGET_A "port = 3306\n  3307\n", 5,
	    "port: indented line: INI would continue the value of the previous"
	    " line with it; multi-line values are not allowed, remove the "
	    "indentation");
	expect_error("[target a]\n  host = db1\n", 2,
	    "indented line: INI would continue the previous value with it; "
	    "remove the indentation");
	expect_error(TARGET_A "\t[target b]\n", 4,
	    "option_file: indented line: INI would continue the value of the "
	    "previous line with it; multi-line values are not allowed, remove "
	    "the indentation");
}

static void
test_nul_byte(void **state)
{
	char text[] = TARGET_A "port = 33\0" "06\n";
	struct rw_config *cf;
	char want[PATH_MAX + 64];

	/* write_file() stops at the NUL: write it by hand. */
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fwrite(text, 1, sizeof text - 1, fp);
	fclose(fp);
	cf = config_load(conf, err, sizeof err);
	assert_null(cf);
	snprintf(want, sizeof want, "%s:4: NUL byte in line", conf);
	assert_string_equal(err, want);
}

static void
test_option_file_password_mode(void **state)
{
	char want[PATH_MAX + 256];

	write_file("rds1.cnf", 0644, "[client]\nuser = rw\npassword = " SECRET
	    "\n");
	snprintf(want, sizeof want, "option_file: %s/rds1.cnf: holds a "
	    "password but is readable by group or others (mode 0644); chmod "
	    "600 it", dir);
	expect_error("[target a]\nhost = db1\noption_file = rds1.cnf\n", 3,
	    want);
	assert_null(strstr(err, SECRET));

	/* Any group, "pass", "loose-password", odd spacing; any bit. */
	write_file("rds1.cnf", 0610, "[mysqldump]\n  Loose-Password=" SECRET
	    "\n");
	snprintf(want, sizeof want, "master_option_file: %s/rds1.cnf: holds "
	    "a password but is accessible by group or others (mode 0610); "
	    "chmod 600 it", dir);
	expect_error(TARGET_A "master_host = m\nmaster_option_file = rds1.cnf\n",
	    5, want);
	assert_null(strstr(err, SECRET));

	write_file("rds1.cnf", 0604, "[client]\npass=" SECRET "\n");
	snprintf(want, sizeof want, "%s/rds1.cnf", dir);
	assert_int_equal(config_check_option_file(want, err, sizeof err), -1);
	assert_non_null(strstr(err, "(mode 0604)"));
	assert_null(strstr(err, SECRET));

	assert_int_equal(chmod(want, 0600), 0);
	assert_int_equal(config_check_option_file(want, err, sizeof err), 0);
	assert_int_equal(chmod(want, 0400), 0);
	assert_int_equal(config_check_option_file(want, err, sizeof err), 0);
}

static void
test_option_file_without_password(void **state)
{
	struct rw_config *cf;
	char path[PATH_MAX + 64];

	/* Comments and near-misses are not passwords. */
	write_file("nopw.cnf", 0644, "[client]\nuser = rw\n# password = x\n"
	    "; password = y\npassword_file = z\nsslmode = x\n"
	    "!include\t/etc/x\n!includes /etc/x\n!Include /etc/x\n"
	    "passwords = x\npa = x\npassword\n");
	cf = load("[target a]\nhost = db1\noption_file = nopw.cnf\n");
	assert_string_equal(err, "");
	assert_non_null(cf);
	snprintf(path, sizeof path, "%s/nopw.cnf", dir);
	assert_string_equal(cf->targets[0].replica.option_file, path);
	config_free(cf);
}

static void
test_option_file_missing(void **state)
{
	char want[PATH_MAX + 128];

	snprintf(want, sizeof want, "option_file: %s/nope.cnf: No such file or "
	    "directory", dir);
	expect_error("[target a]\nhost = db1\noption_file = nope.cnf\n", 3,
	    want);
	snprintf(want, sizeof want, "option_file: %s: not a regular file "
	    "(a directory)", dir);
	{
		char text[PATH_MAX + 128];

		snprintf(text, sizeof text, "[target a]\nhost = db1\n"
		    "option_file = %s\n", dir);
		expect_error(text, 3, want);
	}
	expect_error("[target a]\nhost = db1\noption_file =\n", 3,
	    "option_file: empty value");
}

static void
test_credentials_directory(void **state)
{
	char creds[128], path[PATH_MAX + 64];
	struct rw_config *cf;

	snprintf(creds, sizeof creds, "%s/creds", dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	write_file("creds/rds1.cnf", 0400, "[client]\npassword = " SECRET "\n");
	write_file("old.cnf", 0600, "[client]\npassword = " SECRET "\n");
	setenv("CREDENTIALS_DIRECTORY", creds, 1);

	/* In the credentials directory: taken from there.  Not there: next to
	 * the configuration file.  Absolute: as written. */
	cf = load("[target a]\nhost = db1\noption_file = rds1.cnf\n"
	    "master_host = m\nmaster_option_file = old.cnf\n"
	    "[target b]\nhost = db2\noption_file = /etc/passwd\n");
	assert_string_equal(err, "");
	assert_non_null(cf);
	snprintf(path, sizeof path, "%s/rds1.cnf", creds);
	assert_string_equal(cf->targets[0].replica.option_file, path);
	snprintf(path, sizeof path, "%s/old.cnf", dir);
	assert_string_equal(cf->targets[0].master.option_file, path);
	assert_string_equal(cf->targets[1].replica.option_file, "/etc/passwd");
	config_free(cf);

	/* Not in either place: the error names the configuration side. */
	snprintf(path, sizeof path, "option_file: %s/gone.cnf: No such file or "
	    "directory", dir);
	expect_error("[target a]\nhost = db1\noption_file = gone.cnf\n", 3,
	    path);
}

static void
test_relative_paths(void **state)
{
	char sub[PATH_MAX + 64], cwd[PATH_MAX], path[PATH_MAX + 64];
	struct rw_config *cf;
	FILE *fp;

	/* A relative configuration path: its directory is made absolute,
	 * since the daemon may change directory before it connects. */
	snprintf(sub, sizeof sub, "%s/etc", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("etc/rds1.cnf", 0600, "[client]\npassword = " SECRET "\n");
	write_file("etc/rw.conf", 0644, "[target a]\nhost = db1\n"
	    "option_file = rds1.cnf\n");
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	cf = config_load("etc/rw.conf", err, sizeof err);
	assert_string_equal(err, "");
	assert_non_null(cf);
	snprintf(path, sizeof path, "%s/etc/rds1.cnf", dir);
	assert_string_equal(cf->targets[0].replica.option_file, path);
	config_free(cf);

	assert_int_equal(chdir(sub), 0);
	cf = config_load("rw.conf", err, sizeof err);
	assert_non_null(cf);
	assert_string_equal(cf->targets[0].replica.option_file, path);
	config_free(cf);

	/* Errors name the file as the caller did. */
	fp = fopen("bad.conf", "w");
	assert_non_null(fp);
	fputs("[target a]\nport = x\n", fp);
	fclose(fp);
	assert_null(config_load("bad.conf", err, sizeof err));
	assert_string_equal(err, "bad.conf:2: port: \"x\" is not a whole number");
	assert_int_equal(chdir(cwd), 0);
}

/* config_check_option_file on dir/name: 0, or -1 with err containing want. */
static void
expect_optfile(const char *name, const char *want)
{
	char path[PATH_MAX + 64];
	int rc;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	rc = config_check_option_file(path, err, sizeof err);
	if (want == NULL) {
		assert_string_equal(err, "");
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, -1);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", err, want);
	assert_null(strstr(err, SECRET));
}

static void
test_option_file_writable(void **state)
{
	char want[PATH_MAX + 256];

	/* No password in it, still refused: plugin-dir loads a library. */
	write_file("w.cnf", 0664, "[client]\nuser = rw\n");
	snprintf(want, sizeof want, "option_file: %s/w.cnf: writable by group "
	    "(mode 0664); chmod go-w it", dir);
	expect_error("[target a]\nhost = db1\noption_file = w.cnf\n", 3, want);
	write_file("w.cnf", 0646, "[client]\nuser = rw\n");
	expect_optfile("w.cnf", "w.cnf: writable by others (mode 0646)");
	write_file("w.cnf", 0622, "[client]\npassword = " SECRET "\n");
	expect_optfile("w.cnf", "w.cnf: writable by others (mode 0622)");
	write_file("w.cnf", 0644, "[client]\nuser = rw\n");
	expect_optfile("w.cnf", NULL);
}

static void
test_option_file_owner(void **state)
{
	char path[128], want[512];

	if (geteuid() != 0)
		skip();	/* chown needs root */
	write_file("o.cnf", 0600, "[client]\npassword = " SECRET "\n");
	snprintf(path, sizeof path, "%s/o.cnf", dir);
	assert_int_equal(chown(path, 65534, 65534), 0);
	snprintf(want, sizeof want, "%s: owned by ", path);
	expect_optfile("o.cnf", want);
	expect_optfile("o.cnf", "uid 65534), not by root; chown it");
	/* Root's own file, and a group that is not root's, are fine. */
	assert_int_equal(chown(path, 0, 65534), 0);
	expect_optfile("o.cnf", NULL);
}

static void
test_option_file_directories(void **state)
{
	char sub[128], link[128], text[512], want[1024];

	snprintf(sub, sizeof sub, "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("sub/o.cnf", 0600, "[client]\npassword = " SECRET "\n");
	expect_optfile("sub/o.cnf", NULL);

	/* Others may rename the file away and put theirs in its place. */
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(want, sizeof want, "%s/o.cnf: directory %s is writable by "
	    "others (mode 0777) and not sticky, so the file can be replaced; "
	    "chmod go-w it", sub, sub);
	expect_optfile("sub/o.cnf", want);
	assert_int_equal(chmod(sub, 0775), 0);
	expect_optfile("sub/o.cnf", "is writable by group (mode 0775)");
	/* Sticky, like /tmp: they cannot touch a file they do not own. */
	assert_int_equal(chmod(sub, 01777), 0);
	expect_optfile("sub/o.cnf", NULL);
	assert_int_equal(chmod(sub, 0755), 0);

	/* The configuration file names the option file through a link. */
	snprintf(link, sizeof link, "%s/link", dir);
	assert_int_equal(symlink(sub, link), 0);
	snprintf(text, sizeof text, "[target a]\nhost = db1\n"
	    "option_file = %s/o.cnf\n", link);
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(want, sizeof want, "option_file: %s/o.cnf: directory %s is "
	    "writable by others", link, sub);
	{
		struct rw_config *cf = load(text);

		assert_null(cf);
		assert_non_null(strstr(err, want));
	}
	assert_int_equal(chmod(sub, 0755), 0);
	expect_optfile("link/o.cnf", NULL);
	if (geteuid() != 0)
		return;
	/* Its owner could point the link elsewhere at any time. */
	assert_int_equal(lchown(link, 65534, 65534), 0);
	snprintf(want, sizeof want, "%s/o.cnf: link %s is owned by ", link,
	    link);
	expect_optfile("link/o.cnf", want);
	/* And a directory on the way that is not ours. */
	assert_int_equal(chown(sub, 65534, 65534), 0);
	snprintf(want, sizeof want, "%s/o.cnf: directory %s is owned by ", sub,
	    sub);
	expect_optfile("sub/o.cnf", want);
}

static void
test_option_file_secrets(void **state)
{
	/* What libmariadb reads as the password ("passwd", a connection
	 * string) and what the other clients would (prefixes, "loose-",
	 * any case).  (A TLS key's passphrase is a TLS option: refused
	 * whatever the mode, below.) */
	static const char *const lines[] = {
		"passwd = " SECRET, "passwd=" SECRET, "PASSWD =" SECRET,
		"connection = user=rw;password=" SECRET, "pas=" SECRET,
		"passw = " SECRET, "loose_pass = " SECRET,
		"loose-passwd = " SECRET, "password1 = " SECRET,
	};
	char text[256];

	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		snprintf(text, sizeof text, "[client]\nuser = rw\n%s\n",
		    lines[i]);
		write_file("s.cnf", 0644, text);
		expect_optfile("s.cnf", "s.cnf: holds a password but is "
		    "readable by group or others (mode 0644); chmod 600 it");
		write_file("s.cnf", 0600, text);
		expect_optfile("s.cnf", NULL);
	}
}

static void
test_option_file_tls(void **state)
{
	/* libmariadb reads these after the daemon's own TLS settings: each
	 * could undo tls = required.  Refused, naming the option, never the
	 * value; "sslmode" and a comment are not options of the library. */
	static const struct { const char *line, *key; } bad[] = {
		{ "ssl-enforce = 0", "ssl-enforce" },
		{ "ssl_fp =", "ssl-fp" },
		{ "loose-ssl-verify-server-cert = 0", "ssl-verify-server-cert" },
		{ "skip-ssl", "skip-ssl" },
		{ "SSL = 0", "ssl" },
		{ "tls_version = TLSv1", "tls-version" },
		{ "ssl-ca = /etc/ssl/x.pem", "ssl-ca" },
		{ "ssl-passphrase = " SECRET, "ssl-passphrase" },
	};
	char text[256], want[160];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[client]\nuser = rw\n%s\n",
		    bad[i].line);
		write_file("t.cnf", 0600, text);
		snprintf(want, sizeof want, "t.cnf: line 3: %s: TLS is set in "
		    "replwatch.conf", bad[i].key);
		expect_optfile("t.cnf", want);
	}
	write_file("t.cnf", 0600, "[client]\nuser = rw\nsslmode = x\n"
	    "# ssl-enforce = 0\n");
	expect_optfile("t.cnf", NULL);
}

static void
test_option_file_long_line(void **state)
{
	char text[4200];

	/* libmariadb reads 4094 bytes at a time: the tail of a longer line
	 * would be an option of its own, a password hidden from us. */
	memset(text, 'x', sizeof text);
	memcpy(text, "[client]\n", 9);
	snprintf(text + 9 + 4094, sizeof text - 9 - 4094, "password=%s\n",
	    SECRET);
	write_file("l.cnf", 0644, text);
	expect_optfile("l.cnf", "l.cnf: line 2 is longer than 4093 bytes");
	/* 4093 bytes and a newline: one line for the library too. */
	snprintf(text + 9 + 4093, sizeof text - 9 - 4093, "\nuser=rw\n");
	write_file("l.cnf", 0644, text);
	expect_optfile("l.cnf", NULL);
}

static void
test_option_file_includes(void **state)
{
	char text[512], want[1024], sub[128];

	/* An included file is held to the same rules. */
	write_file("pw.cnf", 0600, "[client]\npassword = " SECRET "\n");
	snprintf(text, sizeof text, "[client]\nuser = rw\n!include %s/pw.cnf\n",
	    dir);
	write_file("main.cnf", 0644, text);
	expect_optfile("main.cnf", NULL);
	write_file("pw.cnf", 0644, "[client]\npassword = " SECRET "\n");
	snprintf(want, sizeof want, "%s/main.cnf:3: !include: %s/pw.cnf: holds "
	    "a password but is readable by group or others (mode 0644); chmod "
	    "600 it", dir, dir);
	expect_optfile("main.cnf", want);
	write_file("pw.cnf", 0620, "[client]\nplugin-dir = /tmp\n");
	expect_optfile("main.cnf", "pw.cnf: writable by group (mode 0620)");
	/* The error travels up with each file:line on the way. */
	snprintf(text, sizeof text, "[client]\n!include %s/main.cnf\n", dir);
	write_file("top.cnf", 0600, text);
	snprintf(want, sizeof want, "%s/top.cnf:2: !include: %s/main.cnf:3: "
	    "!include: %s/pw.cnf: writable by group", dir, dir, dir);
	expect_optfile("top.cnf", want);

	/* Missing, relative, empty (libmariadb would read the system's
	 * files), a loop. */
	snprintf(text, sizeof text, "!include %s/gone.cnf\n", dir);
	write_file("main.cnf", 0644, text);
	expect_optfile("main.cnf", "main.cnf:1: !include: ");
	expect_optfile("main.cnf", "gone.cnf: No such file or directory");
	write_file("main.cnf", 0644, "!include pw.cnf\n");
	expect_optfile("main.cnf", "main.cnf:1: !include: \"pw.cnf\" is not an "
	    "absolute path");
	write_file("main.cnf", 0644, "[client]\n!include \n");
	expect_optfile("main.cnf", "main.cnf:2: !include: \"\" is not an "
	    "absolute path");
	snprintf(text, sizeof text, "!include %s/main.cnf\n", dir);
	write_file("main.cnf", 0644, text);
	expect_optfile("main.cnf", "includes nested more than 8 deep");

	/* !includedir DIR: libmariadb reads DIR/my.cnf, nothing else. */
	snprintf(sub, sizeof sub, "%s/inc.d", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(text, sizeof text, "!includedir %s\n[client]\n", sub);
	write_file("main.cnf", 0644, text);
	expect_optfile("main.cnf", NULL);
	write_file("inc.d/other.cnf", 0644, "[client]\npassword = x\n");
	expect_optfile("main.cnf", NULL);
	write_file("inc.d/my.cnf", 0644, "[client]\npassword = " SECRET "\n");
	snprintf(want, sizeof want, "%s/main.cnf:1: !includedir: %s/my.cnf: "
	    "holds a password", dir, sub);
	expect_optfile("main.cnf", want);
	write_file("inc.d/my.cnf", 0600, "[client]\npassword = " SECRET "\n");
	expect_optfile("main.cnf", NULL);
	/* Others could add a my.cnf later. */
	assert_int_equal(chmod(sub, 0757), 0);
	snprintf(want, sizeof want, "%s/main.cnf:1: !includedir: %s: "
	    "directory %s is writable by others", dir, sub, sub);
	expect_optfile("main.cnf", want);
	snprintf(text, sizeof text, "!includedir %s/pw.cnf\n", dir);
	write_file("main.cnf", 0644, text);
	expect_optfile("main.cnf", "pw.cnf: not a directory");
}

static void
test_not_regular(void **state)
{
	char path[128], want[512], text[512];

	/* A FIFO with no writer: opening it must not block (alarm: a
	 * regression fails the test instead of hanging it). */
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_null(config_load(path, err, sizeof err));
	snprintf(want, sizeof want, "%s: not a regular file (a FIFO)", path);
	assert_string_equal(err, want);
	snprintf(text, sizeof text, "[target a]\nhost = db1\n"
	    "option_file = %s\n", path);
	snprintf(want, sizeof want, "option_file: %s: not a regular file "
	    "(a FIFO)", path);
	expect_error(text, 3, want);
	assert_int_equal(config_check_option_file("/dev/null", err,
	    sizeof err), -1);
	assert_string_equal(err, "/dev/null: not a regular file (a device)");
	alarm(0);
}

static void
test_config_trust(void **state)
{
	char want[PATH_MAX + 128];

	/* replwatch.conf names the hooks: the same rules as option files. */
	write_file(conf, 0664, TARGET_A);
	assert_null(config_load(conf, err, sizeof err));
	snprintf(want, sizeof want, "%s: writable by group (mode 0664); "
	    "chmod go-w it", conf);
	assert_string_equal(err, want);
	write_file(conf, 0640, TARGET_A);
	{
		struct rw_config *cf = config_load(conf, err, sizeof err);

		assert_non_null(cf);
		config_free(cf);
	}
	if (geteuid() != 0)
		return;
	assert_int_equal(chown(conf, 65534, 0), 0);
	assert_null(config_load(conf, err, sizeof err));
	snprintf(want, sizeof want, "%s: owned by ", conf);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "(uid 65534), not by root; chown it"));
}

/* --- include ------------------------------------------------------------- */

/* conf.d/NAME under the test directory, mode 0644. */
static void
write_inc(const char *name, const char *text)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof path, "%s/conf.d", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "conf.d/%s", name);
	write_file(path, 0644, text);
}

/* "DIR/conf.d/NAME:LINE: rest", the error of an included file. */
static void
expect_inc_error(const char *text, const char *name, int line,
    const char *rest)
{
	struct rw_config *cf = load(text);
	char *want;

	if (cf != NULL)
		config_free(cf);
	assert_null(cf);
	assert_int_not_equal(asprintf(&want, "%s/conf.d/%s:%d: %s", dir, name,
	    line, rest), -1);
	assert_string_equal(err, want);
	free(want);
}

static void
test_include(void **state)
{
	struct rw_config *cf;
	char path[PATH_MAX + 64];

	/* Sorted, after the main file's targets, relative paths from the
	 * included file's own directory. */
	write_inc("b.conf", "[target b]\nhost = db2\noption_file = b.cnf\n");
	write_inc("a.conf", "; one file per target\n[target a2]\n"
	    "host = db3\noption_file = /nonexistent-is-checked.cnf\n");
	write_inc("a.conf", "[target a2]\nhost = db3\noption_file = b.cnf\n"
	    "[target a3]\nhost = db4\noption_file = ../ok.cnf\n");
	write_inc("b.cnf", "[client]\npassword = " SECRET "\n");
	chmod(strcat(strcpy(path, dir), "/conf.d/b.cnf"), 0600);
	write_inc("notes.txt", "not a configuration\n");
	cf = load("[daemon]\ninclude = conf.d/*.conf\n" TARGET_A);
	assert_string_equal(err, "");
	assert_non_null(cf);
	assert_int_equal(cf->ntargets, 4);
	assert_string_equal(cf->targets[0].name, "a");
	assert_string_equal(cf->targets[1].name, "a2");
	assert_string_equal(cf->targets[2].name, "a3");
	assert_string_equal(cf->targets[3].name, "b");
	assert_int_equal(cf->nincluded, 2);
	snprintf(path, sizeof path, "%s/conf.d/a.conf", dir);
	assert_string_equal(cf->included[0], path);
	assert_string_equal(cf->targets[1].file, path);
	assert_int_equal(cf->targets[2].line, 4);
	assert_string_equal(cf->targets[0].file, conf);
	snprintf(path, sizeof path, "%s/conf.d/b.cnf", dir);
	assert_string_equal(cf->targets[1].replica.option_file, path);
	snprintf(path, sizeof path, "%s/conf.d/../ok.cnf", dir);
	assert_string_equal(cf->targets[2].replica.option_file, path);
	config_free(cf);

	/* The main file may hold no target at all. */
	cf = load("[daemon]\ninclude = conf.d/*.conf\n");
	assert_non_null(cf);
	assert_int_equal(cf->ntargets, 3);
	config_free(cf);

	/* A pattern that matches nothing is no error... */
	cf = load("[daemon]\ninclude = conf.d/*.none\n" TARGET_A);
	assert_non_null(cf);
	assert_int_equal(cf->nincluded, 0);
	assert_non_null(cf->include);
	config_free(cf);
	snprintf(path, sizeof path, "[daemon]\ninclude = %s/none.d/*\n" TARGET_A,
	    dir);
	cf = load(path);
	assert_non_null(cf);
	config_free(cf);
	/* ...but no target anywhere is. */
	cf = load("[daemon]\ninclude = conf.d/*.none\n");
	assert_null(cf);
	snprintf(path, sizeof path, "%s: no target defined ([target NAME]), "
	    "nor in the included files", conf);
	assert_string_equal(err, path);
}

static void
test_include_errors(void **state)
{
	char want[PATH_MAX + 256];
	struct rw_config *cf;

	/* The included file's own file:line. */
	write_inc("x.conf", "[target x]\nhost = db2\nport = 0\n"
	    "option_file = ../ok.cnf\n");
	expect_inc_error("[daemon]\ninclude = conf.d/*.conf\n" TARGET_A,
	    "x.conf", 3, "port: 0 is out of range (1..65535)");
	/* A target in two files: both named. */
	write_inc("x.conf", "\n[target a]\nhost = db2\noption_file = ../ok.cnf\n");
	snprintf(want, sizeof want, "duplicate target \"a\" (first in %s:3)",
	    conf);
	expect_inc_error("[daemon]\ninclude = conf.d/*.conf\n" TARGET_A,
	    "x.conf", 2, want);
	write_inc("y.conf", "[target a]\nhost = db2\noption_file = ../ok.cnf\n");
	snprintf(want, sizeof want, "duplicate target \"a\" (first in "
	    "%s/conf.d/x.conf:2)", dir);
	expect_inc_error("[daemon]\ninclude = conf.d/*.conf\n",
	    "y.conf", 1, want);
	/* No [daemon] (and so no include) in an included file. */
	write_inc("x.conf", "[daemon]\ninclude = *.conf\n");
	snprintf(want, sizeof want, "[daemon] belongs in the main file (%s), "
	    "an included file holds [target NAME] sections only", conf);
	expect_inc_error("[daemon]\ninclude = conf.d/x.conf\n" TARGET_A,
	    "x.conf", 1, want);
	/* include is a [daemon] key. */
	expect_error(TARGET_A "include = conf.d/*.conf\n", 4,
	    "include: unknown key in [target a]");
	/* Trusted as the main file is: it names hooks. */
	write_inc("x.conf", "[target x]\nhost = db2\noption_file = ../ok.cnf\n");
	snprintf(want, sizeof want, "%s/conf.d/x.conf", dir);
	chmod(want, 0664);
	cf = load("[daemon]\ninclude = conf.d/x.conf\n" TARGET_A);
	assert_null(cf);
	snprintf(want, sizeof want, "%s/conf.d/x.conf: writable by group "
	    "(mode 0664); chmod go-w it", dir);
	assert_string_equal(err, want);
	/* A directory that cannot be read is an error, not "no match". */
	if (geteuid() != 0) {
		snprintf(want, sizeof want, "%s/conf.d", dir);
		chmod(want, 0);
		cf = load("[daemon]\ninclude = conf.d/*.conf\n" TARGET_A);
		chmod(want, 0755);
		assert_null(cf);
	}
}

static void
test_first_error_wins(void **state)
{
	expect_error(TARGET_A "port = x\ncolour = y\n[bogus]\n", 4,
	    "port: \"x\" is not a whole number");
	expect_error("[target a]\nport = 1\n[target a]\n", 1,
	    "host: required in [target a]");
}

static void
test_names(void **state)
{
	assert_string_equal(config_flavor_name(FLAVOR_AUTO), "auto");
	assert_string_equal(config_flavor_name(FLAVOR_RDS_MYSQL), "rds-mysql");
	assert_string_equal(config_flavor_name(FLAVOR_RDS_MARIADB),
	    "rds-mariadb");
	assert_string_equal(config_flavor_name(FLAVOR_MYSQL), "mysql");
	assert_string_equal(config_flavor_name(FLAVOR_MARIADB), "mariadb");
	assert_string_equal(config_tls_name(TLS_DISABLED), "disabled");
	assert_string_equal(config_tls_name(TLS_PREFERRED), "preferred");
	assert_string_equal(config_tls_name(TLS_REQUIRED), "required");
	assert_string_equal(config_tls_name(TLS_VERIFY_CA), "verify_ca");
	assert_string_equal(config_tls_name(TLS_VERIFY_IDENTITY),
	    "verify_identity");
	assert_string_equal(config_tls_name((enum rw_tls_mode)42), "unknown");
	config_free(NULL);
	assert_null(config_target(NULL, "a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_defaults),
		T(test_every_key),
		T(test_syntax_accepted),
		T(test_unknown_key),
		T(test_out_of_range),
		T(test_bad_numbers),
		T(test_bad_enum),
		T(test_bad_strings),
		T(test_duplicates),
		T(test_sections),
		T(test_file_errors),
		T(test_required),
		T(test_lag_order),
		T(test_tls_rules),
		T(test_heartbeat_write_needs_master),
		T(test_long_line),
		T(test_continuation_line),
		T(test_nul_byte),
		T(test_option_file_password_mode),
		T(test_option_file_without_password),
		T(test_option_file_missing),
		T(test_credentials_directory),
		T(test_relative_paths),
		T(test_option_file_writable),
		T(test_option_file_owner),
		T(test_option_file_directories),
		T(test_option_file_secrets),
		T(test_option_file_tls),
		T(test_option_file_long_line),
		T(test_option_file_includes),
		T(test_not_regular),
		T(test_config_trust),
		T(test_include),
		T(test_include_errors),
		T(test_first_error_wins),
		T(test_names),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
