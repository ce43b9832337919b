/* cfgd.h: the control plane: revisions in SQLite, the plan, control verbs. */
#ifndef CFGD_H
#define CFGD_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus.h"
#include "netstream.pb-c.h"

#define TEMPLATE_ID_FIRST 258 /* 256, 257: the options templates */
#define TEMPLATE_ID_LAST 65279 /* 65280..65535: exportd's (exportd.h) */
/*
 * Once every id was given, a new record takes back the least recently
 * used id of a record that ran in none of the last TEMPLATE_REUSE_AFTER
 * revisions (the running one among them): its templates were replaced
 * long ago, no batch of those generations is still in flight, and
 * exportd sends the new template at once when the plan changes it.
 */
#define TEMPLATE_REUSE_AFTER 16

struct store {
	sqlite3 *db;
	char path[1024];
	dev_t dev; /* the file we opened, to notice it deleted or replaced */
	ino_t ino;
};

/* slots.c: a slot whose sampled published no stats this long is not
 * connected (so a sample late by an interval or two on a loaded host is
 * no disconnection) */
#define SLOT_SILENT_INTERVALS 3
#define SLOT_SILENT_MIN_MS 3000

struct slot_live {
	int64_t mono_ms; /* the last sample came (monotonic) */
	int64_t wall_ms; /* the same, as the wall clock read it; 0: never */
	int connected;
};

struct cfgd {
	struct store st;
	struct bus_endpoints ep;
	void *ctx;
	void *control; /* REP */
	void *pub;     /* PUB plan */
	void *xsub;    /* stats proxy */
	void *xpub;
	Netstream__Plan *plan; /* the running plan, NULL before any commit */
	uint64_t counters[16];
	uint64_t bad[BUS_ERR_MAX];
	int lock_fd; /* RUN_DIR/cfgd.lock, flock'ed while we run */
	uint64_t gen_high; /* highest generation ever published here */
	const char *config_file; /* -c: committed again on SIGHUP; or NULL */
	struct slot_live live[256]; /* by slot id (PLAN_SLOT_MAX) */
};

#define CFGD_LOCK_FILE "cfgd.lock"
#define CFGD_GEN_FILE "cfgd.generation"

enum cfgd_counter {
	C_REQUESTS,
	C_COMMITS,
	C_REJECTED,
	C_ROLLBACKS,
	C_PUBLISHED,
	C_STORE_ERRORS,
	C_STATS_FORWARDED,
	C_MAX
};

/* store.c */
#define DAMAGED_WAY_OUT                                                   \
	"; the database is damaged: stop cfgd, move it aside (with its "   \
	"-wal and -shm files) and restore a backup, or start cfgd on a "   \
	"new database and commit the config again"
int store_open(struct store *st, const char *path, char *err, size_t errlen);
void store_close(struct store *st);
int store_same_file(struct store *st, char *err, size_t errlen);
int store_commit(struct store *st, Netstream__Plan *plan, uint64_t min_gen,
    const char *source, const char *author, const char *comment, char *err,
    size_t errlen);
int store_load(struct store *st, uint64_t rev, Netstream__Plan **plan,
    char **source, char *err, size_t errlen);
int store_latest(struct store *st, uint64_t *rev, char *err, size_t errlen);
int store_history(struct store *st, Netstream__RevisionInfo ***out,
    size_t *n, char *err, size_t errlen);

/* control.c */
void control_handle(struct cfgd *c);
int cfgd_reserve_generation(struct cfgd *c, uint64_t gen, char *err,
    size_t errlen);
void cfgd_publish(struct cfgd *c);
void cfgd_reload(struct cfgd *c);

/* stats_proxy.c */
void stats_forward(void *from, void *to, uint64_t *count, char *first,
    size_t firstlen);
void cfgd_publish_stats(struct cfgd *c);

/* slots.c */
void slots_seen(struct cfgd *c, const char *topic);
void slots_check(struct cfgd *c);
void slots_stats(struct cfgd *c, Netstream__Stats *s);

#endif
