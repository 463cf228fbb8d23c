/*
 * The command table: { name, handler, flags }.  The read/admin flag is
 * checked in one place (control.c) before any handler runs.
 */
#ifndef RW_COMMANDS_H
#define RW_COMMANDS_H
#include "control.h"

#define CMD_ADMIN	0x1	/* needs root, the daemon's uid or admin_group */
#define CMD_TARGET	0x2	/* "target" is required and must exist */

struct command {
	const char	*name;
	void		(*fn)(struct daemon *, struct client *,
			    const struct proto_request *, struct target *);
	int		 flags;
};

const struct command *command_find(const char *name);

#endif
