/* history: a target's lag statistics and its recent samples. */
#include <stdio.h>

#include "ctl.h"

static void
history_text(const cJSON *r)
{
	static const char *const keys[] = { "min_ms", "avg_ms", "p95_ms",
	    "max_ms" };
	const cJSON *wins = out_obj(r, "windows"), *w, *s, *lag;
	const cJSON *samples = cJSON_GetObjectItemCaseSensitive(r, "samples");
	char b[64], b2[256];
	int i, col, n = cJSON_GetArraySize(samples);
	double d;

	printf("%s: polled every %s ms\n", out_text(b2, sizeof(b2), r,
	    "target"), out_text(b, sizeof(b), r, "interval_ms"));
	cJSON_ArrayForEach(w, wins) {
		printf("  %-4s %5s samples", w->string, out_text(b, sizeof(b),
		    w, "samples"));
		if (out_num(w, "unknown", &d) && d > 0)
			printf(" (%.0f unknown)", d);
		if (!out_num(w, "min_ms", &d)) {
			printf("   no known lag\n");
			continue;
		}
		printf("   min/avg/p95/max ");
		for (i = 0; i < 4; i++)
			printf("%s%s", i ? "/" : "", out_text(b, sizeof(b), w,
			    keys[i]));
		printf(" ms\n");
	}
	if (n == 0)
		return;
	printf("  last %d samples, oldest first, lag in ms (%s: unknown):\n",
	    n, out_dash());
	col = 0;
	cJSON_ArrayForEach(s, samples) {
		lag = cJSON_GetObjectItemCaseSensitive(s, "lag_ms");
		if (cJSON_IsNumber(lag))
			out_number(b, sizeof(b), lag->valuedouble);
		else
			snprintf(b, sizeof(b), "%s", out_dash());
		if (col > 0 && col + 1 + out_width(b) > 76) {
			putchar('\n');
			col = 0;
		}
		col += printf("%s%s", col ? " " : "    ", b);
	}
	putchar('\n');
}

/* A row per sample, oldest first: how long ago, and the lag. */
static void
history_tsv(const cJSON *r)
{
	static const char *const head[] = { "target", "age_ms", "lag_ms" };
	const cJSON *s;
	char b[3][64];
	const char *f[3];

	tsv_row(head, 3);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "samples")) {
		f[0] = tsv_member(b[0], sizeof(b[0]), r, "target");
		f[1] = tsv_member(b[1], sizeof(b[1]), s, "age_ms");
		f[2] = tsv_member(b[2], sizeof(b[2]), s, "lag_ms");
		tsv_row(f, 3);
	}
}

static const struct ctl_opt history_opts[] = {
	{ .name = "samples", .type = OT_COUNT, .arg = "N", .key = "samples",
	  .help = "how many samples to list (default: the daemon's, 60)" },
	{ NULL }
};

const struct ctl_cmd cmd_history_entry = {
	.name = "history",
	.flags = CMD_TARGET_REQ,
	.options = history_opts,
	.usage = "TARGET [--samples N]",
	.summary = "lag statistics and recent samples",
	.help =
	    "Show lag statistics over the last 1, 5 and 15 minutes and the most\n"
	    "recent lag samples, oldest first.  --format tsv: a row per sample\n"
	    "(target, age_ms, lag_ms).\n",
	.text = history_text,
	.tsv = history_tsv,
};
