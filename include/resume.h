/*
 * resume.h: what a sampled that is killed leaves for the one that takes
 * its place (RUN_DIR/sampled-SLOT.state, a file mapped shared, so every
 * store outlives a kill -9): how far each capture file was read and
 * accounted, what went into the caches, and what was handed over to
 * exportd, batch by batch. The next sampled goes on after the last packet
 * accounted (nothing is read twice, so nothing is exported twice) and
 * counts what the dead one had and exportd never exported: lost.
 */
#ifndef NS_RESUME_H
#define NS_RESUME_H

#include <stdint.h>
#include <sys/stat.h>

#define RS_MAGIC "NSSDST01"
#define RS_CAPS 64	 /* capture files of a slot that can be resumed */
#define RS_RING 65536	 /* batches held unacknowledged, at most */
#define RS_NAME 64
#define RS_SOURCE 1024
#define RS_WORKERS 64	 /* capture workers of a slot (CONF_WORKERS_MAX) */
#define RS_VERSION 2

/* a capture file: identity, and how far its packets are accounted */
struct rs_cap {
	char name[RS_NAME];	/* the interface */
	char source[RS_SOURCE]; /* the file */
	uint64_t dev, ino, size, mtime_ns;
	uint64_t applied; /* packets of the file (from 1) accounted */
	uint32_t used;
};

/* totals handed over through a batch's seq */
struct rs_ent {
	uint64_t seq, flows, packets;
};

struct rs_totals {
	uint64_t packets, flows;
};

/* a capture worker's (workers.c): stored by its thread, as it counts */
struct rs_worker {
	struct rs_totals counted, settled;
};

struct rs_file {
	char magic[8];
	uint32_t version, slot;
	uint32_t alive; /* a sampled runs on it; 0: it exited cleanly */
	uint32_t live; /* it counted packets of a live device */
	uint64_t epoch; /* its hand-over sender */
	uint64_t acked; /* the last seq exportd acknowledged to it */
	struct rs_totals counted; /* into its caches (flows created) */
	struct rs_totals settled; /* aged with nowhere to go (no host), or
				   * counted lost already (records_lost) */
	struct rs_totals pushed;  /* handed over, through the last seq */
	struct rs_totals lost;	  /* of the sampleds before, carried */
	/* the running capture workers' own counts; their batches are in
	 * pushed once the main thread hands them over */
	struct rs_worker wk[RS_WORKERS];
	struct rs_cap cap[RS_CAPS];
	struct rs_ent ring[RS_RING]; /* by seq % RS_RING */
};

/* what resume_take found of a dead sampled */
struct rs_dead {
	int found;
	int live; /* it counted packets of a live device */
	uint64_t epoch, acked;
	struct rs_totals counted, settled, lost_before; /* with its workers' */
};

/* resume.c */
struct rs_file *resume_open(const char *run_dir, unsigned slot,
    struct rs_dead *dead, char *err, size_t errlen);
int resume_settle(struct rs_file *rs, const struct rs_dead *dead,
    uint64_t acked_final, struct rs_totals *lost);
void resume_begin(struct rs_file *rs, uint64_t epoch,
    const struct rs_totals *lost_total);
int resume_cap(struct rs_file *rs, const char *name, const char *source,
    const struct stat *st);
void resume_worker_fold(struct rs_file *rs, unsigned i,
    struct rs_totals *counted, struct rs_totals *settled);
void resume_close(struct rs_file *rs, const char *run_dir, unsigned slot);

#endif
