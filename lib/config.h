/*
 * replwatch.conf (INI, libinih) parsed into a validated struct rw_config.
 * All or nothing: a file either yields a complete configuration or an error
 * naming file:line, the key and why.  The user-facing key names are a
 * contract (replwatch.conf(5)): add, never rename.
 */
#ifndef RW_CONFIG_H
#define RW_CONFIG_H
#include <stddef.h>

#include "log.h"

enum rw_flavor_choice {
	FLAVOR_AUTO, FLAVOR_RDS_MYSQL, FLAVOR_RDS_MARIADB, FLAVOR_MYSQL,
	FLAVOR_MARIADB
};

enum rw_heartbeat { HEARTBEAT_OFF, HEARTBEAT_WRITE, HEARTBEAT_READ };
/* The table heartbeat = write fills: pt-heartbeat's, or replwatch's own. */
enum rw_hb_layout { HB_LAYOUT_PT_HEARTBEAT, HB_LAYOUT_REPLWATCH };

/* Mirrors the client's --ssl-mode words. */
enum rw_tls_mode {
	TLS_DISABLED, TLS_PREFERRED, TLS_REQUIRED, TLS_VERIFY_CA,
	TLS_VERIFY_IDENTITY
};

struct rw_endpoint {
	char		*host;		/* NULL: not configured (master side) */
	unsigned	 port;
	char		*option_file;	/* resolved path; [client] user=, password= */
	enum rw_tls_mode tls;
	char		*tls_ca;
	char		*tls_cert;
	char		*tls_key;
};

struct rw_target_config {
	char		*name;
	char		*file;		/* that holds it: the main or an included one */
	int		 line;		/* of the [target NAME] header there */
	struct rw_endpoint replica;
	struct rw_endpoint master;	/* master.host == NULL: none */
	enum rw_flavor_choice flavor;
	unsigned	 interval_ms;
	unsigned	 connect_timeout_ms;
	unsigned	 query_timeout_ms;
	/* replication control: RDS procedures sleep 3 s and more */
	unsigned	 procedure_timeout_ms;
	unsigned	 lag_warn_ms;	/* lag_warn_s in the file, fractions allowed */
	unsigned	 lag_crit_ms;
	unsigned	 hysteresis;
	enum rw_heartbeat heartbeat;
	char		*heartbeat_table;	/* schema.table */
	enum rw_hb_layout heartbeat_layout;	/* write mode */
	unsigned	 heartbeat_server_id;	/* read mode: the master's server_id, 0: any */
	int		 heartbeat_local_time;	/* ts (pt-heartbeat's) in local time, not UTC */
	char		*on_state_change;	/* hook commands, NULL: none */
	char		*on_promoted;
	char		*on_promote_failed;
	char		*on_switch;	/* moves the application's traffic */
	unsigned	 hook_timeout_ms;
};

struct rw_config {
	char		*path;
	char		*socket;
	char		*socket_group;		/* NULL: the daemon's group */
	char		*admin_group;		/* NULL: only root and the daemon's uid */
	char		*state_dir;
	enum log_level	 log_level;
	enum log_dest	 log_dest;
	char		*metrics_listen;	/* NULL: none */
	unsigned	 max_clients;
	unsigned	 client_idle_timeout_s;
	char		*include;		/* glob pattern, absolute; NULL: none */
	int		 include_line;
	char		**included;		/* the files it matched, sorted */
	size_t		 nincluded;
	struct rw_target_config *targets;
	size_t		 ntargets;
};

/*
 * Parse and validate path, and the files its "include" pattern matches
 * (glob(3), sorted; [target] sections only; relative paths in each taken
 * from its own directory).  On error return NULL and write
 * "file:line: key: why" (or "file: why") into err, file being the one at
 * fault.  Each file must be regular (a FIFO is refused without blocking),
 * owned by root or the effective user, writable by no one else, in
 * directories only they may change: it names the hooks the daemon runs.
 */
struct rw_config *config_load(const char *path, char *err, size_t errlen);
void	config_free(struct rw_config *);
const struct rw_target_config *config_target(const struct rw_config *,
	    const char *name);
const char *config_flavor_name(enum rw_flavor_choice);
const char *config_tls_name(enum rw_tls_mode);

/*
 * Check a MySQL option file before libmariadb reads it (the library ignores
 * errors and loads the plugins the file names): trusted as config_load's
 * file is, not group/world-readable when it holds a password, and every
 * file it pulls in with !include or !includedir the same.  Returns 0, or
 * -1 with "path: why" (or "path:line: !include: ...") in err.
 */
int	config_check_option_file(const char *path, char *err, size_t errlen);

#endif
