/* The daemon itself: hello (who it is) and reload (its configuration). */
#include <stdio.h>

#include "ctl.h"
#include "protocol.h"

static void
hello_text(const cJSON *r)
{
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(r, "targets");
	const cJSON *t;
	char b1[64], b2[64], b3[32], b4[32];
	double up;

	printf("%s %s, protocol %s, pid %s", out_text(b1, sizeof(b1), r,
	    "name"), out_text(b2, sizeof(b2), r, "version"),
	    out_text(b3, sizeof(b3), r, "protocol"),
	    out_text(b4, sizeof(b4), r, "pid"));
	if (out_num(r, "uptime_s", &up))
		printf(", up %s", out_duration(b1, sizeof(b1), up));
	putchar('\n');
	printf("targets:");
	if (cJSON_GetArraySize(targets) == 0)
		printf(" (none)");
	cJSON_ArrayForEach(t, targets)
		if (cJSON_IsString(t))
			printf(" %s", t->valuestring);
	putchar('\n');
	printf("admin: %s\n", out_true(r, "admin") ?
	    "yes, this user may run admin commands" : "no");
}

/* A daemon of another major version refuses with version_mismatch. */
static int
hello_build(struct ctl *ctl, const struct ctl_args *a, cJSON *args)
{
	cJSON_AddNumberToObject(args, "protocol", PROTO_VERSION);
	return 0;
}

const struct ctl_cmd cmd_hello_entry = {
	.name = "hello",
	.flags = CMD_TARGET_NONE,
	.usage = "",
	.summary = "the daemon's version and targets",
	.help =
	    "Show the daemon's name, version, protocol version, pid, uptime and\n"
	    "targets, and whether this user may run admin commands.\n",
	.build = hello_build,
	.text = hello_text,
};

static void
reload_text(const cJSON *r)
{
	char b1[512], b2[32];

	printf("configuration reloaded from %s: %s target(s)\n",
	    out_text(b1, sizeof(b1), r, "config"), out_text(b2, sizeof(b2), r,
	    "targets"));
}

const struct ctl_cmd cmd_reload_entry = {
	.name = "reload",
	.flags = CMD_TARGET_NONE | CMD_ADMIN,
	.usage = "",
	.summary = "re-read the configuration (admin)",
	.help =
	    "Make the daemon re-read its configuration file.  A bad file is\n"
	    "refused with the reason and the running configuration kept.\n",
	.text = reload_text,
};
