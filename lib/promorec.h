/*
 * The record of one promotion: what it is doing, what it has changed on the
 * servers, and what it found.  The daemon writes it to the journal before
 * and after every change; the report and the status show it.  Rollback and
 * resume are derived from the changes alone (promote.c), so this is the
 * whole of what a restarted daemon knows.  Pure data and its JSON form.
 */
#ifndef RW_PROMOREC_H
#define RW_PROMOREC_H
#include <stdint.h>

#include <cjson/cJSON.h>

enum promo_step { PS_PREFLIGHT, PS_FREEZE, PS_CATCHUP, PS_SWITCH, PS_STOP,
	PS_RESET, PS_VERIFY, PS_DONE, PS__COUNT };

enum promo_sstat { PSS_PENDING, PSS_RUNNING, PSS_DONE, PSS_FAILED,
	PSS_SKIPPED };

enum promo_outcome { PO_RUNNING, PO_PROMOTED, PO_ABORTED, PO_INTERRUPTED,
	PO_DRY_RUN };

/*
 * What the promotion changed (or may have changed: a statement is counted
 * from the moment it is sent, since the server may carry it out even if the
 * answer never comes).  Each is journaled before the change is made.
 */
#define CH_MASTER_RO		0x0001	/* read_only set on the old master */
#define CH_MASTER_SRO		0x0002	/* super_read_only set (MySQL) */
#define CH_MASTER_LOCKED	0x0004	/* global read lock (ends with its link) */
#define CH_SESSIONS_KILLED	0x0008	/* the old master's sessions ended */
#define CH_REPLICA_RW		0x0010	/* the replica's read_only turned off */
#define CH_SWITCH_SENT		0x0020	/* the switch command started */
#define CH_SWITCHED		0x0040	/* it succeeded: the point of no return */
#define CH_STOP_SENT		0x0080
#define CH_STOPPED		0x0100
#define CH_RESET_SENT		0x0200
#define CH_RESET_DONE		0x0400
#define CH_SWITCH_BACK		0x0800	/* a rollback ran the switch back */
#define CH_FENCE_RELEASED	0x1000	/* an operator released the fence */
#define CH__COUNT		13

struct promo_hook {
	int		 ran;		/* 0: not run (or not configured) */
	int		 ok;
	char		 detail[256];	/* exit status and last output line */
};

struct promo_record {
	enum promo_outcome outcome;
	enum promo_step	 cur;
	int64_t		 started_ms, finished_ms;	/* Unix ms; 0: not yet */
	int64_t		 freeze_ms, switched_ms;	/* Unix ms; 0: not yet */
	struct {
		enum promo_sstat st;
		double		 ms;
		char		 detail[512];
	} steps[PS__COUNT];

	int		 have_final;
	char		 final_file[256], final_pos[32], final_gtid[1024];
	char		 final_source[64];
	char		 stop_file[256], stop_pos[32];	/* replica's, at the stop */

	unsigned	 changes;	/* CH_* */
	int		 freeze;	/* the old master is to be frozen */
	int		 master_orig_ro, master_orig_sro;	/* -1 unknown */
	int		 replica_orig_ro, replica_ro;		/* -1 unknown */
	double		 write_blocked_ms;	/* < 0: not known */
	int		 killed;		/* sessions ended at the freeze */

	struct promo_hook on_switch, on_switch_back, on_promoted;
	char		 reason[1024];
	cJSON		*todo;		/* strings: what is left to an operator */
	cJSON		*still_write;	/* strings: who can still write there */
	cJSON		*plan;		/* dry run: [{on, sql}] or NULL */
};

extern const char *const promo_step_names[PS__COUNT];
extern const char *const promo_sstat_names[];
extern const char *const promo_outcome_names[];

void	 promorec_init(struct promo_record *);
void	 promorec_clear(struct promo_record *);
/* The report (full: outcome, else state) with no journal-only fields. */
cJSON	*promorec_report(const struct promo_record *, const char *target,
	    int full);
/* The journal: the report plus the changes and original values. */
cJSON	*promorec_journal(const struct promo_record *, const char *target);
/* Read a journal into r (initialised first); -1 with why if not one. */
int	 promorec_from_journal(struct promo_record *, const cJSON *,
	    char *why, size_t len);
const char *promorec_change_name(unsigned ch);

#endif
